"""HTTP errors from the forges, in promoter's terms: the wait a server asks for
(Retry-After, rate-limit reset headers) and the ``requests`` transport errors
both SDKs raise. Retrying them is promoter.retry's business."""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from promoter.errors import PromoterError, RetryableError


def delay_from_headers(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asked us to wait: Retry-After (seconds or HTTP date),
    else the rate-limit reset epoch (GitHub x-ratelimit-reset when nothing
    remains, GitLab RateLimit-Reset)."""
    lower = {k.lower(): v for k, v in headers.items()}
    after = lower.get("retry-after")
    if after:
        return _retry_after(after, now)
    remaining = lower.get("x-ratelimit-remaining", lower.get("ratelimit-remaining"))
    reset = lower.get("x-ratelimit-reset", lower.get("ratelimit-reset"))
    if reset and remaining == "0":
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return None
    return None


def _retry_after(value: str, now: float) -> float | None:
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


def transport_error(exc: Exception, url: str) -> PromoterError:
    """A ``requests`` error talking to the forge at ``url``: a connection error or
    timeout is retryable, any other request error is not."""
    import requests  # loaded already by the adapter that calls this

    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return RetryableError(f"cannot reach {url} ({type(exc).__name__})")
    return PromoterError(f"cannot talk to {url} ({type(exc).__name__}); check --api-url")
