"""The pull-request stage, after the push: open or update the pull request and
check it still describes the branch; or, when the base already holds the
image, close promoter's pull request and delete its branch."""

from __future__ import annotations

from dataclasses import asdict, replace

from promoter import git, images, workspace
from promoter.errors import AutoMergeRefused, ConflictError, PromotionFailed
from promoter.forges import Forge, PullRequestSpec
from promoter.manifests import Plan, plan_update
from promoter.promotion import Job, Merge, Promotion
from promoter.registry import gate


def publish(job: Job, result: Promotion, first: Plan, forge: Forge, forge_name: str
            ) -> Promotion:
    """``result`` with its pull request (and its merge, when the forge merged it
    at once). A refusal once the PR exists raises PromotionFailed, whose result
    keeps the PR."""
    spec = pull_request_spec(job, first)
    if forge_name != "local":  # the local forge renders no body: spare the registry requests
        spec = replace(spec, provenance=gate.provenance(
            job.registry, job.target.image, job.ref, [c.old for c in first.changes]))
    try:
        outcome, refused = forge.publish(spec, result.changed), None
    except AutoMergeRefused as exc:  # the pull request stands: the record keeps it
        outcome, refused = exc.published, exc
    pr = outcome.pull_request
    result = replace(result, pull_request=pr, pull_request_operation=outcome.operation,
                     superseded=outcome.superseded)
    if outcome.operation != "none" and (moved := _check_described(job, result.commit, forge)):
        raise PromotionFailed(ConflictError(moved), result)
    if refused is not None:
        raise PromotionFailed(refused, result)
    if pr is not None and pr.state == "merged":  # merged at once (a clean PR, --auto-merge)
        return replace(result, merge=Merge("merged", pr.merge_commit_sha))
    return result


def _check_described(job: Job, commit: str | None, forge: Forge) -> str | None:
    """After writing the PR: if another run pushed the branch meanwhile, our
    title and body may now describe a commit the branch no longer holds. Then
    describe what it holds (the other run's promotion); the error for this run."""
    head = workspace.remote_head(job.ws, job.target.branch)
    if head == commit:
        return None  # any later push is followed by that run's own write
    branch = workspace.fetch_branch(job.ws, job.target.branch)
    image = workspace.image_trailer(job.ws, branch.sha) if branch else None
    described = "its title and body may be stale"
    if branch is not None and image is not None:
        other = replace(job, ref=images.parse_new(image))
        git.reset_hard(job.ws.git, job.ws.work, job.ws.head)
        edits = plan_update(job.ws.work, job.target.paths, other.ref, keys=job.target.keys)
        blobs = {edit.file: git.blob_id(edit.after) for edit in edits.edits}
        if edits.edits and workspace.up_to_date(job.ws, branch, blobs):
            forge.publish(pull_request_spec(other, edits), True)
            described = f"it now describes {image}"
    return (
        f"branch {job.target.branch} was pushed by another promotion "
        f"({image or (head or 'deleted')[:12]}) while this one promoted {job.ref}; "
        f"the pull request follows the branch ({described}); re-run to promote {job.ref} again"
    )


def retire(
    job: Job, result: Promotion, existing: workspace.Branch, forge: Forge
) -> Promotion:
    """The base already holds the image but promoter's branch proposes another:
    close its pull request with a comment saying why, and delete the branch."""
    branch = existing.name
    note = (f"Closed by promoter: {job.ws.base} already holds `{job.ref}`, so there is nothing"
            f" left to promote for {job.target.app} in {job.target.env}; branch `{branch}`"
            " is deleted.")
    closed = forge.close(branch, note)
    workspace.delete_branch(job.ws, existing)
    what = f"closed #{closed.number} and " if closed else ""
    return replace(result, operation="closed", deleted_branch=branch,
                   pull_request=None if closed is None else replace(closed, state="closed"),
                   pull_request_operation="closed",
                   discarded=tuple(c.sha for c in existing.foreign),  # --force: deleted too
                   notes=(f"{job.ws.base} already holds {job.ref}: {what}deleted {branch}",))


def pull_request_spec(job: Job, first: Plan) -> PullRequestSpec:
    """The pull request of ``job``: the command line's settings over the config's."""
    settings = job.request.pull_request.over(job.target.pull_request)
    return PullRequestSpec(
        **asdict(settings), app=job.target.app, env=job.target.env, branch=job.target.branch,
        base=job.ws.base, image=str(job.ref),
        changes=tuple((c.file, c.old, c.new) for c in first.changes),
        source_commit=job.source.commit, source_url=job.source.commit_url,
        run_url=job.source.run_url,
    )
