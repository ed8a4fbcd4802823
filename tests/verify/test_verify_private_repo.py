"""``promoter verify --repo URL`` clones a private config repository with the
token promote would use for that URL (PROMOTER_TOKEN, GITHUB_TOKEN, ...),
through the same credential helper scoped to the URL's origin: a server that
requires auth lets the clone in with the token, refuses it without one (exit 3,
one line), and an origin the server redirects to never gets the token."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import verify_objects as o
from fakes.kube_server import FakeKube
from support.configrepo import example_copy, heads
from support.gitserver import GitServer
from support.hostile import HostileServer, redirect

from promoter.cli import main
from promoter.credentials import SOURCES

SENTINEL = "SENTINEL-verify-7d2a"
USER = "x-access-token"
WHO = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
       "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def promoter(*argv: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(["verify", *argv])
    return int(exited.value.code or 0)


def later_commit(bare: Path) -> tuple[str, str]:
    """(the first commit, a second commit on top of it) on main of ``bare``."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(bare), *args], check=True, text=True,
                              capture_output=True, env={**os.environ, **WHO}).stdout.strip()

    first = heads(bare)["main"]
    second = git("commit-tree", f"{first}^{{tree}}", "-p", first, "-m", "second")
    git("update-ref", "refs/heads/main", second, first)
    return first, second


@pytest.fixture(autouse=True)
def no_ambient_token(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, _ in SOURCES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("PROMOTER_GIT_USER", raising=False)


def test_verify_clones_a_private_repository_with_the_token(
    kube: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with GitServer(tmp_path / "srv", USER, SENTINEL) as server:
        first, second = later_commit(server.create("config", example_copy(tmp_path / "tree")))
        kube.apply(o.application(second))  # synced a descendant: only ancestry says yes
        monkeypatch.setenv("PROMOTER_TOKEN", SENTINEL)
        code = promoter("--repo", server.url("config"), "--argocd-app", "api", "--revision",
                        first, "--settle", "0s", "--timeout", "20s",
                        "--kubeconfig", kube.kubeconfig())
        fetches = [r for r in server.requests if r.service == "git-upload-pack"]
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "verify: verified" in out
    assert fetches and any(r.authorized for r in fetches)
    assert SENTINEL not in out + err


def test_without_a_token_a_private_repository_is_one_clear_error(
    kube: FakeKube, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    with GitServer(tmp_path / "srv", USER, SENTINEL) as server:
        first = heads(server.create("config", example_copy(tmp_path / "tree")))["main"]
        kube.apply(o.application(first))
        code = promoter("--repo", server.url("config"), "--argocd-app", "api", "--revision",
                        first, "--settle", "0s", "--timeout", "20s",
                        "--kubeconfig", kube.kubeconfig())
        assert server.requests and not any(r.authorized for r in server.requests)
    err = capsys.readouterr().err
    assert code == 3, err
    assert err.count("\n") == 1 and err.startswith("error: cannot clone "), err
    assert "PROMOTER_TOKEN" in err


def test_the_token_never_reaches_the_origin_verify_was_redirected_to(
    kube: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with GitServer(tmp_path / "open") as elsewhere, HostileServer() as front:
        first = heads(elsewhere.create("config", example_copy(tmp_path / "tree")))["main"]
        kube.apply(o.application(first))
        front.reply = redirect(elsewhere.base_url, 301)
        monkeypatch.setenv("PROMOTER_TOKEN", SENTINEL)
        code = promoter("--repo", front.url + "/config.git", "--argocd-app", "api",
                        "--revision", first, "--settle", "0s", "--timeout", "20s",
                        "--kubeconfig", kube.kubeconfig())
    err = capsys.readouterr().err
    assert elsewhere.requests, "git never reached the other origin: the test proves nothing"
    assert [r for r in elsewhere.requests if r.user is not None] == []
    assert code == 2, err
    assert "another origin" in err and SENTINEL not in err
