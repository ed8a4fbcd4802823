"""One pull-request settings type: the command line's over the config's."""

from __future__ import annotations

from promoter.forges import DEFAULTS, PullRequestSettings

CONFIGURED = PullRequestSettings(title="Promote {app}", body="", labels=("promotion",),
                                 reviewers=("alice",), assignees=(), draft=True,
                                 auto_merge=False, merge_method="squash", delete_branch=True)


def test_nothing_given_keeps_the_configured_settings() -> None:
    assert PullRequestSettings().over(CONFIGURED) == CONFIGURED


def test_given_settings_win_and_a_given_false_is_given() -> None:
    given = PullRequestSettings(title="T", labels=("hotfix",), draft=False, merge_method="rebase")
    merged = given.over(CONFIGURED)
    assert (merged.title, merged.labels, merged.draft, merged.merge_method) == (
        "T", ("hotfix",), False, "rebase")
    assert (merged.reviewers, merged.delete_branch) == (("alice",), True)


def test_empty_text_and_lists_are_not_given() -> None:
    merged = PullRequestSettings(title="", body="", labels=()).over(CONFIGURED)
    assert (merged.title, merged.labels) == ("Promote {app}", ("promotion",))


def test_the_defaults_set_every_switch() -> None:
    merged = PullRequestSettings().over(DEFAULTS)
    assert (merged.draft, merged.auto_merge, merged.merge_method, merged.delete_branch) == (
        False, False, "merge", False)
