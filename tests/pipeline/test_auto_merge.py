"""GitHub's auto-merge refusals (issue 11 item 10), through ``promote``: a clean
PR is merged at once when --auto-merge was asked; "not allowed" is a one-line
error and the record keeps the pull request."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.world import world
from promoter.errors import PromotionFailed
from promoter.forges import PullRequestSettings


def test_a_clean_pull_request_is_merged_directly(tmp_path: Path) -> None:
    with world("github", tmp_path) as w:
        w.fake.clean_status = True
        result = w.promote(pull_request=PullRequestSettings(auto_merge=True,
                                                           merge_method="squash"))
        pull = w.fake.pulls[1]
    record = result.record()
    assert record["exit_code"] == 0
    assert pull.merged and pull.merge_method == "squash"
    assert record["pull_request"]["state"] == "merged"
    assert record["merge"] == {"state": "merged", "commit_sha": pull.merge_commit_sha}


def test_auto_merge_not_allowed_keeps_the_pull_request_in_the_record(tmp_path: Path) -> None:
    with world("github", tmp_path) as w:
        w.fake.auto_merge_allowed = False
        with pytest.raises(PromotionFailed) as info:
            w.promote(pull_request=PullRequestSettings(auto_merge=True))
        assert w.fake.pulls[1].state == "open"
    failed = info.value
    record = failed.result.record(failed)
    assert (failed.exit_code, record["operation"]) == (1, "failed")
    assert record["pull_request"]["number"] == 1
    assert record["pull_request"]["operation"] == "created"
    assert record["error"] == failed.message and "not allowed" in failed.message
    assert "Allow auto-merge" in failed.message and "\n" not in failed.message
