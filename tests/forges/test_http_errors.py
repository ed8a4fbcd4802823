"""The server's wait hints and the transport errors of the forges' HTTP clients."""

from __future__ import annotations

import pytest
import requests

from promoter.errors import PromoterError, RetryableError
from promoter.forges.http_errors import delay_from_headers, transport_error


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
