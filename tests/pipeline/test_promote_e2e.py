"""End-to-end promotions against file:// remotes and local bare paths (real git)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from support.configrepo import bare_from, count, example_copy, git, heads, message, show

from promoter import git as gitmod
from promoter.errors import ConflictError, InputError, PromoterError, PromotionFailed
from promoter.promote import Request, promote
from promoter.retry import PUSH

STAGING = "apps/api/overlays/staging/kustomization.yaml"
PRODUCTION = "apps/api/overlays/production/kustomization.yaml"
DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return bare_from(example_copy(tmp_path / "tree"), tmp_path / "remote.git")


def test_branch_promotion_pushes_one_commit_on_the_promoter_branch(remote: Path) -> None:
    base = heads(remote)["main"]
    result = promote(Request(repo=remote.as_uri(), app="api", env="staging",
                             image="ghcr.io/acme/api:1.5.0"), {})
    record = result.record()
    assert (record["changed"], record["operation"]) == (True, "created")
    assert record["branch"] == "promoter/staging/api" and record["base"] == "main"
    assert record["pull_request"] is None and record["files"] == [STAGING]
    assert record["changes"] == [{"file": STAGING, "line": 10, "old": "1.4.1", "new": "1.5.0"}]
    branches = heads(remote)
    assert branches["main"] == base
    assert branches["promoter/staging/api"] == record["commit"]
    assert git(remote, "rev-parse", f"{record['commit']}^") == base
    assert 'newTag: "1.5.0"' in show(remote, "promoter/staging/api", STAGING)


def test_same_promotion_twice_is_one_commit_one_branch_and_none(remote: Path) -> None:
    request = Request(repo=str(remote), app="api", env="staging", image="ghcr.io/acme/api:1.5.0")
    first = promote(request, {})
    second = promote(request, {})
    assert second.record()["operation"] == "none" and second.changed is False
    assert second.commit == first.commit
    assert count(remote, "promoter/staging/api") == count(remote, "main") + 1
    assert sorted(heads(remote)) == ["main", "promoter/staging/api"]


def test_newer_image_rebuilds_the_branch_from_base(remote: Path) -> None:
    request = Request(repo=str(remote), app="api", env="staging", image="ghcr.io/acme/api:1.5.0")
    promote(request, {})
    newer = promote(Request(repo=str(remote), app="api", env="staging",
                            image="ghcr.io/acme/api:1.6.0"), {})
    assert newer.record()["operation"] == "updated"
    assert newer.record()["changes"][0]["old"] == "1.4.1"
    assert count(remote, "promoter/staging/api") == count(remote, "main") + 1
    assert 'newTag: "1.6.0"' in show(remote, "promoter/staging/api", STAGING)


def test_direct_push_lands_on_base_with_message_author_and_trailers(remote: Path) -> None:
    environ = {
        "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/api",
        "GITHUB_RUN_ID": "42", "GITHUB_SHA": "f" * 40, "GITHUB_ACTOR": "octo",
    }
    result = promote(Request(repo=str(remote), app="web", env="staging", direct=True,
                             image="ghcr.io/acme/web:2.8.0", signoff=True), environ)
    assert result.operation == "pushed" and heads(remote)["main"] == result.commit
    text = message(remote, "main")
    assert text.startswith("promote web to staging: 2.7.0 -> 2.8.0\n")
    assert "Source-Run: https://github.com/acme/api/actions/runs/42" in text
    assert f"Source-Commit: {'f' * 40}" in text
    assert "Signed-off-by: octo <octo@users.noreply.github.com>" in text
    assert git(remote, "log", "-1", "--format=%an <%ae>|%cn", "main") == (
        "octo <octo@users.noreply.github.com>|octo"
    )


def test_author_committer_and_template_are_configurable(remote: Path) -> None:
    result = promote(Request(
        repo=str(remote), app="worker", env="staging", image="ghcr.io/acme/worker:1.0.0",
        author=gitmod.Identity("Ann", "ann@example.test"),
        committer=gitmod.Identity("Bot", "bot@example.test"),
        message="chore({app}): {env} {old}..{new}",
    ), {})
    assert message(remote, result.branch).startswith("chore(worker): staging 0.9.3..1.0.0\n")
    assert git(remote, "log", "-1", "--format=%an %ae|%cn %ce", result.branch) == (
        "Ann ann@example.test|Bot bot@example.test"
    )


def test_from_staging_copies_tag_and_digest_exactly(remote: Path) -> None:
    promote(Request(repo=str(remote), app="billing", env="staging", direct=True,
                    image=f"registry.example.com/acme/billing:3.3.0@{DIGEST}"), {})
    result = promote(Request(repo=str(remote), app="billing", env="production",
                             from_env="staging"), {})
    assert result.image == f"registry.example.com/acme/billing:3.3.0@{DIGEST}"
    values = show(remote, "promoter/production/billing", "charts/billing/values-production.yaml")
    assert "tag: 3.3.0" in values and DIGEST in values
    assert "# promoted by promoter" in values


def test_from_an_environment_without_the_app_is_an_input_error(tmp_path: Path) -> None:
    tree = example_copy(tmp_path / "tree")
    (tree / STAGING).write_text("resources: []\n")
    remote = bare_from(tree, tmp_path / "remote.git")
    with pytest.raises(InputError, match=r"no image ghcr\.io/acme/api in environment staging"):
        promote(Request(repo=str(remote), app="api", env="production", from_env="staging"), {})
    assert list(heads(remote)) == ["main"]


def test_dry_run_plans_and_pushes_nothing(remote: Path) -> None:
    before = heads(remote)
    result = promote(Request(repo=str(remote), app="api", env="staging", dry_run=True,
                             image="ghcr.io/acme/api:1.5.0"), {})
    assert result.changed and result.operation == "created" and result.commit is None
    assert '+    newTag: "1.5.0"' in result.diff
    assert heads(remote) == before


def test_already_deployed_image_changes_nothing(remote: Path) -> None:
    result = promote(Request(repo=str(remote), app="api", env="staging",
                             image="ghcr.io/acme/api:1.4.1"), {})
    assert (result.changed, result.operation, result.commit) == (False, "none", None)
    assert list(heads(remote)) == ["main"]


def test_flags_only_without_config(tmp_path: Path) -> None:
    tree = example_copy(tmp_path / "tree")
    (tree / ".promoter.yaml").unlink()
    remote = bare_from(tree, tmp_path / "remote.git")
    result = promote(Request(repo=str(remote), image="ghcr.io/acme/web:3.0.0",
                             paths=("apps/web/overlays",)), {})
    assert result.branch == "promoter/default/web"
    assert sorted(result.record()["files"]) == [
        "apps/web/overlays/production/kustomization.yaml",
        "apps/web/overlays/staging/kustomization.yaml",
    ]


def _hook_moving_main(remote: Path, sha: str) -> None:
    """A pre-receive hook that, once, moves main to ``sha``: another promotion
    landing while ours is being pushed."""
    hook = remote / "hooks" / "pre-receive"
    marker = remote / "moved"
    hook.write_text(
        "#!/bin/sh\ncat >/dev/null\n"
        "unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\n"
        f"if [ ! -e '{marker}' ]; then touch '{marker}'; git update-ref refs/heads/main {sha}; fi\n"
    )
    hook.chmod(0o755)


def _commit_elsewhere(tmp_path: Path, remote: Path, file: str, old: str, new: str) -> str:
    work = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(work))
    path = work / file
    path.write_text(path.read_text().replace(old, new))
    git(work, "commit", "-qam", "someone else")
    git(work, "push", "-q", "origin", "HEAD:refs/heads/other")
    return git(work, "rev-parse", "HEAD")


def _main_moves_on_first_push(tmp_path: Path, remote: Path) -> str:
    """Another writer's commit (web's staging tag) lands on main just before our
    first push; its sha."""
    other = _commit_elsewhere(tmp_path, remote, "apps/web/overlays/staging/kustomization.yaml",
                              '"2.7.0"', '"2.9.9"')
    _hook_moving_main(remote, other)
    return other


def test_push_rejected_by_a_moved_base_is_retried_on_the_new_head(
    tmp_path: Path, remote: Path
) -> None:
    other = _main_moves_on_first_push(tmp_path, remote)
    waits: list[float] = []
    result = promote(Request(repo=str(remote), app="api", env="staging", direct=True,
                             image="ghcr.io/acme/api:1.5.0",
                             retry=replace(PUSH, sleep=waits.append)), {})
    assert waits == [] and result.operation == "pushed"  # re-fetched at once
    assert git(remote, "rev-parse", "main^") == other
    assert 'newTag: "1.5.0"' in show(remote, "main", STAGING)
    assert '"2.9.9"' in show(remote, "main", "apps/web/overlays/staging/kustomization.yaml")


def test_the_last_rejected_push_gives_up_without_waiting_or_fetching(
    tmp_path: Path, remote: Path
) -> None:
    other = _main_moves_on_first_push(tmp_path, remote)
    waits: list[float] = []
    with pytest.raises(PromoterError, match="rejected 1 times"):
        promote(Request(repo=str(remote), app="api", env="staging", direct=True,
                        image="ghcr.io/acme/api:1.5.0",
                        retry=replace(PUSH, attempts=1, sleep=waits.append)), {})
    assert waits == []
    assert heads(remote)["main"] == other


def test_a_real_conflict_stops_with_conflict_error(tmp_path: Path, remote: Path) -> None:
    other = _commit_elsewhere(tmp_path, remote, STAGING, '"1.4.1"', '"1.4.9"')
    _hook_moving_main(remote, other)
    with pytest.raises(ConflictError, match=r"from 1\.4\.1 to 1\.4\.9"):
        promote(Request(repo=str(remote), app="api", env="staging", direct=True,
                        image="ghcr.io/acme/api:1.5.0", retry=replace(PUSH, sleep=lambda _: None)),
                {})
    assert heads(remote)["main"] == other


def test_the_same_change_landing_first_is_not_a_conflict(tmp_path: Path, remote: Path) -> None:
    other = _commit_elsewhere(tmp_path, remote, STAGING, '"1.4.1"', '"1.5.0"')
    _hook_moving_main(remote, other)
    result = promote(Request(repo=str(remote), app="api", env="staging", direct=True,
                             image="ghcr.io/acme/api:1.5.0",
                             retry=replace(PUSH, sleep=lambda _: None)), {})
    assert (result.changed, result.operation) == (False, "none")
    assert heads(remote)["main"] == other


def test_git_environment_is_not_inherited(
    remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoy = tmp_path / "decoy"
    git(tmp_path, "init", "-q", str(decoy))
    with monkeypatch.context() as patch:
        patch.setenv("GIT_DIR", str(decoy / ".git"))
        patch.setenv("GIT_WORK_TREE", str(decoy))
        result = promote(Request(repo=str(remote), app="api", env="staging",
                                 image="ghcr.io/acme/api:1.5.0"), dict(os.environ))
    assert result.changed and "promoter/staging/api" in heads(remote)


def test_promote_from_of_the_environment_is_the_default_source(remote: Path) -> None:
    promote(Request(repo=str(remote), app="api", env="staging", direct=True,
                    image="ghcr.io/acme/api:1.5.0"), {})
    result = promote(Request(repo=str(remote), app="api", env="production"), {})
    assert result.image == "ghcr.io/acme/api:1.5.0" and result.operation == "created"
    with pytest.raises(InputError, match="give --image REF or --from ENV"):
        promote(Request(repo=str(remote), app="api", env="staging"), {})


def test_direct_push_with_wait_merge_records_its_commit_as_the_merge(remote: Path) -> None:
    result = promote(Request(repo=str(remote), app="api", env="staging", direct=True,
                             image="ghcr.io/acme/api:1.5.0", wait_merge=True), {})
    assert result.record()["merge"] == {"state": "merged", "commit_sha": result.commit}
    assert heads(remote)["main"] == result.commit


def test_branch_template_option_overrides_the_default(remote: Path) -> None:
    result = promote(Request(repo=str(remote), app="api", env="staging",
                             image="ghcr.io/acme/api:1.5.0", branch="deploy/{app}-{env}"), {})
    assert result.branch == "deploy/api-staging" and "deploy/api-staging" in heads(remote)


def test_verify_without_targets_reports_exit_2_after_the_push(remote: Path) -> None:
    with pytest.raises(PromotionFailed) as info:
        promote(Request(repo=str(remote), app="api", env="staging", direct=True,
                        image="ghcr.io/acme/api:1.5.0", verify=True), {})
    result = info.value.result
    assert result.operation == "pushed" and heads(remote)["main"] == result.commit
    assert info.value.exit_code == 2
    assert "nothing to verify for staging" in info.value.message
    assert result.record()["merge"] == {"state": "merged", "commit_sha": result.commit}
