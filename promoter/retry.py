"""Waiting, one way for all of promoter: ``Clock`` is the time the waiting
loops read and wait on (forges/wait.py, verify/watch.py); ``Backoff`` says how
many tries and how long to wait after each failed one; ``call`` retries a call
on ``RetryableError``. Sleep, clock and randomness are injectable: tests never
sleep.

The schedules in use:

- forge requests (forges/github.py, forges/gitlab.py): ``Backoff()``, 5 tries,
  1 s doubling up to 30 s, or the server's Retry-After up to ``max_wait``, all
  within ``budget`` (--network-timeout);
- rejected pushes (promoter.promote): ``PUSH``, 30 tries (--max-attempts);
  the first lost race is re-fetched and re-applied at once (most races are
  lost to one other push: waiting would only idle), repeated losses wait
  0.6 s doubling up to 3 s, full jitter (many contenders: spread them out);
- a Kubernetes watch or Argo CD stream that broke (verify/kube.py,
  verify/argocd_api.py): ``RECONNECT``, 0.2, 0.5, 1, 2, then 5 s for as long as
  the verification runs.
"""

from __future__ import annotations

import queue
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from promoter.errors import PromoterError, RetryableError
from promoter.http_safety import redacted

T = TypeVar("T")
HEARTBEAT = 30.0  # seconds between progress lines of a wait while nothing changes
# default time limits of the waits
PROMOTE_TIMEOUT = 1800.0  # promote --timeout (--wait-merge)
VERIFY_TIMEOUT = 600.0  # verify --timeout; environments.ENV.verify.timeout
VERIFY_SETTLE = 10.0  # verify --settle; environments.ENV.verify.settle


@dataclass(frozen=True)
class Clock:
    """Monotonic time, a sleep, and a wait for the next event of a queue.
    Tests pass one whose time moves only when the loop waits."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def get(self, events: queue.Queue[T], timeout: float) -> T | None:
        """The next event, or None after ``timeout`` seconds."""
        try:
            return events.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None


@dataclass(frozen=True)
class Backoff:
    """How many times to try, and how long to wait after failed try ``n``:
    not at all for the first ``immediate`` ones, then ``steps[n-1]`` (the last
    one repeating) when given, else ``base * 2**n`` up to ``cap`` (``n``
    counted from the end of the immediate ones); times a random fraction when
    ``jitter`` (full jitter)."""

    attempts: int = 5
    immediate: int = 0  # failed tries retried at once, without waiting
    base: float = 0.5
    cap: float = 30.0
    jitter: bool = False
    steps: tuple[float, ...] = ()
    max_wait: float = 120.0  # a longer Retry-After is not waited out
    budget: float | None = None  # seconds a call may take, retries included (--network-timeout)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    random: Callable[[], float] = random.random

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed try ``attempt`` (1-based)."""
        if attempt <= self.immediate:
            return 0.0
        attempt -= self.immediate
        if self.steps:
            seconds = self.steps[min(attempt, len(self.steps)) - 1]
        else:
            seconds = min(self.cap, self.base * 2.0 ** min(attempt, 30))
        return self.random() * seconds if self.jitter else seconds

    def wait(self, attempt: int) -> None:
        """Sleep the delay after failed try ``attempt``; not at all when it is 0."""
        seconds = self.delay(attempt)
        if seconds > 0:
            self.sleep(seconds)


PUSH = Backoff(attempts=30, immediate=1, base=0.3, cap=3.0, jitter=True)
RECONNECT = Backoff(steps=(0.2, 0.5, 1.0, 2.0, 5.0))


def call(fn: Callable[[], T], backoff: Backoff, what: str) -> T:
    """Run ``fn``; retry it on ``RetryableError`` up to ``backoff.attempts`` times,
    never sleeping past ``backoff.budget`` seconds after the first try. Every error
    leaving here is redacted (promoter.http_safety): its message may quote the server."""
    deadline = None if backoff.budget is None else backoff.clock() + backoff.budget
    for attempt in range(1, backoff.attempts + 1):
        try:
            return fn()
        except RetryableError as exc:
            delay = _delay(exc, attempt, backoff)
            stop = _give_up(exc, attempt, delay, backoff, deadline)
            if stop is not None:
                raise redacted(PromoterError(
                    f"{what} failed after {attempt} attempt(s): {exc}; {stop}")) from exc
            backoff.sleep(delay)
        except PromoterError as exc:
            raise redacted(exc) from exc.__cause__
    raise AssertionError("unreachable")  # pragma: no cover


def _give_up(
    exc: RetryableError, attempt: int, delay: float, backoff: Backoff, deadline: float | None
) -> str | None:
    """Why not to retry (the end of the message), or None to wait ``delay`` and retry."""
    if attempt == backoff.attempts:
        return "try again later"
    if deadline is not None and backoff.clock() + delay > deadline:
        return (f"waiting {delay:g}s more would pass --network-timeout; try again later,"
                " or raise --network-timeout")
    if delay > backoff.max_wait and exc.min_wait is None:
        return "try again later"
    return None


def _delay(exc: RetryableError, attempt: int, backoff: Backoff) -> float:
    """The server's wait when it named one, else the schedule's."""
    if exc.retry_after is not None:
        return exc.retry_after
    if exc.min_wait is not None:
        return float(exc.min_wait * 2 ** (attempt - 1))
    return backoff.delay(attempt)
