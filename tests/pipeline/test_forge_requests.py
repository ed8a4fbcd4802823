"""Whose pull request it is (issue 11 item 14) and how many requests a publish
costs (item 15, issue 15 item 5), on both forges through ``promote``."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.world import World, world

FORGES = ["github", "gitlab"]
MARKER = "<!-- promoter:api/staging -->"
LIMITS = {"github": {"create": 4, "noop": 2}, "gitlab": {"create": 2, "noop": 1}}


def api_requests(w: World, since: int) -> list[tuple[str, str]]:
    return w.requests[since:]


@pytest.mark.parametrize("forge", FORGES)
def test_only_a_pull_request_whose_branch_author_and_marker_agree_is_superseded(
    forge: str, tmp_path: Path
) -> None:
    with world(forge, tmp_path) as w:
        old = w.open_foreign("promoter/api-staging", f"old\n\n{MARKER}")
        stranger = w.open_foreign("feature/steal", f"mine\n\n{MARKER}", author="mallory")
        quoted = w.open_foreign("promoter/web/staging", f"| `{MARKER}` |\n\n<!-- x -->")
        fork_like = w.open_foreign("promoter/staging/api2", f"{MARKER}\ntrailing text")
        result = w.promote()
        assert [p["number"] for p in result.record()["superseded"]] == [old]
        assert w.state(old) == "closed" and w.comments(old)
        for number in (stranger, quoted, fork_like):
            assert w.state(number) == "open" and w.comments(number) == []


@pytest.mark.parametrize("forge", FORGES)
def test_requests_per_publish_do_not_grow_with_open_pull_requests(
    forge: str, tmp_path: Path
) -> None:
    with world(forge, tmp_path) as w:
        for i in range(151):
            w.open_foreign(f"feature/{i}", f"unrelated {i}", author="someone")
        before = len(w.requests)
        created = w.promote()
        create = api_requests(w, before)
        before = len(w.requests)
        again = w.promote()
        noop = api_requests(w, before)
    assert created.record()["pull_request"]["operation"] == "created"
    assert again.record()["pull_request"]["operation"] == "none"
    assert len(create) <= LIMITS[forge]["create"], create
    assert len(noop) <= LIMITS[forge]["noop"], noop
    print(f"{forge}: create {len(create)} requests, no-op {len(noop)} requests")


@pytest.mark.parametrize("forge", FORGES)
def test_a_no_op_with_reviewers_and_assignees_looks_nobody_up(
    forge: str, tmp_path: Path
) -> None:
    with world(forge, tmp_path) as w:
        people = dict(reviewers=("alice",), assignees=("bob",))
        w.promote(pull_request=_options(**people))
        before = len(w.requests)
        again = w.promote(pull_request=_options(**people))
        noop = api_requests(w, before)
    assert again.record()["pull_request"]["operation"] == "none"
    assert len(noop) <= LIMITS[forge]["noop"], noop


def _options(**kw: object) -> object:
    from promoter.forges import PullRequestSettings

    return PullRequestSettings(**kw)  # type: ignore[arg-type]
