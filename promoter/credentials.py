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
(``http.<origin>.extraHeader``).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass

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
