"""promoter.git (and its helpers credentials.py and remote.py) against real git."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.configrepo import EXAMPLE, bare_from, git
from support.gitserver import GitServer

from promoter import credentials, git_remote, remote
from promoter import git as gitmod
from promoter.errors import AuthError, InputError, PromoterError

TOKEN = "tok-0123456789"


def test_gitserver_requires_basic_auth_and_records_requests(tmp_path: Path) -> None:
    with GitServer(tmp_path / "srv", "bot", "pw") as server:
        server.create("config", EXAMPLE)
        anonymous = gitmod.run(gitmod.Git(), ["ls-remote", server.url("config")], check=False)
        creds = credentials.Credentials("bot", "pw", "PROMOTER_TOKEN")
        session = git_remote.session(server.url("config"), creds)
        refs = gitmod.out(session, ["ls-remote", "--symref", server.url("config"), "HEAD"])
    assert anonymous.returncode != 0
    assert refs.splitlines()[0] == "ref: refs/heads/main\tHEAD"
    assert not server.requests[0].authorized and server.requests[0].user is None
    # the session's first request is challenged (401), then git asks promoter's helper
    assert server.requests[1].user is None and not server.requests[1].authorized
    assert len(server.requests) > 2 and all(r.authorized for r in server.requests[2:])
    assert server.requests[2].user == "bot" and server.requests[2].service == "git-upload-pack"


def test_session_keeps_the_token_in_the_environment_scoped_to_the_origin() -> None:
    creds = credentials.Credentials("x-access-token", TOKEN, "PROMOTER_TOKEN")
    session = git_remote.session("https://git.example.com:8443/acme/config.git", creds)
    keys = {session.env[k] for k in session.env if k.startswith("GIT_CONFIG_KEY_")}
    assert "credential.https://git.example.com:8443/.helper" in keys
    assert not any(key.endswith(".extraHeader") for key in keys)  # it would follow redirects
    assert session.env["PROMOTER_GIT_PASSWORD"] == TOKEN
    assert "credential.helper" in keys
    assert all(TOKEN not in key for key in keys)
    assert git_remote.session("git@github.com:acme/config.git", creds).secrets == ()


def test_with_config_appends_entries_git_reads_later_ones_win(tmp_path: Path) -> None:
    session = git_remote.session("https://git.example.com/acme/config.git", None)
    count = int(session.env["GIT_CONFIG_COUNT"])
    extended = gitmod.with_config(session, [("promoter.probe", "1"), ("promoter.probe", "2")],
                                  {"GNUPGHOME": str(tmp_path)})
    assert extended.env["GIT_CONFIG_COUNT"] == str(count + 2)
    assert extended.env["GNUPGHOME"] == str(tmp_path)
    assert "promoter.probe" not in session.env.values()  # the original is unchanged
    assert gitmod.out(extended, ["config", "--get", "promoter.probe"], tmp_path) == "2"
    assert gitmod.out(extended, ["config", "--get", "credential.helper"], tmp_path) == ""


def test_stripped_environment_drops_inherited_git_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_DIR", "/elsewhere")
    monkeypatch.setenv("GIT_INDEX_FILE", "/elsewhere/index")
    monkeypatch.setenv("GIT_SSL_CAINFO", "/ca.pem")
    env = gitmod.base_env({"GIT_CONFIG_COUNT": "0"})
    assert "GIT_DIR" not in env and "GIT_INDEX_FILE" not in env
    assert env["GIT_SSL_CAINFO"] == "/ca.pem" and env["GIT_TERMINAL_PROMPT"] == "0"


def test_failures_name_the_command_redact_secrets_and_classify() -> None:
    session = gitmod.Git(secrets=(TOKEN,))
    auth = gitmod.failure(session, ["git", "push", "origin"], 128,
                          f"fatal: Authentication failed for token {TOKEN}\n")
    assert isinstance(auth, AuthError) and TOKEN not in auth.message
    assert auth.message.startswith("`git push origin` failed (exit 128): fatal: Authentication")
    missing = gitmod.failure(session, ["git", "clone"], 128,
                             "fatal: repository 'https://x/y.git/' not found\n")
    assert isinstance(missing, InputError)
    other = gitmod.failure(session, ["git", "commit"], 1, "error: something odd\nhint: ignore\n")
    assert type(other) is PromoterError and "hint" not in other.message


def test_clone_is_blobless_shallow_and_sparse(tmp_path: Path) -> None:
    bare = bare_from(EXAMPLE, tmp_path / "remote.git")
    work = tmp_path / "work"
    session = git_remote.session(bare.as_uri(), None)
    git_remote.clone(session, bare.as_uri(), work, "main")
    assert git(work, "config", "remote.origin.partialclonefilter") == "blob:none"
    assert (work / ".git" / "shallow").exists()
    assert (work / ".promoter.yaml").exists() and not (work / "apps").exists()
    gitmod.sparse_set(session, work, ["apps/api/overlays/staging"])
    assert (work / "apps/api/overlays/staging/kustomization.yaml").exists()
    assert not (work / "apps/web").exists()


def test_push_reports_a_lost_race_instead_of_raising(tmp_path: Path) -> None:
    bare = bare_from(EXAMPLE, tmp_path / "remote.git")
    session = git_remote.session(bare.as_uri(), None)
    work = tmp_path / "work"
    git_remote.clone(session, bare.as_uri(), work, "main")
    me = gitmod.Identity("t", "t@example.test")
    (work / "README.md").write_text("changed\n")
    first = gitmod.commit(session, work, ["README.md"], "change\n", me, me)
    assert git_remote.push(session, work, first, "side", "").ok
    (work / "README.md").write_text("changed again\n")
    second = gitmod.commit(session, work, ["README.md"], "again\n", me, me)
    exists = git_remote.push(session, work, second, "side", "")  # lease: must not exist yet
    assert not exists.ok and exists.rejected
    assert git_remote.push(session, work, second, "side", first).ok  # lease matches
    stale = git_remote.push(session, work, first, "side", first)
    assert not stale.ok and stale.rejected
    base = git(bare, "rev-parse", "main")
    behind = git_remote.push(session, work, base, "side", None)  # not a fast-forward
    assert not behind.ok and behind.rejected


def test_blob_id_matches_git() -> None:
    assert gitmod.blob_id(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_credentials_order_and_users() -> None:
    assert credentials.from_env({}) is None
    env = {"CI_JOB_TOKEN": "c", "GITLAB_TOKEN": "g", "GITHUB_TOKEN": "h"}
    assert credentials.from_env(env) == credentials.Credentials("x-access-token", "h",
                                                                "GITHUB_TOKEN")
    job = credentials.from_env({"CI_JOB_TOKEN": "c"})
    assert job is not None and job.user == "gitlab-ci-token"
    promoter = credentials.from_env({"PROMOTER_TOKEN": "p", **env}, forge="gitlab")
    assert promoter is not None and (promoter.user, promoter.token) == ("oauth2", "p")
    assert "p" not in repr(credentials.from_env({"PROMOTER_TOKEN": "secretvalue"}))


def test_credentials_follow_the_forge() -> None:
    """A GitHub token in a GitLab job's environment is never sent to GitLab,
    and the reverse; GH_TOKEN counts for GitHub."""
    both = {"GITHUB_TOKEN": "h", "GITLAB_TOKEN": "g", "CI_JOB_TOKEN": "c"}
    gitlab = credentials.from_env(both, forge="gitlab")
    assert gitlab == credentials.Credentials("oauth2", "g", "GITLAB_TOKEN")
    github = credentials.from_env({"GITLAB_TOKEN": "g", "GH_TOKEN": "x"}, forge="github")
    assert github == credentials.Credentials("x-access-token", "x", "GH_TOKEN")
    assert credentials.from_env({"GITHUB_TOKEN": "h"}, forge="gitlab") is None


@pytest.mark.parametrize(("repo", "host", "slug", "forge"), [
    ("https://github.com/acme/config.git", "github.com", "acme/config", "github"),
    ("git@github.com:acme/config.git", "github.com", "acme/config", "github"),
    ("ssh://git@gitlab.com/acme/infra/config.git", "gitlab.com", "acme/infra/config", "gitlab"),
    ("https://ghe.example.com/acme/config", "ghe.example.com", "acme/config", "github"),
    ("https://code.example.com/acme/config", "code.example.com", "acme/config", "gitlab"),
    ("https://git.example.org/acme/config", "git.example.org", "acme/config", "local"),
])
def test_remote_host_slug_and_forge(repo: str, host: str, slug: str, forge: str) -> None:
    environ = {"GITHUB_SERVER_URL": "https://ghe.example.com",
               "CI_SERVER_URL": "https://code.example.com"}
    assert remote.host(repo) == host and remote.slug(repo) == slug
    assert remote.infer_forge(repo, environ) == forge


def test_remote_urls(tmp_path: Path) -> None:
    assert remote.git_url(str(tmp_path)) == tmp_path.as_uri()
    with pytest.raises(InputError, match="carries credentials"):
        remote.git_url("https://user:secret@github.com/acme/config.git")
    with pytest.raises(InputError, match="no such directory"):
        remote.git_url(str(tmp_path / "missing"))
    assert remote.api_url("github", "https://github.com/a/b", {}) == "https://api.github.com"
    assert remote.api_url("github", "https://ghe.example.com/a/b", {}) == (
        "https://ghe.example.com/api/v3")
