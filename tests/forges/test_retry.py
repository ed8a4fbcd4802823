"""Backoff: what is retried, and what is not waited out."""

from __future__ import annotations

import pytest

from promoter.errors import AuthError, PromoterError, RetryableError
from promoter.forges.retry import Backoff, call


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
