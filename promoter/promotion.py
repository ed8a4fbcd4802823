"""The values a promotion passes around: the request, the shared job, and the
result record (schema ``promoter/v1``) with the typed result of each stage
after the push: the pull request (``forges.PullRequest``), the ``Merge``, the
verification (``verify.VerifyResult``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from promoter import config as cfg
from promoter import git, plan, workspace
from promoter.errors import PromoterError
from promoter.forges import PullRequest, PullRequestSettings
from promoter.images import ImageRef
from promoter.registry.options import Options as RegistryOptions
from promoter.retry import PROMOTE_TIMEOUT, PUSH, Backoff
from promoter.verify.cluster import Cluster

if TYPE_CHECKING:
    from promoter.verify import VerifyResult

SCHEMA = "promoter/v1"


@dataclass(frozen=True)
class Request:
    repo: str
    app: str | None = None
    env: str | None = None
    image: str | None = None
    from_env: str | None = None
    paths: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    base: str | None = None
    forge: str | None = None
    direct: bool | None = None
    branch: str | None = None  # template with {app} {env}; overrides the config
    dry_run: bool = False
    author: git.Identity | None = None
    committer: git.Identity | None = None
    message: str | None = None
    signoff: bool = False
    pull_request: PullRequestSettings = field(default_factory=PullRequestSettings)  # over config
    api_url: str | None = None
    app_id: str | None = None
    app_private_key: str | None = field(default=None, repr=False)  # a secret
    wait_merge: bool = False
    timeout: float = PROMOTE_TIMEOUT
    network_timeout: float | None = None  # --network-timeout; see network_limit
    verify: bool = False
    cluster: Cluster = field(default_factory=Cluster)  # --verify: cluster and Argo CD access
    retry: Backoff = PUSH
    registry: RegistryOptions = field(default_factory=lambda: RegistryOptions(check=False))
    force: bool = False  # rebuild a promoter branch that holds commits of others
    allow_downgrade: bool | None = None  # None: as the environment says
    skip_uneditable: bool = False  # go on past target files holding the image that cannot be edited
    sign: str | None = None  # gpg | ssh (promoter.signing) | github (promoter.forge_commit)
    require_verified: bool = False  # --from: the gate (promoter.gates)
    record: bool = False  # deployment records and commit status (promoter.deployments)
    environment_url: str | None = None  # shown on the deployment record
    # status lines of --wait-merge and --verify (the CLI's printer, promoter.cli.progress)
    progress: Callable[[str], None] | None = field(default=None, repr=False, compare=False)

    @property
    def network_limit(self) -> float:
        """Seconds each git command and forge request may take: --network-timeout,
        else --timeout but at least a minute (a short wait must not cut a clone)."""
        return self.network_timeout or max(self.timeout, 60.0)


@dataclass(frozen=True)
class Merge:
    """The merge stage: the pull request merged (a direct push is its own merge),
    closed unmerged, or not merged in time."""

    state: str  # merged | closed | timeout
    commit_sha: str | None = None

    def record(self) -> dict[str, Any]:
        return {"state": self.state, "commit_sha": self.commit_sha}


@dataclass(frozen=True)
class Promotion:
    """The result record (schema promoter/v1); ``diff`` is shown, not serialised."""

    app: str
    env: str
    image: str
    repo: str
    base: str
    branch: str
    changed: bool = False
    operation: str = "none"  # created | updated | pushed | none
    commit: str | None = None
    changes: tuple[tuple[str, int, str, str], ...] = ()  # file, line, old, new
    dry_run: bool = False
    pull_request: PullRequest | None = None  # as the forge showed it last
    pull_request_operation: str = "none"  # created | updated | none | closed
    superseded: tuple[PullRequest, ...] = ()  # promoter's older PRs, closed for this one
    merge: Merge | None = None
    verify: VerifyResult | None = None
    skipped: tuple[tuple[str, int, str], ...] = ()  # file, line, reason
    discarded: tuple[str, ...] = ()  # commits of others dropped with --force
    version_check: str | None = None  # the downgrade guard's rule (promoter.versions)
    deleted_branch: str | None = None  # the promoter branch, deleted as not needed any more
    diff: str = ""
    notes: tuple[str, ...] = ()  # shown in text output, not serialised

    def record(self, failure: PromoterError | None = None) -> dict[str, Any]:
        """The JSON record; with ``failure`` (a stage that failed after this
        result), the record of a failed run: operation "failed", the error."""
        if failure is None:
            return self._record(0, None)
        return self._record(failure.exit_code, failure.message)

    def _record(self, exit_code: int, error: str | None) -> dict[str, Any]:
        files = sorted({file for file, _, _, _ in self.changes})
        operation = "failed" if exit_code else self.operation
        return {
            "schema": SCHEMA, "app": self.app, "env": self.env, "image": self.image,
            "changed": self.changed, "operation": operation, "repo": self.repo,
            "base": self.base, "branch": self.branch, "commit": self.commit, "files": files,
            "changes": [{"file": f, "line": n, "old": o, "new": v} for f, n, o, v in self.changes],
            "dry_run": self.dry_run, "pull_request": self._pull_request(),
            "superseded": [{"number": p.number, "url": p.url} for p in self.superseded],
            "merge": self.merge.record() if self.merge else None,
            "verify": self.verify.as_dict() if self.verify else None,
            "skipped": [{"file": f, "line": n, "reason": r} for f, n, r in self.skipped],
            "discarded": list(self.discarded), "deleted_branch": self.deleted_branch,
            "version_check": self.version_check,
            "error": error, "exit_code": exit_code,
        }

    def _pull_request(self) -> dict[str, Any] | None:
        pr = self.pull_request
        if pr is None:
            return None
        return {"number": pr.number, "url": pr.url, "state": pr.state,
                "operation": self.pull_request_operation, "draft": pr.draft}


def failure_record(
    app: str | None, env: str | None, image: str | None, repo: str | None,
    error: str, exit_code: int,
) -> dict[str, Any]:
    """The record of a run that failed before it had a result (schema promoter/v1)."""
    record = Promotion(app=app or "", env=env or "", image=image or "", repo=repo or "",
                       base="", branch="")._record(exit_code, error)
    record.update(app=app, env=env, image=image, repo=repo, base=None, branch=None)
    return record


@dataclass(frozen=True)
class Job:
    """What the stages share once the clone is there."""

    request: Request
    ws: workspace.Workspace
    target: cfg.Target
    ref: ImageRef
    direct: bool
    author: git.Identity
    committer: git.Identity
    source: plan.CiRun
    registry: Any = None  # the registry client that checked ``ref`` (promoter.registry)
    forge: Any = None  # the forge that makes the commit (--sign github, promoter.forge_commit)
