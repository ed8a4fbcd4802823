"""Forges: where promoter opens, updates and watches pull requests.

One small protocol (``Forge``), three implementations, one registry you can grep.
SDKs are imported inside their adapter module only, and only when used.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, fields, replace
from typing import Protocol

from promoter.registry.labels import Provenance

FORGES = {
    "local": "promoter.forges.local",
    "github": "promoter.forges.github",
    "gitlab": "promoter.forges.gitlab",
}

MARKER = "<!-- promoter:{app}/{env} -->"


@dataclass(frozen=True)
class ForgeSettings:
    """How to reach a forge. ``repo`` is ``--repo`` as given; ``slug`` the
    ``owner/name`` (GitHub) or ``group/sub/project`` (GitLab) inferred from it.
    Built from the environment by the caller (credentials.py, remote.py): the
    adapters read no environment variable."""

    repo: str
    slug: str | None = None
    api_url: str | None = None
    token: str | None = None
    job_token: str | None = None  # $CI_JOB_TOKEN: GitLab's JOB-TOKEN header, not a bearer
    app_id: str | None = None
    app_private_key: str | None = None
    timeout: float | None = None  # --network-timeout: each request, each call's retries


@dataclass(frozen=True)
class PullRequestSettings:
    """How promoter's pull request looks and merges: ``pull_request:`` of an
    environment in .promoter.yaml (every field set, DEFAULTS where not written)
    or the pull-request options of ``promote`` (None or empty: not given).
    ``over`` merges the two, the command line over the config; the forges get
    the result in a ``PullRequestSpec``."""

    title: str | None = None  # a template, see promoter.template
    body: str | None = None
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    draft: bool | None = None
    auto_merge: bool | None = None
    merge_method: str | None = None  # merge | squash | rebase
    delete_branch: bool | None = None

    def over(self, configured: PullRequestSettings) -> PullRequestSettings:
        """``configured`` with each setting given here in its place."""
        given = {f.name: getattr(self, f.name) for f in fields(self)}
        return replace(configured, **{k: v for k, v in given.items() if v not in (None, "", ())})


DEFAULTS = PullRequestSettings(draft=False, auto_merge=False, merge_method="merge",
                               delete_branch=False)


@dataclass(frozen=True, kw_only=True)
class PullRequestSpec(PullRequestSettings):
    """What promoter wants the pull request to look like: the settings, merged
    (hence set: the types narrow to DEFAULTS'), and what this promotion changes."""

    draft: bool = False
    auto_merge: bool = False
    merge_method: str = "merge"
    delete_branch: bool = False
    app: str
    env: str
    branch: str
    base: str
    image: str = ""
    changes: tuple[tuple[str, str, str], ...] = ()  # (file, old, new)
    source_commit: str | None = None
    source_url: str | None = None  # link to the source commit
    run_url: str | None = None  # link to the CI run
    provenance: Provenance | None = None  # OCI labels of old and new image (registry)


@dataclass(frozen=True)
class PullRequest:
    """A pull request (GitHub) or merge request (GitLab) as promoter sees it."""

    number: int
    url: str
    branch: str
    base: str
    state: str  # open | closed | merged
    title: str = ""
    head_sha: str = ""
    merge_commit_sha: str | None = None
    draft: bool = False
    labels: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ForgeResult:
    """What ``Forge.publish`` did."""

    pull_request: PullRequest | None
    operation: str  # created | updated | none
    superseded: tuple[PullRequest, ...] = ()


class Forge(Protocol):
    """The operations promoter needs from a forge."""

    def publish(self, spec: PullRequestSpec, changed: bool) -> ForgeResult:
        """Create the pull request for ``spec.branch`` or bring the open one up
        to date; close superseded promoter PRs of the same app and env."""
        ...

    def close(self, branch: str, note: str) -> PullRequest | None:
        """Close the open pull request of ``branch`` with the comment ``note``;
        the closed pull request, or None when none was open."""
        ...

    def get(self, number: int) -> PullRequest:
        """Read a pull request's current state (for waiting on the merge)."""
        ...


def connect(name: str, settings: ForgeSettings) -> Forge:
    """Import the adapter named in FORGES and return its forge; each adapter
    module defines ``connect(settings: ForgeSettings) -> Forge``."""
    module = importlib.import_module(FORGES[name])
    forge: Forge = module.connect(settings)
    return forge
