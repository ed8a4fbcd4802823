"""HTTP for the registry client, over requests.

One function sends a request. Redirects are followed by hand (at most
``MAX_REDIRECTS``): the Authorization header goes only to the origin it was
given for (safety.same_origin), so a blob download redirected to a storage host
is fetched without it; an HTTPS -> HTTP downgrade is refused. ``~/.netrc`` is
never consulted. Bodies are read up to a limit. requests' exceptions become
promoter's: a registry that cannot be reached is one line, exit 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import requests

from promoter import __version__
from promoter.errors import PromoterError
from promoter.registry.safety import DEFAULT_PORTS, allowed_redirect, origin, same_origin

MAX_REDIRECTS = 5
USER_AGENT = f"promoter/{__version__}"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes
    url: str  # after redirects


@dataclass(frozen=True)
class Credential:
    """An Authorization header and the origin it belongs to."""

    header: str = field(repr=False)
    origin: str


class _NoNetrc(requests.auth.AuthBase):
    """Passed as ``auth`` so requests never adds ~/.netrc credentials."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


class Transport:
    """A requests session with promoter's rules; ``timeout`` in seconds."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.sent = 0  # requests sent, redirects included (the benchmark reads it)

    def send(
        self, method: str, url: str, headers: dict[str, str], credential: Credential | None,
        limit: int, params: dict[str, str] | None = None,
    ) -> Reply:
        for _ in range(MAX_REDIRECTS + 1):
            reply = self._once(method, url, _with(headers, credential, url), limit, params)
            location = reply.headers.get("location")
            if reply.status not in _REDIRECTS or not location:
                return reply
            target = urljoin(url, location)
            if not allowed_redirect(url, target):
                raise PromoterError(f"registry {_host(url)} redirected to a refused address "
                                    f"({origin(target)[0]}://{origin(target)[1]}); "
                                    "check the registry's configuration")
            method = "GET" if reply.status == 303 and method != "HEAD" else method
            url, params = target, None
        raise PromoterError(f"registry {_host(url)} redirected more than {MAX_REDIRECTS} times; "
                            "check the registry's configuration")

    def _once(
        self, method: str, url: str, headers: dict[str, str], limit: int,
        params: dict[str, str] | None,
    ) -> Reply:
        self.sent += 1
        try:
            with self.session.request(
                method, url, headers=headers, params=params, allow_redirects=False,
                timeout=self.timeout, stream=True, auth=_NoNetrc(),
            ) as response:
                body = b"" if method == "HEAD" else _read(response, limit, url)
                names = {k.lower(): v for k, v in response.headers.items()}
                return Reply(response.status_code, names, body, url)
        except requests.exceptions.RequestException as exc:
            raise unreachable(url, exc, self.timeout) from None

    def close(self) -> None:
        self.session.close()


def _with(headers: dict[str, str], credential: Credential | None, url: str) -> dict[str, str]:
    if credential is not None and same_origin(credential.origin, url):
        return {**headers, "Authorization": credential.header}
    return dict(headers)


def _read(response: requests.Response, limit: int, url: str) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(65536):
        size += len(chunk)
        if size > limit:
            raise PromoterError(f"registry {_host(url)} sent more than {limit} bytes for "
                                f"{url.rsplit('/', 1)[-1][:80]}; refusing it")
        chunks.append(chunk)
    return b"".join(chunks)


def _host(url: str) -> str:
    scheme, host, port = origin(url)
    return host if DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"


def unreachable(url: str, exc: Exception, timeout: float) -> PromoterError:
    """One line for a request that got no HTTP answer."""
    return PromoterError(f"registry {_host(url)} is unreachable ({reason(exc, timeout)}); "
                         "check the address and the network, or pass --no-registry")


def reason(exc: Exception, timeout: float) -> str:
    """A short reason: ``connection refused``, ``timed out after 2s``, ``TLS: ...``."""
    if isinstance(exc, requests.exceptions.Timeout):
        return f"no answer within {timeout:g}s"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake failed: " + _first_line(exc)[:120]
    found = _ERRNO.search(_describe(exc))
    if found:
        return found.group(1).strip().lower()
    return type(exc).__name__


def _describe(exc: BaseException) -> str:
    parts: list[str] = []
    seen: Any = exc
    while seen is not None and len(parts) < 8:
        parts.append(str(seen))
        seen = seen.__cause__ or seen.__context__
    return " ".join(parts)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__
