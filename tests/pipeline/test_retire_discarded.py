"""Retiring a promoter branch that holds someone else's commit: the base
already holds the image, so promoter closes its pull request and deletes the
branch. Without --force the human commit stops it (exit 1, nothing deleted);
with --force the record names the commit it dropped, as a rebuild does."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.configrepo import bare_from, example_copy, heads

from pipeline.test_branches import BRANCH, human_commit, request
from promoter.errors import ConflictError
from promoter.promote import promote


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    bare = bare_from(example_copy(tmp_path / "tree"), tmp_path / "remote.git")
    promote(request(bare, "ghcr.io/acme/api:1.6.0"), {})  # the open PR proposes 1.6.0
    human_commit(tmp_path, bare, BRANCH, start=BRANCH)
    promote(request(bare, direct=True), {})  # meanwhile 1.5.0 lands on main directly
    return bare


def test_without_force_the_human_commit_keeps_the_branch(remote: Path) -> None:
    before = heads(remote)[BRANCH]
    with pytest.raises(ConflictError, match="--force"):
        promote(request(remote), {})
    assert heads(remote)[BRANCH] == before


def test_with_force_the_record_names_the_commit_it_deleted(remote: Path) -> None:
    human = heads(remote)[BRANCH]
    record = promote(request(remote, force=True), {}).record()
    assert (record["operation"], record["deleted_branch"]) == ("closed", BRANCH)
    assert BRANCH not in heads(remote)
    assert record["discarded"] == [human]
