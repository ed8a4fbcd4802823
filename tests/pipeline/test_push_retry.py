"""The push retry policy on lost races (promoter.retry.PUSH): the first lost
race is re-fetched and re-applied at once; only repeated losses back off (with
jitter, bounded); every other push that landed meanwhile is kept."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from support.configrepo import bare_from, count, example_copy, git, show

from promoter.errors import PromoterError
from promoter.promote import Request, promote
from promoter.retry import PUSH

STAGING = "apps/api/overlays/staging/kustomization.yaml"


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return bare_from(example_copy(tmp_path / "tree"), tmp_path / "remote.git")


def hook_landing_first(remote: Path, times: int) -> None:
    """A pre-receive hook that, on each of the first ``times`` pushes, lands
    another commit on main first (someone else's promotion winning the race)."""
    counter = remote / "landed"
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\ncat >/dev/null\n"
        "unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\n"
        "export GIT_AUTHOR_NAME=other GIT_AUTHOR_EMAIL=other@example.test\n"
        "export GIT_COMMITTER_NAME=other GIT_COMMITTER_EMAIL=other@example.test\n"
        f"n=$(cat '{counter}' 2>/dev/null || echo 0)\n"
        f"if [ \"$n\" -lt {times} ]; then\n"
        f"  echo $((n + 1)) > '{counter}'\n"
        "  c=$(git commit-tree 'main^{tree}' -p main -m \"someone else $n\")\n"
        "  git update-ref refs/heads/main \"$c\"\n"
        "fi\n")
    hook.chmod(0o755)


def promote_api(remote: Path, waits: list[float], attempts: int = PUSH.attempts) -> str:
    retry = replace(PUSH, attempts=attempts, sleep=waits.append, random=lambda: 1.0)
    return promote(Request(repo=str(remote), app="api", env="staging", direct=True,
                           image="ghcr.io/acme/api:1.5.0", retry=retry), {}).operation


def test_a_lost_race_is_refetched_and_reapplied_at_once(remote: Path) -> None:
    hook_landing_first(remote, 1)
    waits: list[float] = []
    assert promote_api(remote, waits) == "pushed"
    assert waits == []  # no sleep: fetched the new head and pushed again at once
    assert git(remote, "log", "-1", "--format=%s", "main^") == "someone else 0"
    assert count(remote, "main") == 3 and 'newTag: "1.5.0"' in show(remote, "main", STAGING)


def test_repeated_losses_back_off_with_jitter_and_keep_every_commit(remote: Path) -> None:
    hook_landing_first(remote, 4)
    waits: list[float] = []
    assert promote_api(remote, waits) == "pushed"
    assert waits == [0.6, 1.2, 2.4]  # after losses 2, 3, 4 (random() == 1: the upper bound)
    assert count(remote, "main") == 6  # the base, four others, ours
    subjects = git(remote, "log", "--format=%s", "main~1", "-4").splitlines()
    assert subjects == [f"someone else {n}" for n in (3, 2, 1, 0)]


def test_the_attempts_stay_bounded(remote: Path) -> None:
    hook_landing_first(remote, 10)
    waits: list[float] = []
    with pytest.raises(PromoterError, match="rejected 3 times"):
        promote_api(remote, waits, attempts=3)
    assert waits == [0.6]  # no wait after the last try
    assert count(remote, "main") == 4  # the others' three commits, none lost
