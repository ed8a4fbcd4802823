"""SIGTERM and SIGINT during ``promoter promote``: the temporary clone and every
git process go, the exit is one line and non-zero, nothing is pushed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support.configrepo import example_copy, heads
from support.gitserver import GitServer

SENTINEL = "SENTINEL-sig-22c7"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("stage", ["POST git-upload-pack", "POST git-receive-pack"])
def test_a_signal_removes_the_temporary_clone(tmp_path: Path, signum: int, stage: str) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    with GitServer(tmp_path / "srv", "x-access-token", SENTINEL) as server:
        server.create("config", example_copy(tmp_path / "tree"))
        server.modes[stage] = "stall"
        env = {**os.environ, "PROMOTER_TOKEN": SENTINEL, "TMPDIR": str(tmp)}
        process = subprocess.Popen(
            [sys.executable, "-m", "promoter", "promote", "--repo", server.url("config"),
             "--app", "api", "--env", "staging", "--image", "ghcr.io/acme/api:1.5.0",
             "--timeout", "60s"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        assert server.stalled.wait(20), "promoter never reached the stalled request"
        assert any(tmp.iterdir())  # the clone is there while git waits
        process.send_signal(signum)
        out, err = process.communicate(timeout=20)
        assert list(heads(server.path("config"))) == ["main"]
    assert process.returncode == 1, err
    assert err.startswith("error: interrupted") and err.count("\n") == 1, err
    assert SENTINEL not in out + err
    assert list(tmp.iterdir()) == []
