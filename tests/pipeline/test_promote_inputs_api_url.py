"""``--api-url`` (the forge API: GitHub Enterprise, self-managed GitLab) with
credentials in it (``https://user:secret@host``) is refused before any request to
the forge: ``promote`` with its input checks, before the clone (the git server
gets no request, nothing is pushed); ``status --deployments`` before it connects
to the forge. Exit 2, one line, the secret in no output."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from support.configrepo import example_copy, heads
from support.gitserver import GitServer
from support.loopback import connections

SECRET = "ghp-api-url-secret-0815"
TOKEN = "the-real-token"
IMAGE = "ghcr.io/acme/api:1.5.0"


def _run(*argv: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMOTER_", "GITHUB_",
                                                                      "GITLAB_", "CI_"))}
    return subprocess.run([sys.executable, "-m", "promoter", *argv], capture_output=True,
                          text=True, check=False, timeout=60,
                          env={**env, **(extra or {}), "PROMOTER_TOKEN": TOKEN})


def _refused(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: --api-url https://***@127.0.0.1/... carries "
                                  "credentials;"), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert SECRET not in done.stdout + done.stderr


USERINFO = [f"x-access-token:{SECRET}", SECRET]


@pytest.mark.parametrize("forge", ["github", "gitlab"])
@pytest.mark.parametrize("userinfo", USERINFO)
def test_promote_refuses_an_api_url_with_credentials_before_the_clone(
        tmp_path: Path, listener: socket.socket, forge: str, userinfo: str) -> None:
    port = listener.getsockname()[1]
    with GitServer(tmp_path / "srv") as server:
        bare = server.create("acme/config", example_copy(tmp_path / "tree"))
        done = _run("promote", "--repo", server.url("acme/config"), "--app", "api",
                    "--env", "staging", "--image", IMAGE, "--forge", forge,
                    "--api-url", f"https://{userinfo}@127.0.0.1:{port}/api/v3")
        assert server.requests == [], "the refusal came after the clone"
    _refused(done)
    assert connections(listener) == 0
    assert list(heads(bare)) == ["main"]


def test_status_deployments_refuses_an_api_url_with_credentials_before_the_forge(
        tmp_path: Path, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    with GitServer(tmp_path / "srv") as server:
        server.create("acme/config", example_copy(tmp_path / "tree"))
        done = _run("status", "--repo", server.url("acme/config"), "--deployments",
                    "--forge", "github",
                    "--api-url", f"https://x-access-token:{SECRET}@127.0.0.1:{port}/api/v3")
    _refused(done)
    assert connections(listener) == 0


@pytest.mark.parametrize(("forge", "server_var", "api_var"), [
    ("github", "GITHUB_SERVER_URL", "GITHUB_API_URL"),
    ("gitlab", "CI_SERVER_URL", "CI_SERVER_URL"),
])
def test_promote_refuses_a_ci_api_url_with_credentials_before_the_clone(
        tmp_path: Path, listener: socket.socket, forge: str, server_var: str,
        api_var: str) -> None:
    """The API URL the CI's environment gives (no ``--api-url``) is held to the
    same rule: its credentials would reach the SDK's URL and its errors."""
    port = listener.getsockname()[1]
    api = f"https://x-access-token:{SECRET}@127.0.0.1:{port}"
    with GitServer(tmp_path / "srv") as server:
        bare = server.create("acme/config", example_copy(tmp_path / "tree"))
        env = {server_var: f"http://127.0.0.1:{port}", api_var: api}
        done = _run("promote", "--repo", server.url("acme/config"), "--app", "api",
                    "--env", "staging", "--image", IMAGE, "--forge", forge, extra=env)
        assert server.requests == [], "the refusal came after the clone"
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: {api_var} https://***@127.0.0.1/... carries "
                                  "credentials;"), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert connections(listener) == 0
    assert list(heads(bare)) == ["main"]
