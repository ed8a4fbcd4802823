"""``--record``: leave the promotion where developers look (promoter.forges.records).

At the promotion a deployment of the app into the environment is created
(``in_progress``) at the config commit; when verification ran, it becomes
``success`` (the superseded deployment ``inactive``), ``failure`` (the cluster
proved it did not go live) or ``error`` (no proof either way: timeout, bad
settings), and the commit status ``promoter/<env>`` with the same state lands
on the merge commit, which ``--require-verified`` reads.

A record that cannot be written does not undo the promotion: PromotionFailed
carries the result, with its pull request and push, and the error's exit code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from promoter import config as cfg
from promoter import gates
from promoter.errors import PromoterError, PromotionFailed
from promoter.forges.records import DeploymentSpec, Records, connect
from promoter.promotion import Job, Promotion

STATES = {"verified": "success", "failed": "failure"}  # any other outcome: error


def record(job: Job, result: Promotion, forge_name: str, forge: Any,
           environ: Mapping[str, str], failed: bool = False) -> Promotion:
    """With ``--record``: the deployment, its final state, the commit status.
    ``failed``: a stage after the push failed and ``result`` is what it left."""
    merged = result.merge.commit_sha if result.merge else None
    if merged is None and result.commit is None and result.verify is not None:
        merged = job.ws.head  # nothing proposed: verification proved the base head
    ref = merged or result.commit
    if not job.request.record or job.request.dry_run or ref is None:
        return result
    if failed and result.verify is None:
        return result  # closed, blocked or timed out before verification: nothing deployed
    if result.commit is None and merged is not None and cfg.load(job.ws.work) is not None:
        # nothing new was pushed: verification proved the commit that already holds
        # the image (an ancestor of the verified head), which is what the gate reads
        merged = ref = gates.holding_commit(job, job.target.env)
    spec = DeploymentSpec(app=job.target.app, env=job.target.env, ref=ref, image=str(job.ref),
                          source_commit=job.source.commit,
                          environment_url=job.request.environment_url,
                          log_url=job.source.run_url, branch=job.ws.base if merged else
                          result.branch)
    try:
        notes = _write(_records(job, forge_name, forge, environ), spec, result, merged)
    except PromoterError as exc:
        if failed:
            return replace(result, notes=(*result.notes, f"not recorded: {exc.message}"))
        raise PromotionFailed(exc, result) from exc
    return replace(result, notes=(*result.notes, *notes))


def _records(job: Job, forge_name: str, forge: Any, environ: Mapping[str, str]) -> Records:
    if forge is None and forge_name in ("github", "gitlab"):
        from promoter.credentials import connect_forge

        forge = connect_forge(job.request, forge_name, environ)
    return connect(forge_name, forge, "--record")


def _write(records: Records, spec: DeploymentSpec, result: Promotion,
           merged: str | None) -> list[str]:
    deployment = records.start(spec)
    notes = [f"recorded deployment {deployment} of {spec.app} to {spec.env} at {spec.ref}"
             " (in_progress)"]
    if result.verify is None or merged is None:
        return notes
    state = STATES.get(result.verify.status, "error")
    done = records.finish(deployment, spec, state)
    records.set_status(merged, spec.env, state, f"{spec.app} {spec.image}: {state}",
                       spec.log_url)
    notes.append(f"deployment {deployment}: {state}; commit status promoter/{spec.env}"
                 f" = {state} on {merged}")
    if done.superseded:
        notes.append(f"deployment {done.superseded} (superseded) set to inactive")
    return notes


def latest(pairs: list[tuple[str, str, str]], records: Records) -> dict[str, dict[str, Any]]:
    """``promoter status --deployments``: app -> env -> the newest deployment record
    (``pairs``: app, env and the app's image repository)."""
    found: dict[str, dict[str, Any]] = {}
    for app, env, image in pairs:
        last = records.last(app, env, image)
        if last is not None:
            found.setdefault(app, {})[env] = last
    return found


def latest_text(found: dict[str, dict[str, Any]]) -> str:
    lines = []
    for app, envs in found.items():
        for env, last in envs.items():
            image = f" {last['image']}" if last.get("image") else ""
            lines.append(f"{app} in {env}: deployment {last['id']} {last['state']}{image}"
                         f" at {str(last['commit'])[:12]}")
    return "\n".join(["deployments:", *lines]) if lines else "deployments: none recorded"


def status_records(repo: str, forge_name: str | None, api_url: str | None,
                   pairs: list[tuple[str, str, str]], environ: Mapping[str, str]) -> dict[str, Any]:
    """The newest deployment per app x environment, from the forge of ``repo``."""
    from promoter import remote
    from promoter.credentials import connect_forge
    from promoter.promotion import Request

    name = forge_name or remote.infer_forge(repo, environ)
    request = Request(repo=repo, forge=name, api_url=api_url)
    forge = connect_forge(request, name, environ) if name in ("github", "gitlab") else None
    return latest(pairs, connect(name, forge, "status --deployments"))
