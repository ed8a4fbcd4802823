"""Backoff: what is retried, and what is not waited out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from promoter.errors import AuthError, PromoterError, RetryableError
from promoter.retry import PUSH, RECONNECT, Backoff, call


def test_terminal_errors_are_not_retried() -> None:
    slept: list[float] = []

    def refuse() -> None:
        raise AuthError("no; fix it")

    with pytest.raises(AuthError):
        call(refuse, Backoff(sleep=slept.append), "x")
    assert slept == []


def test_an_overlong_retry_after_is_not_waited_out() -> None:
    def limited() -> None:
        raise RetryableError("rate limited", retry_after=3600)

    with pytest.raises(PromoterError, match="after 1 attempt"):
        call(limited, Backoff(sleep=pytest.fail), "x")


def test_each_callers_schedule() -> None:
    assert [Backoff().delay(n) for n in range(1, 7)] == [1, 2, 4, 8, 16, 30]
    assert [replace(PUSH, random=lambda: 1.0).delay(n) for n in (1, 2, 3, 4, 5)] == [
        0, 0.6, 1.2, 2.4, 3.0]
    assert replace(PUSH, random=lambda: 0.25).delay(2) == 0.15
    assert PUSH.attempts == 30
    assert [RECONNECT.delay(n) for n in range(1, 8)] == [0.2, 0.5, 1.0, 2.0, 5.0, 5.0, 5.0]


def test_forge_calls_wait_the_schedule_between_tries() -> None:
    slept: list[float] = []
    tries = iter(range(3))

    def flaky() -> str:
        if next(tries) < 2:
            raise RetryableError("502 bad gateway")
        return "ok"

    assert call(flaky, Backoff(sleep=slept.append), "x") == "ok"
    assert slept == [1, 2]


def test_an_immediate_retry_does_not_sleep() -> None:
    slept: list[float] = []
    backoff = replace(PUSH, sleep=slept.append, random=lambda: 1.0)
    backoff.wait(1)
    backoff.wait(2)
    assert slept == [0.6]
