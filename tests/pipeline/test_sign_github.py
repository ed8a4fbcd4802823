"""``--sign github``: the promotion commit made by GitHub's createCommitOnBranch
(validated against GitHub's GraphQL schema by the fake, which writes it into
the real bare repository), keeping the branch contract: one branch per app and
environment rebuilt from the base, the lease, the trailers."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakes.github_server import FakeGitHub
from support.configrepo import count, example_copy, git, heads, message, show
from support.gitserver import GitServer

from promoter.errors import InputError
from promoter.git import Identity
from promoter.promote import Request, promote
from promoter.retry import PUSH

TOKEN = "ghp_sign_github_token"
STAGING = "apps/api/overlays/staging/kustomization.yaml"
IMAGE = "ghcr.io/acme/api"
ENVIRON = {"PROMOTER_TOKEN": TOKEN, "GITHUB_SERVER_URL": "https://github.com",
           "GITHUB_REPOSITORY": "acme/api", "GITHUB_RUN_ID": "9", "GITHUB_SHA": "b" * 40}


class Hub:
    def __init__(self, fake: FakeGitHub, server: GitServer, bare: Path) -> None:
        self.fake, self.server, self.bare = fake, server, bare

    def promote(self, tag: str, **fields: Any) -> Any:
        return promote(Request(repo=self.server.url("acme/config"), app="api", env="staging",
                               forge="github", api_url=self.fake.api_url, sign="github",
                               image=f"{IMAGE}:{tag}", **fields), ENVIRON)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    with FakeGitHub(token=TOKEN, prefix="/api/v3") as fake, \
            GitServer(tmp_path / "srv", "x-access-token", TOKEN) as server:
        bare = server.create("acme/config", example_copy(tmp_path / "tree"))
        fake.head_sha = lambda ref: heads(bare).get(ref)
        fake.git_dir = bare
        yield Hub(fake, server, bare)
        assert fake.violations == []


def test_commit_is_made_by_github_on_the_promoter_branch(hub: Hub) -> None:
    base = heads(hub.bare)["main"]
    result = hub.promote("1.5.0", signoff=True)
    assert result.operation == "created" and result.pull_request is not None
    [made] = hub.fake.commits
    assert (made["branch"], made["parent"], made["oid"]) == (
        "promoter/staging/api", base, result.commit)
    assert heads(hub.bare)["promoter/staging/api"] == result.commit
    assert git(hub.bare, "rev-parse", f"{result.commit}^") == base
    [addition] = made["fileChanges"]["additions"]
    assert addition["path"] == STAGING
    assert 'newTag: "1.5.0"' in base64.b64decode(addition["contents"]).decode()
    assert 'newTag: "1.5.0"' in show(hub.bare, "promoter/staging/api", STAGING)
    text = message(hub.bare, "promoter/staging/api")
    assert made["message"]["headline"] == text.splitlines()[0]
    assert "Source-Commit: " + "b" * 40 in text
    assert "Source-Run: https://github.com/acme/api/actions/runs/9" in text
    assert text.rstrip().endswith("Signed-off-by: promoter <promoter@localhost>")


def test_newer_image_rebuilds_the_branch_from_base_under_the_lease(hub: Hub) -> None:
    first = hub.promote("1.5.0").commit
    second = hub.promote("1.6.0")
    assert second.operation == "updated" and second.commit != first
    assert count(hub.bare, "promoter/staging/api") == count(hub.bare, "main") + 1
    assert 'newTag: "1.6.0"' in show(hub.bare, "promoter/staging/api", STAGING)
    assert len(hub.fake.commits) == 2


def test_same_promotion_twice_makes_no_second_commit(hub: Hub) -> None:
    first = hub.promote("1.5.0")
    again = hub.promote("1.5.0")
    assert again.commit == first.commit and again.operation == "none"
    assert len(hub.fake.commits) == 1


def test_lost_lease_fetches_and_tries_again(hub: Hub, tmp_path: Path) -> None:
    hub.promote("1.5.0")
    raced: list[str] = []

    def someone_pushes(name: str) -> None:
        if name == "updateRefs" and not raced:  # another run rebuilds the branch first
            raced.append(name)
            branch = "refs/heads/promoter/staging/api"
            text = git(hub.bare, "log", "-1", "--format=%B", branch)
            other = subprocess.run(
                ["git", "commit-tree", f"{branch}^{{tree}}", "-p", "main", "-m", text + "\n"],
                cwd=hub.bare, capture_output=True, text=True, check=True).stdout.strip()
            git(hub.bare, "update-ref", branch, other)

    hub.fake.before_mutation = someone_pushes
    waits: list[float] = []
    result = hub.promote("1.6.0", retry=replace(PUSH, sleep=waits.append))
    assert raced and waits == []  # re-fetched at once
    assert heads(hub.bare)["promoter/staging/api"] == result.commit
    assert git(hub.bare, "rev-parse", f"{result.commit}^") == heads(hub.bare)["main"]
    assert hub.fake.violations == []


def test_direct_commit_lands_on_base(hub: Hub) -> None:
    base = heads(hub.bare)["main"]
    result = hub.promote("1.5.0", direct=True)
    assert result.operation == "pushed" and heads(hub.bare)["main"] == result.commit
    assert git(hub.bare, "rev-parse", f"{result.commit}^") == base
    assert hub.fake.commits[0]["branch"] == "main"


def test_sign_github_needs_the_github_forge(tmp_path: Path) -> None:
    from support.configrepo import bare_from

    remote = bare_from(example_copy(tmp_path / "t"), tmp_path / "r.git")
    with pytest.raises(InputError, match="--sign github needs --forge github"):
        promote(Request(repo=str(remote), app="api", env="staging", sign="github",
                        image=f"{IMAGE}:1.5.0"), {})
    assert list(heads(remote)) == ["main"]


@pytest.mark.parametrize("option", ["author", "committer"])
def test_author_and_committer_are_refused_before_anything_is_made(hub: Hub, option: str) -> None:
    """createCommitOnBranch has no author or committer: GitHub commits as the
    token's user or App, so the option is refused, never dropped."""
    with pytest.raises(InputError, match=rf"^--{option} cannot be honoured with --sign github"
                       ) as caught:
        hub.promote("1.5.0", **{option: Identity("Release Bot", "bot@acme.test")})
    assert caught.value.exit_code == 2 and "\n" not in caught.value.message
    assert "--sign gpg" in caught.value.message
    assert hub.fake.commits == [] and list(heads(hub.bare)) == ["main"]
