"""GitLab API errors translated into promoter errors (python-gitlab's exceptions
never leave the adapter): retryable, auth, or terminal, with what to do."""

from __future__ import annotations

from collections.abc import Mapping

from gitlab.exceptions import GitlabError

from promoter.errors import AuthError, PromoterError, RetryableError
from promoter.forges.http_errors import delay_from_headers
from promoter.http_safety import redact

EXISTS = "another open merge request already exists"
JOB_TOKEN = (
    "; a CI_JOB_TOKEN cannot create or update merge requests:"
    " use a project or group access token (role Developer, scope api)"
)


def already_exists(exc: GitlabError) -> bool:
    """409 "Another open merge request already exists": another run won the race."""
    return exc.response_code == 409 and EXISTS in str(exc.error_message).lower()


def translate(exc: GitlabError, *, slug: str, what: str, headers: Mapping[str, str],
              now: float) -> PromoterError:
    """The promoter error for ``exc``, raised while ``what`` on ``slug``;
    ``headers`` are the last response's (Retry-After, RateLimit-Reset)."""
    status = exc.response_code or 0
    text = redact(str(exc.error_message)).split("\n")[0][:200]
    if status == 429 or status >= 500:
        return RetryableError(f"GitLab answered {status} to {what}: {text}",
                              delay_from_headers(headers, now))
    if status == 401:
        return AuthError(
            f"GitLab rejected the token (401) while {what} on {slug};"
            " check that it is valid, not expired, and has the api scope"
        )
    if status == 403:
        return AuthError(
            f"GitLab refused {what} on {slug} (403: {text}); the token needs"
            " the api scope and the Developer role" + JOB_TOKEN
        )
    if status == 404:
        return AuthError(
            f"GitLab project {slug} not found while {what};"
            " check --repo, and that the token can see the project"
        )
    return PromoterError(f"GitLab answered {status} to {what} on {slug}: {text};"
                         " check the merge request settings")
