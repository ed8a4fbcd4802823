"""One parser of repository URLs (promoter.remote.parse), and what is built on
it: the forge's host and slug, git's credential origin, the config repository
as Argo CD names it."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoter import git_remote, remote
from promoter.remote import RepoUrl


@pytest.mark.parametrize(("url", "parsed"), [
    ("https://github.com/acme/config.git",
     RepoUrl("https", "github.com", "", "/acme/config.git")),
    ("https://bot:secret@GitHub.com:8443/acme/config/",
     RepoUrl("https", "github.com", "8443", "/acme/config/", "bot:secret")),
    ("ssh://git@gitlab.example.com:2222/acme/infra/config.git",
     RepoUrl("ssh", "gitlab.example.com", "2222", "/acme/infra/config.git", "git")),
    ("git@GitHub.com:acme/config.git", RepoUrl("scp", "github.com", "", "acme/config.git", "git")),
    ("host.example:/srv/git/config.git", RepoUrl("scp", "host.example", "", "/srv/git/config.git")),
    ("http://[::1]:8080/config.git", RepoUrl("http", "[::1]", "8080", "/config.git")),
    ("https://github.com/acme/config.git?ref=main#top",
     RepoUrl("https", "github.com", "", "/acme/config.git")),
    ("file:///srv/git/config.git", RepoUrl("file", "", "", "/srv/git/config.git")),
    ("/srv/git/config.git", RepoUrl("", "", "", "/srv/git/config.git")),
    ("../config", RepoUrl("", "", "", "../config")),
])
def test_parse(url: str, parsed: RepoUrl) -> None:
    assert remote.parse(url) == parsed


@pytest.mark.parametrize("url", [
    "https://github.com/acme/config", "https://GITHUB.com/acme/config.git/",
    "git@github.com:acme/config.git", "http://github.com/acme/config",
    "ssh://git@github.com:22/acme/config.git", "https://bot:secret@github.com/acme/config",
    "  git@github.com:/acme/config.git/ ", "https://github.com:443/acme/config",
])
def test_every_form_of_one_repository_normalises_alike(url: str) -> None:
    assert remote.normalize_repo_url(url) == "github.com/acme/config"
    assert remote.same_repo(url, "https://github.com/acme/config.git")


def test_normalised_local_paths_and_other_repositories() -> None:
    assert remote.normalize_repo_url("file:///srv/git/config.git/") == "/srv/git/config"
    assert remote.normalize_repo_url("/srv/git/config.git") == "/srv/git/config"
    assert not remote.same_repo("https://github.com/acme/config", "https://github.com/acme/charts")
    assert not remote.same_repo("https://github.com/acme/config", None)
    assert not remote.same_repo(None, None)


@pytest.mark.parametrize(("url", "origin"), [
    ("https://github.com/acme/config.git", "https://github.com/"),
    ("https://bot@git.example.com:8443/acme/config", "https://git.example.com:8443/"),
    ("http://127.0.0.1:9418/repo.git", "http://127.0.0.1:9418/"),
    ("http://[::1]:8080/repo.git", "http://[::1]:8080/"),
    ("ssh://git@github.com/acme/config.git", None),
    ("git@github.com:acme/config.git", None),
    ("file:///srv/git/config.git", None),
])
def test_git_sends_credentials_to_the_http_origin_only(url: str, origin: str | None) -> None:
    assert git_remote.http_origin(url) == origin


@pytest.mark.parametrize(("repo", "host", "slug"), [
    ("https://github.com/acme/config.git/", "github.com", "acme/config"),
    ("git@GitHub.com:acme/config.git", "github.com", "acme/config"),
    ("git@git.example.com:/srv/acme/config.git", "git.example.com", "srv/acme/config"),
    ("ssh://git@gitlab.com:2222/acme/infra/config", "gitlab.com", "acme/infra/config"),
    ("file:///srv/git/config.git", None, "srv/git/config"),
])
def test_host_and_slug(repo: str, host: str | None, slug: str) -> None:
    assert remote.host(repo) == host and remote.slug(repo) == slug


def test_the_case_of_the_host_does_not_change_the_forge() -> None:
    assert remote.infer_forge("git@GitHub.com:acme/config.git", {}) == "github"
    assert remote.infer_forge("https://GitLab.com/acme/config", {}) == "gitlab"


def test_an_existing_directory_that_looks_scp_like_is_a_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "host:config").mkdir()
    monkeypatch.chdir(tmp_path)
    assert remote.host("host:config") is None and remote.slug("host:config") is None
    assert remote.git_url("host:config") == (tmp_path / "host:config").as_uri()
    assert remote.git_url("git@host.example:/srv/config.git") == "git@host.example:/srv/config.git"


def test_image_source_labels_read_scp_like_remotes_through_the_same_parser() -> None:
    from promoter.registry import labels

    assert labels.source_url("git@GitHub.com:acme/api.git") == "https://github.com/acme/api"
    assert labels.source_url("javascript:alert") is None
    assert labels.source_url("bot@github.com:acme/api") is None
    assert labels.compare_url("https://GitHub.com/acme/api", "a", "b") == (
        "https://GitHub.com/acme/api/compare/a...b")
