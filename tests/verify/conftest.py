"""A fake cluster per test, and a runner for ``promoter.verify.run`` against it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.kube_server import FakeKube


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[FakeKube]:
    server = FakeKube(tmp_path)
    yield server
    server.close()
