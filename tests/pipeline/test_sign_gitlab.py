"""``--sign gitlab``: the promotion commit made by GitLab's Commits API (the fake
validates the request and answers GitLab's own commit schema, and writes the
commit into the real bare repository), on a temporary branch started at the
base; the promoter branch is then moved to it by a git push with a lease, so a
commit pushed in between is never overwritten."""

from __future__ import annotations

import base64
import logging
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakes.gitlab_server import FakeGitLab
from support.configrepo import count, example_copy, git, heads, message, show
from support.gitserver import GitServer

from promoter.errors import AuthError, ConflictError, InputError
from promoter.git import Identity
from promoter.promote import Request, promote
from promoter.retry import PUSH

TOKEN = "glpat-sign-gitlab-token"
STAGING = "apps/api/overlays/staging/kustomization.yaml"
IMAGE = "ghcr.io/acme/api"
BRANCH = "promoter/staging/api"
ENVIRON = {"PROMOTER_TOKEN": TOKEN, "CI_PIPELINE_URL": "https://gitlab.test/acme/api/-/pipelines/9",
           "CI_COMMIT_SHA": "c" * 40}


class Lab:
    def __init__(self, fake: FakeGitLab, server: GitServer, bare: Path) -> None:
        self.fake, self.server, self.bare = fake, server, bare

    def promote(self, tag: str, **fields: Any) -> Any:
        return promote(Request(repo=self.server.url("acme/config"), app="api", env="staging",
                               forge="gitlab", api_url=self.fake.url, sign="gitlab",
                               image=f"{IMAGE}:{tag}", **fields), ENVIRON)

    def temporary(self) -> list[str]:
        return [name for name in heads(self.bare) if name.startswith("promoter-sign/")]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    with FakeGitLab(token=TOKEN) as fake, \
            GitServer(tmp_path / "srv", "oauth2", TOKEN) as server:
        bare = server.create("acme/config", example_copy(tmp_path / "tree"))
        fake.head_sha = lambda ref: heads(bare).get(ref) or ref
        fake.commits.git_dir = bare
        yield Lab(fake, server, bare)
        assert fake.violations == []


def _commit_by_hand(bare: Path, branch: str, parent: str, text: str) -> str:
    """A commit someone else pushes onto ``branch`` (on ``parent``'s tree)."""
    sha = subprocess.run(["git", "commit-tree", f"{parent}^{{tree}}", "-p", parent, "-m", text],
                         cwd=bare, capture_output=True, text=True, check=True).stdout.strip()
    git(bare, "update-ref", f"refs/heads/{branch}", sha)
    return sha


def test_commit_is_made_and_signed_by_gitlab_then_moved_onto_the_promoter_branch(
        lab: Lab, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="promoter")
    base = heads(lab.bare)["main"]
    result = lab.promote("1.5.0", signoff=True)
    assert result.operation == "created" and result.pull_request is not None
    [made] = lab.fake.commits.made
    assert made["branch"].startswith("promoter-sign/") and made["parent"] == base
    assert made["data"]["start_sha"] == base and "force" not in made["data"]
    assert made["id"] == result.commit == heads(lab.bare)[BRANCH]
    assert result.commit in lab.fake.commits.signed
    assert lab.fake.commits.deleted == [made["branch"]] and lab.temporary() == []
    [action] = made["data"]["actions"]
    assert (action["action"], action["file_path"], action["encoding"]) == (
        "update", STAGING, "base64")
    assert 'newTag: "1.5.0"' in base64.b64decode(action["content"]).decode()
    assert git(lab.bare, "rev-parse", f"{result.commit}^") == base
    assert 'newTag: "1.5.0"' in show(lab.bare, BRANCH, STAGING)
    text = message(lab.bare, BRANCH)
    assert "Promoted-by: promoter" in text and f"Image: {IMAGE}:1.5.0" in text
    assert "Source-Commit: " + "c" * 40 in text
    assert text.rstrip().endswith("Signed-off-by: promoter <promoter@localhost>")
    assert git(lab.bare, "log", "-1", "--format=%cn <%ce>", BRANCH) == "GitLab <noreply@gitlab.com>"
    assert lab.fake.mrs[1].source == BRANCH
    assert f"GitLab signed {result.commit} (SSH, verified_system)" in caplog.text
    assert TOKEN not in caplog.text


def test_newer_image_rebuilds_the_branch_from_base_under_the_lease(lab: Lab) -> None:
    first = lab.promote("1.5.0").commit
    second = lab.promote("1.6.0")
    assert second.operation == "updated" and second.commit != first
    assert heads(lab.bare)[BRANCH] == second.commit
    assert count(lab.bare, BRANCH) == count(lab.bare, "main") + 1
    assert 'newTag: "1.6.0"' in show(lab.bare, BRANCH, STAGING)
    assert len(lab.fake.commits.made) == 2 and lab.temporary() == []


def test_same_promotion_twice_makes_no_second_commit(lab: Lab) -> None:
    first = lab.promote("1.5.0")
    again = lab.promote("1.5.0")
    assert again.commit == first.commit and again.operation == "none"
    assert len(lab.fake.commits.made) == 1


def test_a_commit_pushed_while_gitlab_commits_is_never_overwritten(lab: Lab) -> None:
    """Someone pushes onto the promoter branch between the read and the move: the
    lease refuses the move, the retry sees a commit promoter did not make and
    stops; that commit stays, the temporary branches are gone."""
    lab.promote("1.5.0")
    pushed: list[str] = []

    def someone_pushes(branch: str) -> None:
        if not pushed:
            pushed.append(_commit_by_hand(lab.bare, BRANCH, heads(lab.bare)[BRANCH],
                                          "a fix by hand"))

    lab.fake.commits.before_commit = someone_pushes
    waits: list[float] = []
    with pytest.raises(ConflictError, match="promoter did not make"):
        lab.promote("1.6.0", retry=replace(PUSH, sleep=waits.append))
    assert heads(lab.bare)[BRANCH] == pushed[0]
    assert waits == [] and lab.temporary() == []  # the lost race re-fetched at once
    assert len(lab.fake.commits.deleted) == 2  # the first run's and the refused one


def test_another_promoter_run_in_between_is_rebuilt_on_the_retry(lab: Lab) -> None:
    lab.promote("1.5.0")
    raced: list[str] = []

    def another_run(branch: str) -> None:
        if not raced:  # another run rebuilds the branch first (promoter's own commit)
            text = message(lab.bare, BRANCH)
            raced.append(_commit_by_hand(lab.bare, BRANCH, heads(lab.bare)["main"], text))

    lab.fake.commits.before_commit = another_run
    waits: list[float] = []
    result = lab.promote("1.6.0", retry=replace(PUSH, sleep=waits.append))
    assert raced and waits == []  # re-fetched at once
    assert heads(lab.bare)[BRANCH] == result.commit != raced[0]
    assert git(lab.bare, "rev-parse", f"{result.commit}^") == heads(lab.bare)["main"]
    assert 'newTag: "1.6.0"' in show(lab.bare, BRANCH, STAGING)
    assert lab.temporary() == []


def test_an_instance_that_does_not_sign_is_refused_before_the_branch_moves(lab: Lab) -> None:
    lab.fake.commits.signs = False
    with pytest.raises(InputError, match="GitLab did not sign the commit") as caught:
        lab.promote("1.5.0")
    assert "--sign gpg" in caught.value.message
    assert list(heads(lab.bare)) == ["main"] and lab.fake.mrs == {}
    assert len(lab.fake.commits.deleted) == 1


def test_direct_commit_lands_on_base_fast_forward(lab: Lab) -> None:
    base = heads(lab.bare)["main"]
    result = lab.promote("1.5.0", direct=True)
    assert result.operation == "pushed" and heads(lab.bare)["main"] == result.commit
    assert git(lab.bare, "rev-parse", f"{result.commit}^") == base
    assert result.commit in lab.fake.commits.signed and lab.temporary() == []


def test_direct_commit_on_a_base_that_moved_is_planned_again(lab: Lab) -> None:
    moved: list[str] = []

    def someone_commits(branch: str) -> None:
        if not moved:
            moved.append(_commit_by_hand(lab.bare, "main", heads(lab.bare)["main"], "other"))

    lab.fake.commits.before_commit = someone_commits
    result = lab.promote("1.5.0", direct=True, retry=replace(PUSH, sleep=lambda _: None))
    assert git(lab.bare, "rev-parse", f"{result.commit}^") == moved[0]
    assert heads(lab.bare)["main"] == result.commit and lab.temporary() == []


def test_sign_gitlab_needs_the_gitlab_forge(tmp_path: Path) -> None:
    from support.configrepo import bare_from

    remote = bare_from(example_copy(tmp_path / "t"), tmp_path / "r.git")
    with pytest.raises(InputError, match="--sign gitlab needs --forge gitlab"):
        promote(Request(repo=str(remote), app="api", env="staging", sign="gitlab",
                        image=f"{IMAGE}:1.5.0"), {})
    assert list(heads(remote)) == ["main"]


def test_a_protected_base_is_exit_3_and_leaves_no_branch(lab: Lab) -> None:
    """GitLab's refusal of the push onto a protected branch is said as such (the
    Commits API made the commit on its temporary branch, which is removed)."""
    hook = lab.bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nif grep -q ' refs/heads/main$'; then\n"
                    "  echo 'GitLab: You are not allowed to push code to protected branches"
                    " on this project.' >&2\n  exit 1\nfi\n")
    hook.chmod(0o755)
    base = heads(lab.bare)["main"]
    with pytest.raises(AuthError, match=r"branch main of .* is protected") as caught:
        lab.promote("1.5.0", direct=True)
    assert caught.value.exit_code == 3
    assert heads(lab.bare) == {"main": base}


def test_a_temporary_branch_that_cannot_be_deleted_is_named_in_a_warning(
        lab: Lab, caplog: pytest.LogCaptureFixture) -> None:
    """The promotion stands (its branch holds the signed commit); the leftover
    temporary branch is named, for deleting by hand."""
    lab.fake.fail(403, "403 Forbidden", method="DELETE", path="/repository/branches/")
    result = lab.promote("1.5.0")
    assert result.operation == "created" and heads(lab.bare)[BRANCH] == result.commit
    [left] = lab.temporary()
    assert heads(lab.bare)[left] == result.commit
    assert f"could not delete the temporary branch {left}" in caplog.text


def test_a_token_the_commits_api_refuses_is_exit_3_and_moves_nothing(lab: Lab) -> None:
    lab.fake.fail(403, "403 Forbidden - You are not allowed to push into this branch",
                  method="POST", path="/repository/commits")
    with pytest.raises(AuthError, match="creating the promotion commit") as caught:
        lab.promote("1.5.0")
    assert caught.value.exit_code == 3 and "Developer" in caught.value.message
    assert TOKEN not in caught.value.message
    assert list(heads(lab.bare)) == ["main"] and lab.fake.mrs == {}


def test_author_is_given_to_the_commits_api(lab: Lab) -> None:
    """``--author`` is GitLab's ``author_name``/``author_email``; the committer stays
    the identity the instance signs as."""
    result = lab.promote("1.5.0", author=Identity("Release Bot", "bot@acme.test"), signoff=True)
    [made] = lab.fake.commits.made
    assert (made["data"]["author_name"], made["data"]["author_email"]) == (
        "Release Bot", "bot@acme.test")
    assert git(lab.bare, "log", "-1", "--format=%an <%ae>|%cn <%ce>", result.commit) == (
        "Release Bot <bot@acme.test>|GitLab <noreply@gitlab.com>")
    assert message(lab.bare, BRANCH).rstrip().endswith(
        "Signed-off-by: Release Bot <bot@acme.test>")


def test_without_author_the_author_is_the_tokens_user(lab: Lab) -> None:
    lab.promote("1.5.0")
    [made] = lab.fake.commits.made
    assert "author_name" not in made["data"] and "author_email" not in made["data"]


def test_committer_is_refused_before_anything_is_made(lab: Lab) -> None:
    """GitLab's Commits API has no committer: the instance sets it."""
    with pytest.raises(InputError, match=r"^--committer cannot be honoured with --sign gitlab"
                       ) as caught:
        lab.promote("1.5.0", committer=Identity("Release Bot", "bot@acme.test"))
    assert caught.value.exit_code == 2 and "\n" not in caught.value.message
    assert "--sign gpg" in caught.value.message
    assert lab.fake.commits.made == [] and list(heads(lab.bare)) == ["main"]
