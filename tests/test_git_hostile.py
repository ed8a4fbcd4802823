"""Real git against a hostile git server (git http-backend wrapped to stall,
trickle, fail, answer HTML or hang up after a push): bounded by --network-timeout and
git's low-speed limits, with exit codes that say what happened."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.configrepo import example_copy, heads
from support.gitserver import GitServer

from promoter.errors import InputError, PromoterError, WaitTimeout
from promoter.promote import Request, promote

SENTINEL = "SENTINEL-git-91b4"
USER = "x-access-token"
IMAGE = "ghcr.io/acme/api:1.5.0"
ENV = {"PROMOTER_TOKEN": SENTINEL}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GitServer]:
    with GitServer(tmp_path / "srv", USER, SENTINEL) as srv:
        srv.create("config", example_copy(tmp_path / "tree"))
        yield srv


def request(server: GitServer, **kw: object) -> Request:
    fields: dict[str, object] = {"image": IMAGE, **kw}
    return Request(repo=server.url("config"), app="api", env="staging",
                   **fields)  # type: ignore[arg-type]


def failed(server: GitServer, environ: dict[str, str] | None = None,
           **kw: object) -> PromoterError:
    with pytest.raises(PromoterError) as caught:
        promote(request(server, **kw), environ or ENV)
    assert SENTINEL not in caught.value.message and "\n" not in caught.value.message
    return caught.value


@pytest.mark.parametrize("stage", ["GET git-upload-pack", "POST git-upload-pack",
                                   "GET git-receive-pack", "POST git-receive-pack"])
def test_a_stalling_server_is_cut_off_at_the_timeout(server: GitServer, stage: str) -> None:
    server.modes[stage] = "stall"
    error = failed(server, network_timeout=2.0)
    assert isinstance(error, WaitTimeout) and "--network-timeout" in error.message, error
    assert list(heads(server.path("config"))) == ["main"]


def test_a_trickling_server_is_cut_off_by_the_low_speed_limit(
    server: GitServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_HTTP_LOW_SPEED_TIME", "1")  # git's own variable, kept
    server.modes["GET git-upload-pack"] = "trickle"
    error = failed(server)
    assert isinstance(error, WaitTimeout) and "too slow" in error.message.lower(), error


@pytest.mark.parametrize("stage", ["GET git-upload-pack", "POST git-upload-pack",
                                   "GET git-receive-pack", "POST git-receive-pack"])
def test_a_server_error_is_exit_1_wherever_it_happens(server: GitServer, stage: str) -> None:
    server.modes[stage] = "500"
    error = failed(server)
    assert type(error) is PromoterError and "500" in error.message, error
    assert "try again later" in error.message


def test_a_server_error_while_fetching_the_branch_is_exit_1_too(server: GitServer) -> None:
    promote(request(server), ENV)  # the branch exists now: the next run fetches it
    server.counts.clear()
    promote(request(server, direct=True, dry_run=True), ENV)  # a clone, no branch fetch
    clone = server.counts["POST git-upload-pack"]
    server.counts.clear()
    server.modes["POST git-upload-pack"] = f"500 after {clone}"  # the branch fetch fails
    error = failed(server, image="ghcr.io/acme/api:1.6.0")
    assert type(error) is PromoterError and "500" in error.message, error
    assert "fetch" in error.message


def test_an_html_page_is_not_a_git_repository(server: GitServer) -> None:
    server.modes["*"] = "html"
    error = failed(server)
    assert isinstance(error, InputError) and "not a git server" in error.message, error
    assert "no commits" not in error.message


def test_a_direct_push_that_landed_before_the_connection_dropped_is_a_success(
    server: GitServer
) -> None:
    server.modes["POST git-receive-pack"] = "drop"
    result = promote(request(server, direct=True), ENV)
    assert result.operation == "pushed" and result.commit is not None
    assert heads(server.path("config"))["main"] == result.commit


def test_a_direct_push_that_did_not_land_is_still_a_failure(server: GitServer) -> None:
    server.modes["POST git-receive-pack"] = "500"
    failed(server, direct=True)
    assert len(heads(server.path("config"))) == 1


def test_a_redirect_to_another_origin_is_refused_and_gets_no_token(server: GitServer) -> None:
    from support.hostile import HostileServer, redirect

    with HostileServer() as front:
        front.reply = redirect(server.base_url, 302)
        with pytest.raises(InputError, match="another origin") as caught:
            promote(Request(repo=front.url + "/config.git", app="api", env="staging",
                            image=IMAGE), ENV)
    assert SENTINEL not in caught.value.message
    assert all(r.user is None for r in server.requests)  # git followed, but without the token
    assert list(heads(server.path("config"))) == ["main"]


def test_a_redirect_to_an_open_server_elsewhere_is_refused_too(tmp_path: Path) -> None:
    from support.hostile import HostileServer, redirect

    with GitServer(tmp_path / "open") as elsewhere, HostileServer() as front:
        elsewhere.create("config", example_copy(tmp_path / "tree2"))
        front.reply = redirect(elsewhere.base_url, 301)
        with pytest.raises(InputError, match="another origin"):
            promote(Request(repo=front.url + "/config.git", app="api", env="staging",
                            image=IMAGE, direct=True), ENV)
        assert list(heads(elsewhere.path("config"))) == ["main"]
        assert not any(r.service == "git-receive-pack" for r in elsewhere.requests)


def test_ssl_cert_file_is_the_ca_bundle_for_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from support.tls import self_signed

    cert, key, _ = self_signed(tmp_path)
    monkeypatch.delenv("GIT_SSL_CAINFO", raising=False)
    with GitServer(tmp_path / "tls", USER, SENTINEL, tls=(cert, key)) as srv:
        srv.create("config", example_copy(tmp_path / "tree2"))
        with pytest.raises(InputError, match="SSL_CERT_FILE") as caught:
            promote(request(srv), ENV)
        assert "certificate" in caught.value.message
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        assert promote(request(srv), ENV).operation == "created"


def test_the_cli_timeout_bounds_a_stalled_clone_and_leaves_no_clone(
    server: GitServer, tmp_path: Path
) -> None:
    server.modes["POST git-upload-pack"] = "stall"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, **ENV, "TMPDIR": str(tmp)}
    result = subprocess.run(
        [sys.executable, "-m", "promoter", "promote", "--repo", server.url("config"),
         "--app", "api", "--env", "staging", "--image", IMAGE, "--network-timeout", "2s"],
        capture_output=True, text=True, env=env, check=False, timeout=30,
    )
    assert result.returncode == 5, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert SENTINEL not in result.stdout + result.stderr
    assert list(tmp.iterdir()) == []
    assert tempfile.gettempdir() != str(tmp)
