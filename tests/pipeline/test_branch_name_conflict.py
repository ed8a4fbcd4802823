"""A promoter branch whose name collides with another branch as a path (git
keeps refs as paths: ``promoter/staging`` and ``promoter/staging/api`` cannot
both exist). The server refuses the push with "cannot lock ref", which is no
lost race: another try can never succeed. One push, exit 2 naming both
branches, nothing created; not 30 tries and "other pushes keep landing"."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.configrepo import example_copy, git, heads
from support.gitserver import GitServer

from promoter.errors import InputError
from promoter.promote import Request, promote

BRANCH = "promoter/staging/api"


@pytest.mark.parametrize("other", ["promoter/staging", "promoter/staging/api/old"])
def test_a_branch_name_taken_as_a_path_is_exit_2_after_one_push(
    tmp_path: Path, other: str
) -> None:
    with GitServer(tmp_path / "srv") as server:
        bare = server.create("config", example_copy(tmp_path / "tree"))
        git(bare, "branch", other, "main")
        with pytest.raises(InputError) as caught:
            promote(Request(repo=server.url("config"), app="api", env="staging",
                            image="ghcr.io/acme/api:1.5.0"), {})
        pushes = [r for r in server.requests
                  if r.method == "POST" and r.service == "git-receive-pack"]
    message = caught.value.message
    assert caught.value.exit_code == 2 and "\n" not in message
    assert f"refs/heads/{other}" in message and BRANCH in message and "--branch" in message
    assert len(pushes) == 1
    assert sorted(heads(bare)) == sorted(["main", other])
