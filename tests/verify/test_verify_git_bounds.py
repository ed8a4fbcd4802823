"""``promoter verify --repo URL`` clones the config repository for its ancestry
checks (and fetches again when the cluster names a commit it does not know):
those git commands are bounded like every other network path. A git server
that stalls ends the run with exit 5 within ``--timeout``, not never."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import verify_objects as o
from fakes.kube_server import FakeKube
from support.configrepo import example_copy
from support.gitserver import GitServer

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"


@pytest.mark.parametrize("stage", ["GET git-upload-pack", "POST git-upload-pack"])
def test_a_stalling_git_server_ends_verify_with_exit_5(
    kube: FakeKube, tmp_path: Path, stage: str
) -> None:
    kube.apply(o.application(SHA))
    with GitServer(tmp_path / "srv") as server:
        server.create("config", example_copy(tmp_path / "tree"))
        server.modes[stage] = "stall"
        env = {**os.environ, "PROMOTER_KUBECONFIG": kube.kubeconfig()}
        try:
            done = subprocess.run(
                [sys.executable, "-m", "promoter", "verify", "--repo", server.url("config"),
                 "--argocd-app", "api", "--revision", SHA, "--timeout", "2s",
                 "--settle", "0s"],
                capture_output=True, text=True, env=env, check=False, timeout=40)
        except subprocess.TimeoutExpired:
            pytest.fail("promoter verify hung on a stalled git server past --timeout 2s")
        assert server.stalled.is_set(), "git never reached the stalled request"
    assert done.returncode == 5, done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
