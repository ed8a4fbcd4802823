"""The macOS subset: tests that run Linux-only tools carry the ``linux_tools``
marker (tests/support/linux_tools.py), the macOS CI job deselects exactly that
marker, and what remains passes on a PATH without those tools."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from ci_support import BIN, ROOT
from support import linux_tools
from support.registry import tool


@dataclass
class FakeItem:
    nodeid: str
    fixturenames: list[str]
    markers: set[str] = field(default_factory=set)

    def get_closest_marker(self, name: str) -> object | None:
        return name if name in self.markers else None


def test_a_test_using_a_registry_fixture_without_the_marker_is_named() -> None:
    items = [FakeItem("a.py::uses", ["tmp_path", "registry"]),
             FakeItem("a.py::marked", ["token_registry"], {"linux_tools"}),
             FakeItem("a.py::plain", ["tmp_path"])]
    assert linux_tools.unmarked(items) == ["a.py::uses"]


def test_starting_a_linux_tool_from_an_unmarked_test_fails_it() -> None:
    """This test has no marker: the registry helper refuses before it looks for
    docker-registry, on any machine."""
    with pytest.raises(pytest.fail.Exception, match=r"runs docker-registry, a Linux-only tool, "
                                                    r"without @pytest.mark.linux_tools"):
        tool("docker-registry")


@pytest.mark.linux_tools
def test_a_marked_test_may_start_them() -> None:
    linux_tools.check("skopeo")  # no failure


SELF = "test_the_subset_passes_without_the_linux_tools"


def test_the_subset_passes_without_the_linux_tools(tmp_path: Path) -> None:
    """What macOS runs of the directories that hold such tests, on a PATH that has
    git and this venv but none of the Linux tools: all pass, the rest deselected."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("git", "ssh-keygen", "gpg"):
        found = shutil.which(name)
        assert found, f"{name} is needed on this machine to build the child's PATH"
        (bindir / name).symlink_to(found)
    assert not any(shutil.which(t, path=f"{BIN}{os.pathsep}{bindir}")
                   for t in linux_tools.TOOLS)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-m", "not linux_tools", "tests/ci/test_image.py", "tests/ci/test_linux_tools.py",
         "tests/registry",  # registry's conftest last: its modules import from it
         "--deselect", f"tests/ci/test_linux_tools.py::{SELF}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{bindir}"},
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    summary = out.strip().splitlines()[-1]
    assert " passed" in summary and " deselected" in summary, summary
    assert "failed" not in summary and "error" not in summary and "skipped" not in summary
