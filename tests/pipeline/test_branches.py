"""Whose branch is it: promoter force-pushes only a branch it can prove is its own
(issue 11 items 1, 2 and 4), against real git remotes."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.configrepo import bare_from, count, example_copy, git, heads, show

from promoter.errors import ConflictError, InputError
from promoter.promote import Request, promote

STAGING = "apps/api/overlays/staging/kustomization.yaml"
BRANCH = "promoter/staging/api"


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return bare_from(example_copy(tmp_path / "tree"), tmp_path / "remote.git")


def human_commit(tmp_path: Path, remote: Path, branch: str, start: str = "main",
                 file: str = "NOTES.md", text: str = "a human fix\n") -> str:
    """Someone pushes a commit of their own onto ``branch`` (created from ``start``)."""
    work = tmp_path / f"human-{branch.replace('/', '-')}"
    git(tmp_path, "clone", "-q", str(remote), str(work))
    git(work, "checkout", "-q", "-B", branch, f"origin/{start}")
    (work / file).write_text(text)
    git(work, "add", file)
    git(work, "-c", "user.name=Ann", "-c", "user.email=ann@example.test",
        "commit", "-qm", "fix the rollout note")
    git(work, "push", "-q", "--force", "origin", f"HEAD:refs/heads/{branch}")
    return git(work, "rev-parse", "HEAD")


def request(remote: Path, image: str = "ghcr.io/acme/api:1.5.0", **kw: object) -> Request:
    return Request(repo=str(remote), app="api", env="staging", image=image,
                   **kw)  # type: ignore[arg-type]


def test_an_existing_human_branch_is_never_force_pushed(tmp_path: Path, remote: Path) -> None:
    human = human_commit(tmp_path, remote, "release")
    with pytest.raises(ConflictError) as info:
        promote(request(remote, branch="release"), {})
    message = str(info.value)
    assert "release" in message and human[:12] in message and "--force" in message
    assert info.value.exit_code == 1
    assert heads(remote)["release"] == human


def test_a_configured_branch_naming_a_human_branch_is_refused(
    tmp_path: Path, remote: Path
) -> None:
    tree = example_copy(tmp_path / "tree2")
    config = tree / ".promoter.yaml"
    labels = '    pull_request:\n      labels: [promotion, staging]'
    config.write_text(config.read_text().replace(labels, '    branch: "{env}"', 1))
    other = bare_from(tree, tmp_path / "other.git")
    human = human_commit(tmp_path, other, "staging")
    with pytest.raises(ConflictError, match="staging"):
        promote(request(other), {})
    assert heads(other)["staging"] == human


def test_the_base_branch_is_never_the_promoter_branch(remote: Path) -> None:
    before = heads(remote)
    with pytest.raises(InputError, match=r"--branch main is the base branch.*--direct") as info:
        promote(request(remote, branch="main"), {})
    assert info.value.exit_code == 2 and heads(remote) == before


def test_base_release_branch_main_is_refused(tmp_path: Path, remote: Path) -> None:
    git(remote, "branch", "release", "main")
    human_commit(tmp_path, remote, "main")
    before = heads(remote)
    with pytest.raises(ConflictError, match="main"):
        promote(request(remote, base="release", branch="main"), {})
    assert heads(remote) == before


def test_a_human_commit_on_the_promoter_branch_is_not_dropped(
    tmp_path: Path, remote: Path
) -> None:
    promote(request(remote), {})
    human = human_commit(tmp_path, remote, BRANCH, start=BRANCH)
    with pytest.raises(ConflictError) as info:
        promote(request(remote), {})
    assert human[:12] in str(info.value) and "fix the rollout note" in str(info.value)
    assert heads(remote)[BRANCH] == human
    with pytest.raises(ConflictError):  # a newer image is refused the same way
        promote(request(remote, "ghcr.io/acme/api:1.6.0"), {})
    assert heads(remote)[BRANCH] == human


def test_force_rebuilds_and_the_record_names_what_was_discarded(
    tmp_path: Path, remote: Path
) -> None:
    promote(request(remote), {})
    human = human_commit(tmp_path, remote, BRANCH, start=BRANCH)
    result = promote(request(remote, force=True), {})
    record = result.record()
    assert record["operation"] == "updated" and record["changed"] is True
    assert record["discarded"] == [human]
    assert count(remote, BRANCH) == count(remote, "main") + 1
    assert "NOTES.md" not in git(remote, "ls-tree", "--name-only", BRANCH)


def test_promoter_commits_on_top_of_an_old_base_are_its_own(
    tmp_path: Path, remote: Path
) -> None:
    promote(request(remote), {})
    human_commit(tmp_path, remote, "main", file="OTHER.md")  # base moves on
    result = promote(request(remote, "ghcr.io/acme/api:1.6.0"), {})
    assert result.operation == "updated" and result.record()["discarded"] == []
    assert git(remote, "rev-parse", f"{BRANCH}^") == heads(remote)["main"]


def test_a_stale_branch_is_not_up_to_date(tmp_path: Path, remote: Path) -> None:
    """The branch proposes 2.0.0; base moves the same value to 2.5.0-hotfix: the
    re-run of 2.0.0 is not "already proposes" but a rebuild on the current base."""
    promote(request(remote, "ghcr.io/acme/api:2.0.0"), {})
    human_commit(tmp_path, remote, "main", file=STAGING,
                 text=show(remote, "main", STAGING).replace('"1.4.1"', '"2.5.0-hotfix"') + "\n")
    result = promote(request(remote, "ghcr.io/acme/api:2.0.0", allow_downgrade=True), {})
    assert (result.changed, result.operation) == (True, "updated")
    assert result.record()["changes"][0]["old"] == "2.5.0-hotfix"
    assert git(remote, "rev-parse", f"{BRANCH}^") == heads(remote)["main"]
    again = promote(request(remote, "ghcr.io/acme/api:2.0.0", allow_downgrade=True), {})
    assert (again.changed, again.operation) == (False, "none")


def test_a_base_moved_elsewhere_rebuilds_the_branch(tmp_path: Path, remote: Path) -> None:
    first = promote(request(remote), {})
    human_commit(tmp_path, remote, "main", file="OTHER.md")
    again = promote(request(remote), {})
    assert (again.changed, again.operation) == (True, "updated")
    assert again.commit != first.commit
    assert git(remote, "rev-parse", f"{BRANCH}^") == heads(remote)["main"]


def test_a_promoter_branch_at_the_base_head_is_rebuilt_over_http(tmp_path: Path) -> None:
    """The branch exists but holds nothing of its own (someone reset it to the base,
    or a fast-forward merge left it there): over smart HTTP, git's shallow-exclude
    fetch has nothing to select, and the promotion must still go on."""
    from support.gitserver import GitServer

    with GitServer(tmp_path / "srv") as server:
        bare = server.create("acme/config", example_copy(tmp_path / "tree"))
        git(bare, "branch", BRANCH, "main")
        result = promote(Request(repo=server.url("acme/config"), app="api", env="staging",
                                 image="ghcr.io/acme/api:1.5.0"), {})
        assert result.operation in {"created", "updated"}
        assert heads(bare)[BRANCH] != heads(bare)["main"]
