"""Where a credential may go, and what may be quoted from a server.

The rule, in one function: a credential is sent only to the origin (scheme,
host, port) it belongs to. Redirects to another origin (blob downloads go to
storage hosts) are followed without it. A token realm named by the registry may
receive the registry's credentials only over HTTPS, or on the registry's own
origin, or when both are on a loopback address. Text quoted from a server is
one line, bounded, with every known secret replaced by ``***``.

Written to merge into one HTTP-safety module with the forges' later.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
QUOTE_LIMIT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def origin(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of ``url``, lower-cased, default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme, 0)


def same_origin(a: str, b: str) -> bool:
    """The origin rule: a credential for ``a`` may be sent to ``b``."""
    return origin(a) == origin(b)


def is_loopback(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1 (``host`` may carry a port or brackets)."""
    name = host.lower()
    if name.startswith("["):
        name = name[1:].partition("]")[0]
    elif name.count(":") == 1:
        name = name.partition(":")[0]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def may_receive_credentials(realm: str, registry: str) -> bool:
    """Whether the token realm ``realm`` named by ``registry`` (both URLs) may get
    the registry's credentials."""
    if same_origin(realm, registry):
        return True
    scheme, host, _ = origin(realm)
    if scheme == "https":
        return True
    return scheme == "http" and is_loopback(host) and is_loopback(origin(registry)[1])


def allowed_redirect(current: str, target: str) -> bool:
    """http(s) only, and never from HTTPS down to plain HTTP off loopback."""
    scheme, host, _ = origin(target)
    if scheme not in DEFAULT_PORTS:
        return False
    return not (origin(current)[0] == "https" and scheme == "http" and not is_loopback(host))


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` as one bounded line with every secret in ``secrets`` masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    line = " ".join(_CONTROL.sub(" ", text).split())
    return line if len(line) <= QUOTE_LIMIT else line[: QUOTE_LIMIT - 3] + "..."
