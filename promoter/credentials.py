"""Where promoter's git token comes from, and the user name each kind needs.

    PROMOTER_TOKEN   any forge; user PROMOTER_GIT_USER, else x-access-token
                     (GitHub), oauth2 (GitLab, when the forge is gitlab)
    GITHUB_TOKEN     user x-access-token (PATs, Actions and GitHub App tokens)
    GH_TOKEN         the same (the GitHub CLI's variable)
    GITLAB_TOKEN     user oauth2 (personal, project and group access tokens)
    CI_JOB_TOKEN     user gitlab-ci-token (GitLab CI job token)

The first one set wins, after PROMOTER_TOKEN; with ``--forge github`` only the
GitHub variables count, with ``--forge gitlab`` only the GitLab ones, so a
GITHUB_TOKEN in a GitLab job's environment is never sent to GitLab.
The token only ever reaches git through the environment of the git process
(a credential helper scoped to the remote's origin: ``git_remote.HELPER``).
The forge adapters get it, with the API URL and the slug, in ``ForgeSettings``
(``connect_forge``).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from promoter.forges import Forge
    from promoter.promotion import Request

SOURCES = (
    ("PROMOTER_TOKEN", None),
    ("GITHUB_TOKEN", "x-access-token"),
    ("GH_TOKEN", "x-access-token"),
    ("GITLAB_TOKEN", "oauth2"),
    ("CI_JOB_TOKEN", "gitlab-ci-token"),
)
FORGE_SOURCES = {
    "github": ("PROMOTER_TOKEN", "GITHUB_TOKEN", "GH_TOKEN"),
    "gitlab": ("PROMOTER_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN"),
}


@dataclass(frozen=True)
class Credentials:
    user: str
    token: str
    source: str  # the environment variable it came from

    def header(self) -> str:
        """``Basic base64(user:token)``."""
        raw = f"{self.user}:{self.token}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def __repr__(self) -> str:  # never print the token
        return f"Credentials(user={self.user!r}, source={self.source!r})"


def job_token(environ: Mapping[str, str]) -> str | None:
    """GitLab CI's job token: a token equal to it goes in the JOB-TOKEN header."""
    return environ.get("CI_JOB_TOKEN") or None


def from_env(environ: Mapping[str, str], forge: str = "local") -> Credentials | None:
    """The first token set in ``environ`` that suits ``forge``, with the user
    its kind needs."""
    allowed = FORGE_SOURCES.get(forge)
    for name, user in SOURCES:
        if allowed is not None and name not in allowed:
            continue
        token = environ.get(name, "").strip()
        if token:
            default = "oauth2" if forge == "gitlab" else "x-access-token"
            chosen = environ.get("PROMOTER_GIT_USER") or user or default
            return Credentials(chosen, token, name)
    return None


def connect_forge(request: Request, forge_name: str, environ: Mapping[str, str]) -> Forge:
    """The forge adapter for ``request.repo`` (SDKs load here, not before)."""
    from promoter import remote
    from promoter.forges import ForgeSettings, connect

    found = from_env(environ, forge_name)
    settings = ForgeSettings(
        repo=request.repo, slug=remote.slug(request.repo),
        api_url=api_url(request, forge_name, environ),
        token=found.token if found else None, job_token=job_token(environ),
        app_id=request.app_id,
        app_private_key=request.app_private_key, timeout=request.network_limit,
    )
    return connect(forge_name, settings)


def api_url(request: Request, forge_name: str, environ: Mapping[str, str]) -> str | None:
    """The forge's API URL: ``--api-url``, else the CI's or the host's
    (``remote.api_url``). InputError when it carries credentials (the token goes
    in a header, never in the URL), naming where it came from: ``promote`` asks
    before the clone, ``connect_forge`` before any request."""
    from promoter import remote

    url: str | None
    if request.api_url:
        url, source = request.api_url, "--api-url"
    else:
        url = remote.api_url(forge_name, request.repo, environ)
        source = "GITHUB_API_URL" if forge_name == "github" else "CI_SERVER_URL"
    if url:
        remote.refuse_credentials(remote.parse(url), source)
    return url


def git_credentials(
    request: Request, forge_name: str, environ: Mapping[str, str], mask: Callable[[str], None]
) -> tuple[Credentials | None, Forge | None]:
    """The credentials git pushes with. With a GitHub App (--app-id and
    --app-private-key) the forge is connected first and its installation token
    (``git_token()``) is used, handed to ``mask`` before anything could print it;
    otherwise the token from the environment."""
    if not (request.app_id and request.app_private_key and forge_name == "github"):
        return from_env(environ, forge_name), None
    forge = connect_forge(request, forge_name, environ)
    git_token = getattr(forge, "git_token", None)
    if git_token is None:
        return from_env(environ, forge_name), forge
    token = str(git_token())
    mask(token)  # a derived secret
    return Credentials("x-access-token", token, "GitHub App"), forge
