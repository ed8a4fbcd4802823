"""Bounded retries for forge calls: 5xx, 429 and secondary rate limits.

Adapters translate SDK errors into ``RetryableError`` (transient, with the
server's ``retry_after`` when it sent one) or a terminal ``PromoterError``
(promoter.forges.http_errors); ``call`` retries only the former, sleeping
through an injectable ``sleep``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from promoter.errors import PromoterError, RetryableError
from promoter.http_safety import redacted

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """How many times to try, and how long to wait in between."""

    attempts: int = 5
    base: float = 1.0
    cap: float = 30.0
    max_wait: float = 120.0  # a longer Retry-After is not waited out
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    budget: float | None = None  # seconds a call may take, retries included (--network-timeout)


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
    if exc.retry_after is not None:
        return exc.retry_after
    if exc.min_wait is not None:
        return float(exc.min_wait * 2 ** (attempt - 1))
    return float(min(backoff.cap, backoff.base * 2 ** (attempt - 1)))
