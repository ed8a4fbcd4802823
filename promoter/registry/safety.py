"""Where a credential may go, and what may be quoted from a server.

The rule, in one function: a credential is sent only to the origin (scheme,
host, port) it belongs to. Redirects to another origin (blob downloads go to
storage hosts) are followed without it. A token realm named by the registry may
receive the registry's credentials only over HTTPS, or on the registry's own
origin, or when both are on a loopback address. A realm remembered from an
earlier run (promoter.registry.realms) is asked under the same rule, and with
the credentials only when it is on the registry's own host or is the realm
promoter knows for that registry: a cache entry can never send them to a host
they were not already going to. Text quoted from a server is one line,
bounded, with every known secret replaced by ``***``.

The origin arithmetic and the redaction are promoter.http_safety's (the rule
for every HTTP client); this module adds the registry's own policy.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from promoter.git import redact as _redact
from promoter.http_safety import DEFAULT_PORTS, same_origin
from promoter.http_safety import origin_parts as origin

__all__ = ["DEFAULT_PORTS", "allowed_redirect", "is_loopback", "may_ask_remembered",
           "may_receive_credentials", "origin", "redact", "same_origin"]
QUOTE_LIMIT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


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


def may_ask_remembered(realm: str, registry: str, *, known: bool, credentials: bool) -> bool:
    """Whether a realm remembered for ``registry`` (``known``: built in, not read
    from the cache file) may be asked for a token before the registry names it,
    and, when ``credentials``, with the registry's credentials."""
    if not may_receive_credentials(realm, registry):
        return False
    return not credentials or known or origin(realm)[1] == origin(registry)[1]


def allowed_redirect(current: str, target: str) -> bool:
    """http(s) only, and never from HTTPS down to plain HTTP off loopback."""
    scheme, host, _ = origin(target)
    if scheme not in DEFAULT_PORTS:
        return False
    return not (origin(current)[0] == "https" and scheme == "http" and not is_loopback(host))


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` as one bounded line with every secret in ``secrets`` masked."""
    text = _redact(text, [secret for secret in secrets if len(secret) >= 4])
    line = " ".join(_CONTROL.sub(" ", text).split())
    return line if len(line) <= QUOTE_LIMIT else line[: QUOTE_LIMIT - 3] + "..."
