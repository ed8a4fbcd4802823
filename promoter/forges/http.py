"""``promoter.http_safety``'s rule applied to ``requests``, for both forge SDKs.

``SafeSession`` is bound to one origin. It refuses to send anything elsewhere
(so a redirect to another origin never receives the token, whether requests or
the SDK follows it), reads every body itself under the request's overall
deadline and size limit, checks that a JSON API answered JSON, and remembers
the credential headers it sends so that every message quoting the server can
be redacted. A watchdog thread shuts the connection's socket down when the
deadline passes: per-read timeouts alone let a one-byte-a-second server run on.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from promoter import http_safety
from promoter.errors import InputError, PromoterError
from promoter.http_safety import Limits

CREDENTIAL_HEADERS = ("authorization", "private-token", "job-token")
REDIRECTS = (301, 302, 303, 307, 308)
_local = threading.local()


class _Watch:
    """The connection of the request in flight, to be cut at the deadline."""

    def __init__(self) -> None:
        self.connection: Any = None
        self.fired = False

    def cut(self) -> None:
        self.fired = True
        sock = getattr(self.connection, "sock", None)
        if sock is not None:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Tracked:
    def request(self, *args: Any, **kwargs: Any) -> Any:
        watch = getattr(_local, "watch", None)
        if watch is not None:
            watch.connection = self
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Tracked, HTTPConnection):
    pass


class _HTTPSConnection(_Tracked, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


class SafeSession(requests.Session):
    """A requests session that talks to ``bound`` (an origin) only.

    ``sdk_follows``: the redirect statuses the SDK follows by itself (PyGithub:
    301); with ``allow_redirects=False`` any other redirect answer is an error."""

    def __init__(self, bound: str, limits: Limits, name: str,
                 sdk_follows: tuple[int, ...] = ()) -> None:
        super().__init__()
        self.bound, self.limits, self.name, self.sdk_follows = bound, limits, name, sdk_follows
        self._depth = 0
        for scheme in ("http://", "https://"):
            self.mount(scheme, _Adapter())
        self.hooks["response"].insert(0, self._read_body)
        http_safety.install_log_redaction()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        what = f"{self.name}: {request.method} {request.url}"
        http_safety.refuse_other_origin(self.bound, request.url or "", self.name)
        for header, value in request.headers.items():
            if header.lower() in CREDENTIAL_HEADERS:
                http_safety.remember(*http_safety.header_secrets(str(value)))
        kwargs["stream"] = True
        kwargs["verify"] = _ca_bundle(kwargs.get("verify", True))
        budget = self.limits.request_seconds
        kwargs["timeout"] = _shorter(kwargs.get("timeout"), budget)
        self._depth += 1
        try:
            with _watching(budget) as watch:
                response = self._send(request, watch, what, budget, **kwargs)
        finally:
            self._depth -= 1
        if self._depth == 0:
            self._check_final(response, kwargs.get("allow_redirects", True), what)
        return response

    def _send(self, request: requests.PreparedRequest, watch: _Watch, what: str,
              budget: float, **kwargs: Any) -> requests.Response:
        try:
            return super().send(request, **kwargs)
        except requests.exceptions.SSLError as exc:
            raise InputError(http_safety.redact(
                f"{what}: TLS verification failed ({_cause(exc)}); {http_safety.CA_HINT}"
            )) from exc
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            if watch.fired or isinstance(exc, requests.exceptions.ReadTimeout):
                raise http_safety.too_slow(what, budget) from exc
            raise

    def _read_body(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Response hook: the redirect check, then the body, capped."""
        location = response.headers.get("Location")
        if response.status_code in REDIRECTS and location:
            target = requests.compat.urljoin(response.url, location)
            http_safety.refuse_other_origin(self.bound, target, f"{self.name} ({response.url})")
        limit = self.limits.max_bytes
        what = f"{self.name}: {response.request.method} {response.url}"
        announced = response.headers.get("Content-Length", "")
        if announced.isdigit() and int(announced) > limit:
            response.close()
            raise http_safety.too_large(what, int(announced), limit)
        body = bytearray()
        for chunk in response.raw.stream(64 * 1024, decode_content=True):
            body += chunk
            if len(body) > limit:
                response.close()
                raise http_safety.too_large(what, None, limit)
        response._content = bytes(body)
        response._content_consumed = True  # type: ignore[attr-defined]

    def _check_final(self, response: requests.Response, allow_redirects: bool,
                     what: str) -> None:
        status = response.status_code
        if status in REDIRECTS and not allow_redirects and status not in self.sdk_follows:
            raise InputError(http_safety.redact(
                f"{what} answered {status} (to {response.headers.get('Location')}), not the"
                " API; check --api-url"))
        if status >= 300 or not response.content.strip():
            if _looks_json(response):
                _parsed(response, what)
            return
        if "json" not in response.headers.get("Content-Type", "").lower():
            raise InputError(http_safety.redact(
                f"{what} answered {status} with"
                f" {response.headers.get('Content-Type') or 'no content type'}, not JSON;"
                " check --api-url: it must be the API, not the web interface"))
        _parsed(response, what)


def _looks_json(response: requests.Response) -> bool:
    return response.content.lstrip()[:1] in (b"{", b"[") or "json" in response.headers.get(
        "Content-Type", "").lower()


def _parsed(response: requests.Response, what: str) -> None:
    """Raise unless the body is JSON a client can handle (no deep nesting)."""
    try:
        json.loads(response.content)
    except (ValueError, RecursionError) as exc:
        kind = "nested too deeply" if isinstance(exc, RecursionError) else "that does not parse"
        raise PromoterError(http_safety.redact(
            f"{what} answered {response.status_code} with JSON {kind}; check the server"
            " (or --api-url)")) from None


@contextmanager
def _watching(seconds: float) -> Iterator[_Watch]:
    watch, outer = _Watch(), getattr(_local, "watch", None)
    timer = threading.Timer(seconds, watch.cut)
    timer.daemon = True
    _local.watch = watch
    timer.start()
    try:
        yield watch
    finally:
        timer.cancel()
        _local.watch = outer


def _shorter(given: Any, budget: float) -> tuple[float, float]:
    if isinstance(given, (int, float)):
        return (min(float(given), budget), min(float(given), budget))
    if isinstance(given, tuple):
        return tuple(min(float(t or budget), budget) for t in given)  # type: ignore[return-value]
    return (budget, budget)


def _ca_bundle(verify: Any) -> Any:
    """requests reads REQUESTS_CA_BUNDLE itself but not SSL_CERT_FILE; honour both."""
    if verify is True and not os.environ.get("REQUESTS_CA_BUNDLE"):
        return os.environ.get("SSL_CERT_FILE") or True
    return verify


def _cause(exc: Exception) -> str:
    text = str(exc)
    for sign in ("certificate verify failed", "hostname mismatch", "self-signed", "expired"):
        start = text.find(sign)
        if start >= 0:
            return text[start:].split("'")[0].split(")")[0].strip()
    return type(exc).__name__


def bound_connection(base: type[Any], bound: str, limits: Limits, name: str,
                     sdk_follows: tuple[int, ...] = ()) -> type[Any]:
    """A subclass of an httplib-like connection class (PyGithub's) whose
    ``session`` is a SafeSession bound to the origin of ``bound``, wherever the
    SDK points the connection."""

    class Connection(base):  # type: ignore[misc]
        session: Any

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            auth = self.session.auth
            self.session.close()
            self.session = SafeSession(bound, limits, name, sdk_follows)
            self.session.auth = auth

    return Connection
