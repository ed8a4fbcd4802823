"""After the push: open or update the pull request, wait for the merge, verify."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import cast

from promoter import credentials, git, images, remote, workspace
from promoter.errors import BlockedError, WaitTimeout
from promoter.forges import Forge, ForgeResult, ForgeSettings, PullRequestSpec, connect
from promoter.manifests import Plan, plan_update
from promoter.promotion import Job, Promotion, Request
from promoter.registry import gate


def connect_forge(request: Request, forge_name: str, environ: Mapping[str, str]) -> Forge:
    """The forge adapter for ``request.repo`` (SDKs load here, not before)."""
    settings = ForgeSettings(
        repo=request.repo, slug=remote.slug(request.repo),
        api_url=request.api_url or remote.api_url(forge_name, request.repo, environ),
        token=_token(environ, forge_name), job_token=credentials.job_token(environ),
        app_id=request.app_id,
        app_private_key=request.app_private_key, timeout=request.network_limit,
    )
    return connect(forge_name, settings)


def git_credentials(
    request: Request, forge_name: str, environ: Mapping[str, str]
) -> tuple[credentials.Credentials | None, Forge | None]:
    """The credentials git pushes with. With a GitHub App (--app-id and
    --app-private-key) the forge is connected first and its installation token
    (``git_token()``) is used; otherwise the token from the environment."""
    if not (request.app_id and request.app_private_key and forge_name == "github"):
        return credentials.from_env(environ, forge_name), None
    forge = connect_forge(request, forge_name, environ)
    git_token = getattr(forge, "git_token", None)
    if git_token is None:
        return credentials.from_env(environ, forge_name), forge
    token = str(git_token())
    from promoter.report_ci import mask_now

    mask_now(token, environ)  # a derived secret: mask it before anything could print it
    return credentials.Credentials("x-access-token", token, "GitHub App"), forge


def publish(
    job: Job, result: Promotion, first: Plan, forge: Forge, environ: Mapping[str, str],
    forge_name: str,
) -> Promotion:
    """Open or update the pull request, check it describes the branch, then the
    optional waits."""
    if result.commit is None:
        return result  # nothing proposed: the base already holds the image
    request = job.request
    spec = pull_request_spec(job, first)
    if forge_name != "local":  # the local forge renders no body: spare the registry requests
        spec = replace(spec, provenance=gate.provenance(
            job.registry, job.target.image, job.ref, [c.old for c in first.changes]))
    outcome = forge.publish(spec, result.changed)
    result = _with_forge(result, outcome)
    moved = _check_described(job, result, forge) if outcome.operation != "none" else None
    if moved or outcome.error:  # the PR exists: the record keeps it, with the error
        return replace(result, exit_code=1, error=moved or outcome.error)
    pr = outcome.pull_request
    if pr is not None and pr.state == "merged":
        result = replace(result, merge={"state": "merged", "commit_sha": pr.merge_commit_sha})
        return _verify(job, result, environ) if request.verify else result
    if request.wait_merge and outcome.pull_request is not None:
        result = _wait_merge(forge, outcome.pull_request.number, request, result)
    if request.verify and result.exit_code == 0:
        result = _verify(job, result, environ)
    return result


def _check_described(job: Job, result: Promotion, forge: Forge) -> str | None:
    """After writing the PR: if another run pushed the branch meanwhile, our
    title and body may now describe a commit the branch no longer holds. Then
    describe what it holds (the other run's promotion); the error for this run."""
    head = workspace.remote_head(job.ws, job.target.branch)
    if head == result.commit:
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
    pull = None if closed is None else {
        "number": closed.number, "url": closed.url, "state": "closed",
        "operation": "closed", "draft": closed.draft,
    }
    what = f"closed #{closed.number} and " if closed else ""
    return replace(result, operation="closed", pull_request=pull, deleted_branch=branch,
                   notes=(f"{job.ws.base} already holds {job.ref}: {what}deleted {branch}",))


def _token(environ: Mapping[str, str], forge_name: str) -> str | None:
    found = credentials.from_env(environ, forge_name)
    return found.token if found else None


def pull_request_spec(job: Job, first: Plan) -> PullRequestSpec:
    options, settings = job.request.pull_request, job.target.pull_request
    return PullRequestSpec(
        app=job.target.app, env=job.target.env, branch=job.target.branch, base=job.ws.base,
        title=options.title or settings.title, body=options.body or settings.body,
        labels=options.labels or settings.labels,
        reviewers=options.reviewers or settings.reviewers,
        assignees=options.assignees or settings.assignees,
        draft=_pick(options.draft, settings.draft),
        auto_merge=_pick(options.auto_merge, settings.auto_merge),
        merge_method=options.merge_method or settings.merge_method,
        delete_branch=_pick(options.delete_branch, settings.delete_branch),
        image=str(job.ref),
        changes=tuple((c.file, c.old, c.new) for c in first.changes),
        source_commit=job.source.commit, source_url=job.source.commit_url,
        run_url=job.source.run_url,
    )


def _pick(given: bool | None, configured: bool) -> bool:
    return configured if given is None else given


def _with_forge(result: Promotion, outcome: ForgeResult) -> Promotion:
    pr = outcome.pull_request
    return replace(
        result,
        pull_request=None if pr is None else {
            "number": pr.number, "url": pr.url, "state": pr.state,
            "operation": outcome.operation, "draft": pr.draft,
        },
        superseded=tuple({"number": p.number, "url": p.url} for p in outcome.superseded),
    )


# -- optional stages: waiting for the merge (forges.wait), verification (verify.pipeline)


def after_direct(job: Job, result: Promotion, environ: Mapping[str, str]) -> Promotion:
    """A direct push is its own merge: the commit is on the base branch."""
    if job.request.wait_merge or job.request.verify:
        sha = result.commit or job.ws.head
        result = replace(result, merge={"state": "merged", "commit_sha": sha})
    return _verify(job, result, environ) if job.request.verify else result


def _wait_merge(forge: Forge, number: int, request: Request, result: Promotion) -> Promotion:
    """--wait-merge: fill ``merge``; a closed PR (4) or the timeout (5) set exit_code."""
    from promoter.forges.wait import wait_for_merge
    from promoter.retry import HEARTBEAT

    try:
        merged = wait_for_merge(forge, number, request.timeout, progress=request.progress,
                                heartbeat=HEARTBEAT)
    except (BlockedError, WaitTimeout) as exc:
        state = "closed" if isinstance(exc, BlockedError) else "timeout"
        return replace(result, merge={"state": state, "commit_sha": None},
                       exit_code=exc.exit_code, error=exc.message)
    return replace(result, merge={"state": "merged", "commit_sha": merged.merge_commit_sha})


def _verify(job: Job, result: Promotion, environ: Mapping[str, str]) -> Promotion:
    """--verify: prove from the cluster that the merge commit is live, with the
    targets of the environment's ``verify:`` settings (promoter.verify.pipeline)."""
    from promoter.verify.ancestry import repo_url
    from promoter.verify.pipeline import VerifyConfig, clone_ancestry, verify_promotion

    revision = (result.merge or {}).get("commit_sha")
    # cast: VerifyConfig declares settable members; config.VerifySettings is frozen.
    outcome = verify_promotion(
        cast(VerifyConfig, job.target.verify), app=job.target.app, env=job.target.env,
        revision=revision, image=job.ref, cluster=job.request.cluster,
        is_ancestor=clone_ancestry(job.ws.git, job.ws.work, job.ws.base),
        repo_url=repo_url(job.request.repo), progress=job.request.progress,
    )
    return replace(result, verify=outcome.record, exit_code=outcome.exit_code,
                   error=outcome.error)
