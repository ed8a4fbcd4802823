"""Wait for a pull request to be merged, closed, or for the time to run out.

Merged returns the PR (with its merge commit); closed unmerged raises
``BlockedError`` (exit 4); the timeout raises ``WaitTimeout`` (exit 5). On a
terminal the status line is rewritten in place; elsewhere (CI logs) a heartbeat
line is printed every 30 seconds. The clock is injectable: tests never sleep.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from promoter.errors import BlockedError, WaitTimeout
from promoter.forges import Forge, PullRequest
from promoter.retry import Clock

HEARTBEAT = 30.0


class Progress:
    """Live status on a TTY; a line every ``HEARTBEAT`` seconds otherwise."""

    def __init__(self, stream: TextIO | None = None, clock: Clock | None = None) -> None:
        self.stream = stream or sys.stderr
        self.clock = clock or Clock()
        self.tty = self.stream.isatty()
        self.last: float | None = None

    def __call__(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K" + text)
            self.stream.flush()
            return
        now = self.clock.now()
        if self.last is None or now - self.last >= HEARTBEAT:
            self.last = now
            self.stream.write(text + "\n")
            self.stream.flush()

    def done(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def wait_for_merge(
    forge: Forge,
    number: int,
    timeout: float,
    clock: Clock | None = None,
    progress: Callable[[str], None] | None = None,
    interval: float = 10.0,
) -> PullRequest:
    """Poll ``forge.get(number)`` until merged, closed or ``timeout`` seconds."""
    clock = clock or Clock()
    report = progress or Progress(clock=clock)
    start = clock.now()
    try:
        while True:
            pr = forge.get(number)
            elapsed = clock.now() - start
            if _settled(pr, elapsed, timeout):
                report(f"#{number} merged as {pr.merge_commit_sha or '?'}")
                return pr
            report(f"waiting for #{number} to merge ({pr.url}): {int(elapsed)}s elapsed")
            clock.sleep(min(interval, timeout - elapsed))
    finally:
        if isinstance(report, Progress):
            report.done()


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
