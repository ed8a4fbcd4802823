"""A fake cluster per test, and a runner for ``promoter.verify.run`` against it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.kube_server import FakeKube


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[FakeKube]:
    """The fake cluster; a field a client wrote that the schema lacks fails the test
    (a real API server would drop it silently)."""
    server = FakeKube(tmp_path)
    yield server
    server.close()
    assert not server.store.pruned, f"fields pruned by the API server: {server.store.pruned}"
