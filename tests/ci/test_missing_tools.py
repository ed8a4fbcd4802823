"""A runner test whose tool is missing fails with one line; it never skips.

Runs a runner test (GitLab, image) in a child pytest whose PATH lacks a tool,
and reads the child's verdict: an error or failure naming the tool, nothing
skipped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ci_support import ROOT

GITLAB = "tests/ci/test_gitlab_runner.py::test_template_job_failure_still_reports"
IMAGE = "tests/ci/test_image.py::test_image_builds_pushes_pulls_and_runs_promoter_demo"


def child_pytest(test: str, path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": str(path)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-rfEs", test],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=600,  # a hang guard only
    )


@pytest.mark.parametrize(
    ("test", "tools", "named"),
    [(GITLAB, ("git",), "node and npm"), (GITLAB, ("git", "node", "npm"), "rsync"),
     pytest.param(IMAGE, ("git", "mmdebstrap", "skopeo", "umoci", "docker-registry", "htpasswd"),
                  "the image test needs buildah (apt-get install buildah)",
                  marks=pytest.mark.linux_tools)],
)
def test_a_missing_runner_tool_fails_the_test(
    tmp_path: Path, test: str, tools: tuple[str, ...], named: str,
) -> None:
    for tool in tools:
        found = shutil.which(tool)
        assert found, f"{tool} is needed on this machine to build the PATH of the child"
        (tmp_path / tool).symlink_to(found)
    done = child_pytest(test, tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert ("1 error" in out or "1 failed" in out) and "skipped" not in out, out
    lines = [line for line in out.splitlines() if f"missing tool: {named}" in line]
    assert lines, out
