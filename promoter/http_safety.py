"""The rule every HTTP client of promoter follows (forges, Argo CD, the Kubernetes
API, a registry), stated once:

1. Credentials go only to the origin (scheme, host, port) they were given for.
   A redirect to another origin is refused (``refuse_other_origin``): nothing,
   not even a credential-less request, is sent there. Where an API documents
   that a redirect is followed without credentials, its client may do that
   instead, and must say so.
2. Every request is bounded: an overall deadline for the whole exchange
   (connect, headers, body), not just a per-read timeout, so a server that
   trickles one byte a second is cut off (``Limits.request_seconds``: at most
   60 s, less with a shorter ``--network-timeout``).
   A body larger than ``Limits.max_bytes`` is refused, before it is read when
   the server announces it.
3. Every message that quotes a server (status text, error body, header, URL)
   is redacted with ``redact``, the git runner's redaction, over every secret
   this process has sent (``remember``). ``install_log_redaction`` does the same
   for log records, so an SDK's debug log cannot print an echoed token.

This module is pure (no HTTP library); ``promoter.forges.http`` applies it to
the ``requests`` sessions of PyGithub and python-gitlab, and
``promoter.registry.safety`` builds the registry's policy (token realms,
storage redirects followed without credentials) on its origins and redaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from promoter.errors import InputError, PromoterError, WaitTimeout
from promoter.git import redact as _redact

MiB = 1 << 20
CA_HINT = ("set SSL_CERT_FILE or REQUESTS_CA_BUNDLE to the CA bundle that signed it"
           " (GIT_SSL_CAINFO for git alone)")
_SECRETS: set[str] = set()
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_parts(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of ``url``, lower-cased, default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme, 0)


def origin(url: str) -> str:
    """``scheme://host:port`` of ``url``, with the default port made explicit."""
    scheme, host, port = origin_parts(url)
    return f"{scheme}://{host}:{port}"


def same_origin(a: str, b: str) -> bool:
    """The origin rule: a credential given for ``a`` may be sent to ``b``."""
    return origin_parts(a) == origin_parts(b)


def refuse_other_origin(bound: str, url: str, came_from: str) -> None:
    """Raise unless ``url`` is on origin ``bound`` (a redirect from ``came_from``)."""
    if not same_origin(bound, url):
        raise InputError(redact(
            f"{came_from} redirected to {url}, another origin; promoter sends credentials"
            f" only to {origin(bound)} and follows no redirect elsewhere: point --api-url"
            " (or the server option) at the new location"
        ))


REQUEST_SECONDS = 60.0


@dataclass(frozen=True)
class Limits:
    """How long one request may take and how big its answer may be."""

    request_seconds: float = REQUEST_SECONDS
    max_bytes: int = 32 * MiB

    @classmethod
    def within(cls, timeout: float | None) -> Limits:
        """The limits for a run whose --network-timeout is ``timeout`` seconds."""
        return cls(REQUEST_SECONDS if timeout is None else min(REQUEST_SECONDS, timeout))


def too_slow(what: str, seconds: float) -> WaitTimeout:
    return WaitTimeout(redact(f"{what} took longer than {seconds:g}s (the server stalls or"
                              " trickles); check it, or raise --network-timeout"))


def too_large(what: str, size: int | None, limit: int) -> PromoterError:
    said = f"{size / MiB:.0f} MiB" if size else f"more than {limit // MiB} MiB"
    return PromoterError(redact(f"{what}: the answer is {said}, over the {limit // MiB} MiB"
                                " limit; check the server or --api-url"))


# -- redaction -----------------------------------------------------------------------------


def remember(*secrets: str) -> None:
    """Secrets this process sends (tokens, header values): redacted everywhere."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            _SECRETS.add(secret)


def header_secrets(value: str) -> tuple[str, ...]:
    """A credential header value and its bare token (``Bearer X`` -> ``X``)."""
    scheme, _, rest = value.partition(" ")
    return (value, rest) if rest and scheme.isalpha() else (value,)


def redact(text: str) -> str:
    """``text`` with every remembered secret replaced by ``***``."""
    return _redact(text, tuple(_SECRETS))


def redacted(error: PromoterError) -> PromoterError:
    """``error`` itself, its message redacted."""
    if error.args:
        error.args = (redact(str(error.args[0])), *error.args[1:])
    return error


class _Redacting(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            record.msg, record.args = redact(record.getMessage()), None
        return True


_FILTER = _Redacting()


def install_log_redaction() -> None:
    """Redact every log record, whichever library logs it (idempotent)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "redacts", False):
        return

    def make(*args: object, **kwargs: object) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        _FILTER.filter(record)
        return record

    make.redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make)
