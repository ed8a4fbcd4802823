"""Backoff and the server's wait hints."""

from __future__ import annotations

import pytest
import requests

from promoter.errors import AuthError, PromoterError, RetryableError
from promoter.forges.retry import Backoff, call, delay_from_headers, transport_error


def test_retry_after_seconds_and_http_date() -> None:
    assert delay_from_headers({"Retry-After": "12"}, 0) == 12
    assert delay_from_headers({"retry-after": "Thu, 01 Jan 1970 00:01:40 GMT"}, 40) == 60


def test_reset_epoch_only_when_nothing_remains() -> None:
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "130"}
    assert delay_from_headers(headers, 100) == 30
    assert delay_from_headers({**headers, "X-RateLimit-Remaining": "5"}, 100) is None


@pytest.mark.parametrize(("exc", "kind", "message"), [
    (requests.ConnectionError("refused"), RetryableError,
     "cannot reach https://forge.example/api (ConnectionError)"),
    (requests.ReadTimeout("slow"), RetryableError,
     "cannot reach https://forge.example/api (ReadTimeout)"),
    (requests.TooManyRedirects("loop"), PromoterError,
     "cannot talk to https://forge.example/api (TooManyRedirects); check --api-url"),
])
def test_transport_errors(exc: Exception, kind: type[PromoterError], message: str) -> None:
    error = transport_error(exc, "https://forge.example/api")
    assert type(error) is kind and error.message == message and error.exit_code == 1


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
