"""The ``linux_tools`` marker: tests that run Linux-only tools (Debian's
docker-registry, skopeo, htpasswd, mmdebstrap, buildah, umoci). The macOS CI
job deselects them (``-m "not linux_tools"``); it runs everything else.

Two guards keep that subset from drifting (tests/conftest.py wires them):

- collection: a test using a fixture that starts such a tool (``FIXTURES``)
  must carry the marker, or the run stops naming it;
- run time: a test that starts such a tool (tests/support/registry.py's
  ``tool``, tests/ci/image_tools.py's ``require``) without the marker fails.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import pytest

MARKER = "linux_tools"
TOOLS = frozenset({"docker-registry", "skopeo", "htpasswd", "mmdebstrap", "buildah", "umoci"})
FIXTURES = frozenset({"registry", "token_registry"})  # tests/registry/conftest.py


class Item(Protocol):
    nodeid: str
    fixturenames: list[str]

    def get_closest_marker(self, name: str) -> object | None: ...


class _Running:
    item: Item | None = None


running = _Running()


def unmarked(items: Iterable[Item]) -> list[str]:
    """The tests that use a Linux-tool fixture without the marker."""
    return [item.nodeid for item in items
            if FIXTURES & set(item.fixturenames) and item.get_closest_marker(MARKER) is None]


def check(tool: str) -> None:
    """Fail the running test when it starts ``tool`` without the marker."""
    item = running.item
    if tool in TOOLS and item is not None and item.get_closest_marker(MARKER) is None:
        pytest.fail(f"{item.nodeid} runs {tool}, a Linux-only tool, without "
                    f"@pytest.mark.{MARKER}; mark it (the macOS CI job deselects the marker)",
                    pytrace=False)
