"""A signal after the push: SIGTERM or SIGINT while promoter waits on the git
server after pushing its branch. The run exits 1 promptly, and the record it
promises (``--output json``: one record on every run, a failed one too) still
comes, saying what was already pushed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support.configrepo import example_copy, heads
from support.gitserver import GitServer

BRANCH = "promoter/staging/api"


def promote_until_stalled(server: GitServer) -> subprocess.Popen[str]:
    """``promote --output json`` against ``server``, once it holds a stalled request."""
    process = subprocess.Popen(
        [sys.executable, "-m", "promoter", "promote", "--repo", server.url("config"),
         "--app", "api", "--env", "staging", "--image", "ghcr.io/acme/api:1.5.0",
         "--output", "json", "--timeout", "60s"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    assert server.stalled.wait(20), "promoter never reached the stalled request"
    return process


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_after_the_push_still_prints_the_failed_record(
    tmp_path: Path, signum: int
) -> None:
    with GitServer(tmp_path / "srv") as server:
        server.create("config", example_copy(tmp_path / "tree"))
        # the clone and the branch lookup go through; the read-back after the push stalls
        server.modes["GET git-upload-pack"] = "stall after push"
        process = promote_until_stalled(server)
        pushed = heads(server.path("config")).get(BRANCH)
        assert pushed is not None, "the stall came before the push: the test proves nothing"
        process.send_signal(signum)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 1, err
    assert err.startswith("error: interrupted") and err.count("\n") == 1, err
    record = json.loads(out)
    assert (record["operation"], record["exit_code"]) == ("failed", 1)
    assert record["error"].startswith(f"interrupted by {signal.Signals(signum).name}")
    assert (record["branch"], record["commit"]) == (BRANCH, pushed)


def test_a_signal_before_the_push_prints_one_failed_record_and_pushes_nothing(
    tmp_path: Path,
) -> None:
    with GitServer(tmp_path / "srv") as server:
        server.create("config", example_copy(tmp_path / "tree"))
        server.modes["POST git-upload-pack"] = "stall"  # the clone
        process = promote_until_stalled(server)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
        assert list(heads(server.path("config"))) == ["main"]
    assert process.returncode == 1, err
    record = json.loads(out)
    assert (record["operation"], record["exit_code"], record["commit"]) == ("failed", 1, None)
    assert record["error"].startswith("interrupted by SIGTERM")
