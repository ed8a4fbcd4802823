"""Promotions over smart HTTP (git http-backend, Basic auth): credentials, the
sentinel-token audit, partial clone."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.configrepo import EXAMPLE, example_copy, heads, show
from support.gitserver import GitServer

from promoter.errors import AuthError, InputError
from promoter.promote import Request, promote

SENTINEL = "SENTINEL-tok-7f3a9c2e"
USER = "x-access-token"
STAGING = "apps/api/overlays/staging/kustomization.yaml"


@pytest.fixture
def server(tmp_path: Path) -> GitServer:
    with GitServer(tmp_path / "srv", USER, SENTINEL) as srv:
        srv.create("config", example_copy(tmp_path / "tree"))
        yield srv


def _git_wrapper(directory: Path, log: Path) -> Path:
    """A ``git`` first on PATH that logs its argv and, after running, the
    .git/config of the directory it ran in."""
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True,
                          check=True).stdout.strip()
    directory.mkdir()
    wrapper = directory / "git"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'printf "argv: %s\\n" "$*" >> "{log}"\n'
        f'"{real}" "$@"\nstatus=$?\n'
        f'[ -f .git/config ] && cat .git/config >> "{log}"\n'
        "exit $status\n"
    )
    wrapper.chmod(0o755)
    return directory


def test_sentinel_token_appears_nowhere(server: GitServer, tmp_path: Path) -> None:
    log = tmp_path / "git.log"
    bindir = _git_wrapper(tmp_path / "bin", log)
    env = {**os.environ, "PROMOTER_TOKEN": SENTINEL, "PATH": f"{bindir}:{os.environ['PATH']}"}
    result = subprocess.run(
        [sys.executable, "-m", "promoter", "--verbose", "promote", "--repo",
         server.url("config"), "--app", "api", "--env", "staging",
         "--image", "ghcr.io/acme/api:1.5.0", "--output", "json"],
        capture_output=True, text=True, env=env, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert '"operation": "created"' in result.stdout
    audit = log.read_text()
    assert audit.count("argv: ") > 4 and "[remote \"origin\"]" in audit
    encoded = base64.b64encode(f"{USER}:{SENTINEL}".encode()).decode()
    for text in (result.stdout, result.stderr, audit):
        assert SENTINEL not in text and encoded not in text
    # git sends the token when the origin asks for it (401): each request is either
    # authorized or carried no credentials at all, and the push was authorized
    assert all(r.authorized or r.user is None for r in server.requests)
    assert any(r.service == "git-receive-pack" and r.authorized for r in server.requests)
    assert "promoter/staging/api" in heads(server.path("config"))


def test_wrong_password_is_an_auth_error_and_pushes_nothing(server: GitServer) -> None:
    with pytest.raises(AuthError) as caught:
        promote(Request(repo=server.url("config"), app="api", env="staging",
                        image="ghcr.io/acme/api:1.5.0"), {"PROMOTER_TOKEN": "wrong-password"})
    assert caught.value.exit_code == 3 and "wrong-password" not in caught.value.message
    assert list(heads(server.path("config"))) == ["main"]


def test_missing_token_is_an_auth_error(server: GitServer) -> None:
    with pytest.raises(AuthError, match="PROMOTER_TOKEN"):
        promote(Request(repo=server.url("config"), app="api", env="staging",
                        image="ghcr.io/acme/api:1.5.0"), {})


def test_unreachable_remote_is_an_input_error(server: GitServer) -> None:
    url = server.url("config")
    server.stop()
    with pytest.raises(InputError, match="check --repo"):
        promote(Request(repo=url, app="api", env="staging", image="ghcr.io/acme/api:1.5.0"),
                {"PROMOTER_TOKEN": SENTINEL})


@pytest.mark.parametrize("variable", ["GITHUB_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN"])
def test_fallback_token_variables_reach_git(tmp_path: Path, variable: str) -> None:
    user = {"GITHUB_TOKEN": USER, "GITLAB_TOKEN": "oauth2", "CI_JOB_TOKEN": "gitlab-ci-token"}
    with GitServer(tmp_path / "srv", user[variable], "t0ken") as srv:
        srv.create("config", EXAMPLE)
        result = promote(Request(repo=srv.url("config"), app="web", env="staging",
                                 image="ghcr.io/acme/web:2.8.0"), {variable: "t0ken"})
    assert result.operation == "created"
    assert {r.user for r in srv.requests} - {None} == {user[variable]}
    assert all(r.authorized or r.user is None for r in srv.requests)


def test_server_without_partial_clone_still_promotes(tmp_path: Path) -> None:
    with GitServer(tmp_path / "srv", USER, SENTINEL, allow_filter=False) as srv:
        srv.create("config", EXAMPLE)
        result = promote(Request(repo=srv.url("config"), app="api", env="production",
                                 image="ghcr.io/acme/api:1.5.0"), {"PROMOTER_TOKEN": SENTINEL})
        assert result.operation == "created"
        assert 'newTag: "1.5.0"' in show(
            srv.path("config"), "promoter/production/api",
            "apps/api/overlays/production/kustomization.yaml")
