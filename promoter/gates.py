"""``promote --from ENV --require-verified``: promote only what was verified.

The commit that holds the image in the source environment is the newest commit
on the base branch's first-parent line that changed the source environment's
paths (a merge commit, for merged pull requests). It must carry the commit
status ``promoter/<source>`` = ``success``, which ``promote --verify --record``
writes into the source environment after the cluster proved the commit live.
Otherwise the promotion stops before anything is written (exit 1, naming the
commit).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promoter import config as cfg
from promoter import git_remote
from promoter.errors import InputError, PromoterError
from promoter.forges.records import connect, context
from promoter.promotion import Job


def check(job: Job, forge_name: str, forge: Any, environ: Mapping[str, str]) -> Any:
    """Refuse unless the source environment's commit is verified; the forge
    (connected here when it was not), to be reused for publishing."""
    if not job.request.require_verified:
        return forge
    source = _source(job)
    if forge is None and forge_name in ("github", "gitlab"):
        from promoter.credentials import connect_forge

        forge = connect_forge(job.request, forge_name, environ)
    records = connect(forge_name, forge, "--require-verified")
    sha = holding_commit(job, source)
    state = records.status(sha, source)
    if state != "success":
        said = "no status" if state is None else f"status {state}"
        raise PromoterError(
            f"--require-verified: commit {sha} holding {job.ref} in {source} has {said}"
            f" {context(source)} (wanted success); verify {source} first"
            f" (promote --verify --record into {source})")
    return forge


def _source(job: Job) -> str:
    source = job.request.from_env
    config = cfg.load(job.ws.work)
    if source is None and config is not None and job.request.image is None:
        source = config.environments[job.target.env].promote_from
    if source is None or config is None:
        raise InputError("--require-verified needs --from ENV (or promote_from in"
                         f" {cfg.FILE}); name the environment that was verified")
    return source


def holding_commit(job: Job, source: str) -> str:
    """The newest first-parent commit of the base that changed ``source``'s paths."""
    config = cfg.load(job.ws.work)
    assert config is not None
    origin = cfg.resolve(config, job.target.app, source)
    paths = list(cfg.expand(job.ws.work, origin.paths))
    sha = git_remote.last_change(job.ws.git, job.ws.work, job.ws.base, paths)
    if sha is None:
        raise InputError(f"--require-verified: no commit on {job.ws.base} changed"
                         f" {', '.join(paths)} of {source}; promote into {source} first")
    return sha
