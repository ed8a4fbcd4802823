"""What a failed git command means: the promoter error, with its exit code and
what to do, read from git's stderr (redacted, one line).

    401/403, no credentials          AuthError (3): check the token
    a redirect to another origin     InputError (2): credentials stay with --repo's origin
    HTTP 5xx (clone, fetch, push)    PromoterError (1): try again later
    too slow / timed out             WaitTimeout (5): the server stalls
    certificate not trusted          InputError (2): give the CA bundle
    cannot reach, not found          InputError (2): check --repo
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from promoter.errors import AuthError, InputError, PromoterError, WaitTimeout

_SERVER_ERROR = re.compile(r"(returned error:|http) (5\d\d)", re.IGNORECASE)
_SLOW_SIGNS = ("operation too slow", "operation timed out", "timed out")
_TLS_SIGNS = ("certificate", "ssl", "tls", "gnutls")
_AUTH_SIGNS = (
    "authentication failed", "could not read username", "could not read password",
    "terminal prompts disabled", "returned error: 401", "returned error: 403",
    "permission denied", "access denied", "invalid username or password",
    "http basic: access denied", "you are not allowed", "write access to repository not granted",
)
_REACH_SIGNS = (
    "could not resolve host", "connection refused", "does not appear to be a git repository",
    "repository not found", "returned error: 404", "could not read from remote repository",
    "failed to connect", "unable to access", "no such file or directory", "not found",
    "timed out",
)
# git names the URL it ended up at: after following a redirect, or asking for credentials
_REDIRECT = re.compile(r"(?:redirecting to |(?:Username|Password) for ')(https?://[^'\s]+)")


def failure(
    redact: Callable[[str], str], argv: Sequence[str], code: int, stderr: str
) -> PromoterError:
    """The promoter error for a failed git command (secrets redacted, one line)."""
    lines = [line.strip() for line in redact(stderr).splitlines() if line.strip()]
    detail = " / ".join(line for line in lines if not line.startswith("hint:"))[-400:]
    what = f"`{redact(' '.join(argv[:3]))}` failed (exit {code}): {detail or 'no output'}"
    low = stderr.lower()
    moved = other_origin(argv, stderr)
    if moved:
        return InputError(f"{what}; {moved}")
    if any(sign in low for sign in _AUTH_SIGNS):
        return AuthError(f"{what}; check the token (PROMOTER_TOKEN) and its write access")
    server_error = _SERVER_ERROR.search(stderr)
    if server_error:
        return PromoterError(f"{what}; the git server failed (HTTP {server_error[2]}):"
                             " try again later")
    if any(sign in low for sign in _SLOW_SIGNS):
        return WaitTimeout(f"{what}; the git server stalls or is too slow: check it, or tune"
                           " GIT_HTTP_LOW_SPEED_LIMIT / GIT_HTTP_LOW_SPEED_TIME")
    if "unable to access" in low and any(sign in low for sign in _TLS_SIGNS):
        return InputError(f"{what}; the server's certificate is not trusted: set"
                          " GIT_SSL_CAINFO or SSL_CERT_FILE to the CA bundle that signed it")
    if any(sign in low for sign in _REACH_SIGNS):
        return InputError(f"{what}; check --repo and that the remote is reachable")
    return PromoterError(f"{what}; see git's message")


def other_origin(argv: Sequence[str], stderr: str) -> str | None:
    """Why a redirect git followed is refused (it left the remote's origin), or None."""
    from promoter.http_safety import origin

    found = _REDIRECT.search(stderr)
    urls = [arg for arg in argv if arg.startswith(("http://", "https://"))]
    if found is None or not urls or origin(found[1]) == origin(urls[-1]):
        return None
    return (f"the git server redirected to {found[1]}, another origin; promoter sends"
            f" credentials only to {origin(urls[-1])}: give the new URL as --repo")
