"""GitHub API errors translated into promoter errors (PyGithub's exceptions
never leave the adapter): retryable, auth, or terminal, with what to do."""

from __future__ import annotations

from typing import Any

from github import GithubException

from promoter.errors import AuthError, InputError, PromoterError, RetryableError
from promoter.forges.http_errors import delay_from_headers
from promoter.http_safety import redact

CROSS_REPO = (
    "; a workflow's GITHUB_TOKEN cannot write to another repository:"
    " use a GitHub App or a fine-grained token for it"
)
EXISTS = "a pull request already exists"
# what PyGithub raises when an answer is not shaped like GitHub's (a missing field, a
# list for an object), or when the server links outside base_url (AssertionError)
SDK_CRASHES = (AssertionError, AttributeError, KeyError, TypeError, ValueError)
SECONDARY = "secondary rate limit"


def _messages(exc: GithubException) -> list[str]:
    """The top-level message, then each ``errors[].message`` of the body."""
    data: Any = exc.data if isinstance(exc.data, dict) else {}
    errors = data.get("errors") if isinstance(data.get("errors"), list) else []
    texts = [data.get("message")] + [e.get("message") for e in errors if isinstance(e, dict)]
    return [str(t) for t in texts if t]


def already_exists(exc: GithubException) -> bool:
    """422 "A pull request already exists for owner:branch": another run won the race."""
    return exc.status == 422 and any(EXISTS in m.lower() for m in _messages(exc))


def translate(
    exc: GithubException, *, slug: str, what: str, need: str, missing: str | None, now: float
) -> PromoterError:
    """The promoter error for ``exc``, raised while ``what`` on ``slug``;
    ``need`` names the permission a 403 lacks, ``missing`` the 404 message."""
    status, headers = exc.status, dict(exc.headers or {})
    texts = _messages(exc)
    text = redact(texts[0] if texts else "").split("\n")[0][:200]
    lower = {k.lower(): v for k, v in headers.items()}
    limited = "rate limit" in text.lower() or lower.get("x-ratelimit-remaining") == "0"
    if status == 429 or status >= 500 or (status == 403 and limited):
        secondary = SECONDARY in text.lower()  # no time given: a minute, doubling (GitHub docs)
        return RetryableError(f"GitHub answered {status} to {what}: {text}",
                              delay_from_headers(headers, now), 60.0 if secondary else None)
    if status == 401:
        return AuthError(
            f"GitHub rejected the credentials (401) while {what} on {slug};"
            " check that the token or GitHub App key is valid and not expired"
        )
    if status == 403 and "not permitted to create" in text:
        return AuthError(
            f"GitHub refused {what} on {slug} ({text}); enable Settings -> Actions"
            " -> 'Allow GitHub Actions to create and approve pull requests',"
            " or use a GitHub App"
        )
    if status == 403:
        return AuthError(f"GitHub refused {what} on {slug} (403: {text}); the token needs"
                         f" {need}" + CROSS_REPO)
    if status == 404:
        return AuthError(
            missing or f"GitHub repository {slug} not found while {what};"
            " check --repo, and that the token can see the repository"
        )
    return PromoterError(f"GitHub answered {status} to {what} on {slug}: {text};"
                         " check the pull request settings")


def unusable(exc: Exception, *, what: str, slug: str, api: str) -> PromoterError:
    """The error for an answer PyGithub could not use: a link outside ``api``
    (exit 2), or a body that is not what GitHub returns (exit 1)."""
    if isinstance(exc, AssertionError):
        return InputError(redact(
            f"GitHub at {api} pointed {what} on {slug} at another origin ({exc});"
            " promoter talks only to --api-url: check --api-url"))
    return PromoterError(redact(
        f"GitHub at {api} answered {what} on {slug} with something that is not GitHub's"
        f" API ({type(exc).__name__}); check --api-url, or the server"))
