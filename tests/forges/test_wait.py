"""Progress while waiting for a merge: a heartbeat, not a line per poll, in CI logs."""

from __future__ import annotations

from promoter.forges import PullRequest
from promoter.forges.wait import wait_for_merge
from promoter.retry import Clock


class Forge:
    """Open until ``merged_at`` seconds on the clock, then merged."""

    def __init__(self, now: list[float], merged_at: float) -> None:
        self.now, self.merged_at = now, merged_at

    def get(self, number: int) -> PullRequest:
        merged = self.now[0] >= self.merged_at
        return PullRequest(number, "https://forge.example/pr/1", "b", "main",
                           "merged" if merged else "open",
                           merge_commit_sha="c0ffee" if merged else None)


def test_heartbeat_every_30_seconds() -> None:
    now = [0.0]
    lines: list[str] = []
    clock = Clock(now=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    pr = wait_for_merge(Forge(now, 70.0), 1, timeout=600, clock=clock,  # type: ignore[arg-type]
                        progress=lines.append, heartbeat=30.0)
    assert pr.merge_commit_sha == "c0ffee"
    assert [line.rpartition(": ")[2] for line in lines] == ["0s elapsed", "30s elapsed",
                                                           "60s elapsed"]
