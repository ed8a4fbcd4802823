"""A runner test whose tool is missing fails with one line; it never skips.

Runs the GitLab runner test in a child pytest whose PATH lacks a tool, and
reads the child's verdict: an error naming the tool, nothing skipped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ci_support import ROOT

TEST = "tests/ci/test_gitlab_runner.py::test_template_job_failure_still_reports"


def child_pytest(path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": str(path)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-rfEs", TEST],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=120,
    )


@pytest.mark.parametrize(
    ("tools", "named"),
    [(("git",), "node and npm"), (("git", "node", "npm"), "rsync")],
)
def test_a_missing_runner_tool_fails_the_test(
    tmp_path: Path, tools: tuple[str, ...], named: str,
) -> None:
    for tool in tools:
        found = shutil.which(tool)
        assert found, f"{tool} is needed on this machine to build the PATH of the child"
        (tmp_path / tool).symlink_to(found)
    done = child_pytest(tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "1 error" in out and "skipped" not in out, out
    lines = [line for line in out.splitlines() if f"missing tool: {named}" in line]
    assert lines, out
