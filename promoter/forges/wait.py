"""Wait for a pull request to be merged, closed, or for the time to run out.

Merged returns the PR (with its merge commit); closed unmerged raises
``BlockedError`` (exit 4); the timeout raises ``WaitTimeout`` (exit 5). Status
lines go to the ``progress`` callback (the CLI's printer, promoter.cli.progress),
at most one every ``heartbeat`` seconds. The clock is injectable: tests never sleep.
"""

from __future__ import annotations

from collections.abc import Callable

from promoter.errors import BlockedError, WaitTimeout
from promoter.forges import Forge, PullRequest
from promoter.retry import Clock


def wait_for_merge(
    forge: Forge,
    number: int,
    timeout: float,
    clock: Clock | None = None,
    progress: Callable[[str], None] | None = None,
    interval: float = 10.0,
    heartbeat: float = 0.0,
) -> PullRequest:
    """Poll ``forge.get(number)`` until merged, closed or ``timeout`` seconds;
    report at most every ``heartbeat`` seconds (0: on every poll)."""
    clock = clock or Clock()
    start = clock.now()
    said: float | None = None

    def report(text: str) -> None:
        nonlocal said
        now = clock.now()
        if progress is not None and (said is None or now - said >= heartbeat):
            said = now
            progress(text)

    while True:
        pr = forge.get(number)
        elapsed = clock.now() - start
        if _settled(pr, elapsed, timeout):
            report(f"#{number} merged as {pr.merge_commit_sha or '?'}")
            return pr
        report(f"waiting for #{number} to merge ({pr.url}): {int(elapsed)}s elapsed")
        clock.sleep(min(interval, timeout - elapsed))


def _settled(pr: PullRequest, elapsed: float, timeout: float) -> bool:
    """True when merged; raise when closed unmerged or out of time."""
    if pr.state == "merged":
        return True
    if pr.state == "closed":
        raise BlockedError(
            f"pull request #{pr.number} ({pr.url}) was closed without merging;"
            " reopen it or run the promotion again"
        )
    if elapsed >= timeout:
        raise WaitTimeout(
            f"pull request #{pr.number} ({pr.url}) not merged after {int(timeout)}s;"
            " merge it, or raise --timeout"
        )
    return False
