"""What the pull request says and when it is closed (issue 11 items 3, 5 and 9),
on both forges: real git over http-backend, the real SDK against the fakes."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.configrepo import heads, show

from pipeline.world import world
from promoter.errors import AuthError, ConflictError, InputError, PromotionFailed
from promoter.promote import Request, promote

FORGES = ["github", "gitlab"]
BRANCH = "promoter/staging/api"
STAGING = "apps/api/overlays/staging/kustomization.yaml"


@pytest.mark.parametrize("forge", FORGES)
def test_concurrent_runs_leave_the_pull_request_describing_the_branch(
    forge: str, tmp_path: Path
) -> None:
    """Run B (3.0.0) pushes and publishes while run A (2.0.0) is creating its PR:
    A's late write must not leave the PR saying 2.0.0 over a 3.0.0 branch."""
    with world(forge, tmp_path) as w:
        def run_b(head: str) -> None:
            w.fake.before_create = None
            w.promote("ghcr.io/acme/api:3.0.0")

        w.fake.before_create = run_b
        with pytest.raises(PromotionFailed) as info:
            w.promote("ghcr.io/acme/api:2.0.0")
        record = info.value.result.record(info.value)
        assert (info.value.exit_code, record["operation"]) == (1, "failed")
        assert "another promotion (ghcr.io/acme/api:3.0.0)" in str(record["error"])
        assert record["pull_request"]["number"] == 1
        assert '"3.0.0"' in show(w.bare, BRANCH, STAGING)
        [pull] = w.pulls().values()
        assert pull.title.endswith("3.0.0")
        text = pull.body if forge == "github" else pull.description
        assert "`3.0.0`" in text and "2.0.0" not in text


@pytest.mark.parametrize("forge", FORGES)
def test_base_already_holding_the_image_closes_the_open_pull_request(
    forge: str, tmp_path: Path
) -> None:
    with world(forge, tmp_path) as w:
        bad = w.promote("ghcr.io/acme/api:2.0.0")
        assert bad.pull_request is not None
        number = bad.pull_request.number
        rollback = w.promote("ghcr.io/acme/api:1.4.1")  # what main already runs
        record = rollback.record()
        assert record["operation"] == "closed" and record["changed"] is False
        assert record["pull_request"]["operation"] == "closed"
        assert record["pull_request"]["number"] == number
        assert record["deleted_branch"] == BRANCH
        assert w.state(number) == "closed"
        assert "1.4.1" in w.comments(number)[0] and "main" in w.comments(number)[0]
        assert BRANCH not in heads(w.bare)
        again = w.promote("ghcr.io/acme/api:1.4.1")
        assert again.record()["operation"] == "none" and again.pull_request is None


@pytest.mark.parametrize("forge", FORGES)
def test_a_forge_without_a_repository_slug_fails_before_any_push(
    forge: str, tmp_path: Path
) -> None:
    with world(forge, tmp_path) as w:
        request = Request(repo=str(w.bare), app="api", env="staging", forge=forge,
                          image="ghcr.io/acme/api:1.5.0", api_url=w.api_url)
        with pytest.raises(InputError, match="cannot tell") as info:
            promote(request, {"PROMOTER_TOKEN": "x"})
        assert info.value.exit_code == 2
        assert list(heads(w.bare)) == ["main"]


@pytest.mark.parametrize("forge", FORGES)
def test_missing_forge_credentials_fail_before_any_push(forge: str, tmp_path: Path) -> None:
    with world(forge, tmp_path) as w:
        w.server.user = None  # git itself would let the push through
        with pytest.raises(AuthError, match="credentials") as info:
            promote(w.request(), {})
        assert info.value.exit_code == 3
        assert list(heads(w.bare)) == ["main"]
        assert w.requests == []


@pytest.mark.parametrize("forge", FORGES)
def test_a_human_commit_on_the_branch_stops_the_run_before_the_forge(
    forge: str, tmp_path: Path
) -> None:
    from support.configrepo import git

    with world(forge, tmp_path) as w:
        first = w.promote()
        work = tmp_path / "human"
        git(tmp_path, "clone", "-q", "-b", BRANCH, str(w.bare), str(work))
        (work / "NOTES.md").write_text("hand fix\n")
        git(work, "add", "NOTES.md")
        git(work, "-c", "user.name=Ann", "-c", "user.email=ann@example.test",
            "commit", "-qm", "hand fix")
        git(work, "push", "-q", "origin", f"HEAD:{BRANCH}")
        human = heads(w.bare)[BRANCH]
        before = len(w.requests)
        with pytest.raises(ConflictError, match="--force"):
            w.promote("ghcr.io/acme/api:1.6.0")
        assert heads(w.bare)[BRANCH] == human and len(w.requests) == before
        forced = w.promote("ghcr.io/acme/api:1.6.0", force=True)
        assert forced.record()["discarded"] == [human] and forced.commit != first.commit
        [pull] = w.pulls().values()
        assert pull.title.endswith("1.6.0")
