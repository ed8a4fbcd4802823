"""``promote --verify`` refuses a cluster URL with credentials in it (``--argocd-server
https://user:secret@host``, a kubeconfig whose server URL carries them) with its
input checks, before the clone: exit 2, the git server gets no request (so nothing
is pushed, no pull request opened, nothing merged), and the secret appears in no
output. The check is verify's own (``promoter.verify.cluster.Cluster.check``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.configrepo import example_copy, heads
from support.gitserver import GitServer

SECRET = "hunter2-cluster-secret"
IMAGE = "ghcr.io/acme/api:1.5.0"

KUBECONFIG = f"""\
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://admin:{SECRET}@127.0.0.1:1
contexts:
- name: c
  context: {{cluster: c, user: u}}
current-context: c
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: /bin/false-never-run
      interactiveMode: Never
"""


def _promote(server: GitServer, *extra: str, app: str = "api"
             ) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "promoter", "promote", "--repo", server.url("acme/config"),
            "--app", app, "--env", "production", "--image", IMAGE, "--direct", "--verify",
            "--timeout", "5s", *extra]
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60,
                          env=_environ())


def _environ() -> dict[str, str]:
    """The test's environment without the user's cluster or token settings."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("PROMOTER_") and k != "KUBECONFIG"}


def _refused(done: subprocess.CompletedProcess[str], server: GitServer, bare: Path) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert server.requests == [], "the refusal came after the clone"
    assert list(heads(bare)) == ["main"]


@pytest.mark.parametrize("server_url", [f"https://admin:{SECRET}@127.0.0.1:1",
                                        f"https://{SECRET}@127.0.0.1:1",
                                        f"admin:{SECRET}@127.0.0.1:1"])
def test_an_argocd_server_with_credentials_is_refused_before_the_clone(
        tmp_path: Path, server_url: str) -> None:
    with GitServer(tmp_path / "srv") as server:
        bare = server.create("acme/config", example_copy(tmp_path / "tree"))
        done = _promote(server, "--argocd-server", server_url, "--argocd-token", "t0k")
        _refused(done, server, bare)
    assert "--argocd-server" in done.stderr and "carries credentials" in done.stderr


def test_a_kubeconfig_server_with_credentials_is_refused_before_the_clone(
        tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    with GitServer(tmp_path / "srv") as server:
        bare = server.create("acme/config", example_copy(tmp_path / "tree"))
        done = _promote(server, "--kubeconfig", str(kubeconfig))
        _refused(done, server, bare)
    assert f"kubeconfig {kubeconfig}: server" in done.stderr, done.stderr


def test_a_kubeconfig_is_not_required_before_the_clone(tmp_path: Path) -> None:
    """With --argocd-server the kubeconfig may go unused: a missing one is no input
    error before the clone (here the clone goes ahead and the unknown app ends it)."""
    with GitServer(tmp_path / "srv") as server:
        server.create("acme/config", example_copy(tmp_path / "tree"))
        done = _promote(server, "--kubeconfig", str(tmp_path / "missing"),
                        "--argocd-server", "http://127.0.0.1:1", "--argocd-token", "t0k",
                        app="nosuch")
        assert server.requests, done.stderr
    assert done.returncode == 2 and "nosuch" in done.stderr, done.stderr
