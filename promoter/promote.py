"""The promotion pipeline, stage by stage:

    1. clone      credentials, then a shallow sparse clone of the base (workspace)
    2. prepare    what to promote where: the ``Job`` (promoter.prepare)
    3. apply      plan the edits, commit, push; fetch and plan again when a push
                  loses a race (here)
    4. publish    open or update the pull request, or close it when the base
                  already holds the image (promoter.publish)
    5. merge      --wait-merge: wait for the merge (promoter.forges.wait); a direct
                  push is its own merge
    6. verify     --verify: prove from the cluster that the merge is live
                  (promoter.verify.pipeline)
    7. record     --record: the deployment and the commit status (promoter.deployments)

``promote(request, environ)`` runs them and returns one ``Promotion`` record,
which report.py renders. Re-running the same promotion changes nothing.
Failures are exceptions (promoter.errors); one in a stage after the push
(publish, merge, verify, record) is a ``PromotionFailed`` carrying the record
so far, which the CLI prints with the error and its exit code.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import cast

from promoter import (
    deployments,
    extras,
    forge_commit,
    gates,
    git,
    git_remote,
    guards,
    plan,
    remote,
    workspace,
)
from promoter.credentials import connect_forge, git_credentials
from promoter.errors import (
    BlockedError,
    ConflictError,
    InputError,
    Interrupted,
    InterruptedAfterPush,
    PromoterError,
    PromotionFailed,
    VerifyFailed,
    VerifyTimeout,
    WaitTimeout,
)
from promoter.forges import Forge
from promoter.manifests import Plan, find_references, plan_update, unified_diff, write_plan
from promoter.manifests.explain import nothing_found
from promoter.prepare import prepare
from promoter.promotion import Job, Merge, Promotion, Request
from promoter.publish import publish, pull_request_spec, retire
from promoter.signing import signing

__all__ = ["Promotion", "Request", "promote"]


def _no_mask(secret: str) -> None:
    """Outside the CLI nothing prints a derived secret: nothing to mask."""


def promote(request: Request, environ: Mapping[str, str],
            mask: Callable[[str], None] = _no_mask) -> Promotion:
    """Run one promotion against ``request.repo``; the record of what happened.
    ``mask`` receives each secret promoter derives (a GitHub App installation
    token) before it is used, for the CI log to hide it."""
    url = remote.git_url(request.repo)
    forge_name = request.forge or remote.infer_forge(request.repo, environ)
    if forge_name == "local" and (request.api_url or request.app_id):
        flag = "--api-url" if request.api_url else "--app-id"
        raise InputError(f"{flag} has no effect with the local forge of {request.repo}; "
                         "pass --forge github|gitlab, or drop it")
    forge_commit.check(request, forge_name)  # --sign github|gitlab: before any network
    extras.require_forge(forge_name)  # a missing SDK fails before the clone, not after the push
    found, forge = git_credentials(request, forge_name, environ, mask)
    with signing(git_remote.session(url, found, request.network_limit), request.sign,
                 environ) as session, tempfile.TemporaryDirectory(prefix="promoter-") as tmp:
        try:
            return _run(request, session, url, Path(tmp) / "repo", forge_name, environ, forge)
        except PromoterError as exc:
            raise _in_repository(exc, Path(tmp) / "repo", request.repo) from exc.__cause__


def _run(request: Request, session: git.Git, url: str, dest: Path, forge_name: str,
         environ: Mapping[str, str], forge: Forge | None) -> Promotion:
    ws = workspace.open_clone(session, url, dest, request.base, request.repo)
    job = prepare(request, ws, environ)
    forge = gates.check(job, forge_name, forge, environ)  # --require-verified
    job = forge_commit.prepared(job, forge_name, forge, environ)  # --sign github
    forge = job.forge or forge
    if forge is None and not job.direct and not request.dry_run:
        forge = connect_forge(request, forge_name, environ)  # slug and token: before any push
    result, first, existing = _apply(job)
    if request.dry_run:
        return _planned(job, result, first)
    try:
        result = _deliver(job, result, first, existing, forge, forge_name)
    except PromotionFailed as failed:  # verification may have run: record what it found
        recorded = deployments.record(job, failed.result, forge_name, forge, environ, failed=True)
        raise PromotionFailed(failed.error, recorded) from failed.error
    except InterruptedAfterPush:
        raise
    except Interrupted as stop:  # a signal once pushed: the failed record says what was
        raise InterruptedAfterPush(stop.args[0], result) from None
    return _stage(result, lambda: deployments.record(job, result, forge_name, forge, environ))


def _deliver(job: Job, result: Promotion, first: Plan, existing: workspace.Branch | None,
             forge: Forge | None, forge_name: str) -> Promotion:
    """The stages after the push: the pull request (a direct push is its own
    merge), the wait for its merge, the verification. A stage that fails
    raises PromotionFailed with the result so far."""
    request = job.request
    if job.direct:
        if request.wait_merge or request.verify:
            result = replace(result, merge=Merge("merged", result.commit or job.ws.head))
    elif result.commit is None:  # nothing proposed: the base already holds the image
        assert forge is not None
        if existing is not None:
            result = _stage(result, lambda: retire(job, result, existing, forge))
        # --verify: the base head holds the image, so it is the commit that must be live
        return _stage(result, lambda: _verify(job, result, job.ws.head)) if request.verify \
            else result
    else:
        assert forge is not None
        result = _stage(result, lambda: publish(job, result, first, forge, forge_name))
        if request.wait_merge and result.merge is None and result.pull_request is not None:
            number = result.pull_request.number
            result = _stage(result, lambda: _wait_merge(forge, number, request, result))
    revision = result.merge.commit_sha if result.merge else None
    return _stage(result, lambda: _verify(job, result, revision)) if request.verify else result


def _stage(result: Promotion, run: Callable[[], Promotion]) -> Promotion:
    """``run()``, one stage after the push; a signal during it raises
    InterruptedAfterPush with ``result``, the record before that stage."""
    try:
        return run()
    except InterruptedAfterPush:
        raise
    except Interrupted as stop:
        raise InterruptedAfterPush(stop.args[0], result) from None


def _in_repository(error: PromoterError, work: Path, repo: str) -> PromoterError:
    """``error`` naming paths in ``repo``, not in the temporary clone (gone by now)."""
    text = str(error)
    for root in {str(work), os.path.realpath(work)}:
        text = text.replace(root + "/", "").replace(root, f"the repository {repo}")
    error.args = (text, *error.args[1:])
    return error


def _planned(job: Job, result: Promotion, first: Plan) -> Promotion:
    """A dry run: say which pull request a real run would open or update."""
    if job.direct or not result.changed:
        return result
    from promoter.forges.body import title

    spec = pull_request_spec(job, first)
    return replace(result, notes=(*result.notes, f"would push {spec.branch} and open or update"
                                  f" the pull request \"{title(spec)}\" into {spec.base}"))


# -- 3. apply: plan, commit, push -------------------------------------------------


def _apply(job: Job) -> tuple[Promotion, Plan, workspace.Branch | None]:
    """Plan, commit and push (with retries); the record, the first plan and the
    promoter branch as it was before the push."""
    first = _edit_plan(job)
    rule = guards.version_rule(job, first)
    existing = _existing(job)
    current, retry = job, job.request.retry
    for attempt in range(1, retry.attempts + 1):
        if attempt > 1:  # the last push lost a race: wait, fetch, plan again
            retry.wait(attempt - 1)
            current = replace(current, ws=workspace.refresh_base(current.ws))
            existing = _existing(current)
        edits = first if attempt == 1 else _edit_plan(current)
        plan.check_conflict(first, edits, current.ws.base)
        outcome = _attempt(current, edits, existing, rule)
        if outcome is not None:
            return outcome, first, existing
    branch = job.ws.base if job.direct else job.target.branch
    raise PromoterError(
        f"push to {branch} of {job.request.repo} was rejected {retry.attempts} "
        "times; other pushes keep landing, retry later or raise --max-attempts"
    )


def _edit_plan(job: Job) -> Plan:
    """The edits; none is fine only where every reference already says the new
    version (one that does not but could not be edited is an error, as is none)."""
    new = plan_update(job.ws.work, job.target.paths, job.ref, keys=job.target.keys)
    if not new.edits:
        found = find_references(job.ws.work, job.target.paths, job.target.image,
                                keys=job.target.keys)
        if not found or any(f.ref.version != job.ref.version for f in found):
            why = nothing_found(job.ws.work, job.target.paths, job.target.image, new, found)
            raise InputError(
                f"app {job.target.app} in {job.target.env} on {job.ws.base}: {why}"
                " (nothing was written)"
            )
    if not job.request.skip_uneditable:
        guards.refuse_skips(job, new)
    return new


def _existing(job: Job) -> workspace.Branch | None:
    """The promoter branch on the remote, once proven promoter's own: every commit
    on it since the base carries promoter's trailer (or ``--force`` was given)."""
    if job.direct:
        return None
    found = workspace.fetch_branch(job.ws, job.target.branch)
    if found is None or not found.foreign or job.request.force:
        return found
    listed = "; ".join(str(c) for c in found.foreign[:3])
    more = f" and {len(found.foreign) - 3} more" if len(found.foreign) > 3 else ""
    raise ConflictError(
        f"branch {found.name} of {job.request.repo} has {len(found.foreign)} commit(s) "
        f"promoter did not make ({listed}{more}); promoter rewrites only its own branches: "
        "merge or move those commits, pick another --branch, or re-run with --force "
        "to rebuild the branch without them"
    )


def _attempt(
    job: Job, edits: Plan, existing: workspace.Branch | None, rule: str | None
) -> Promotion | None:
    """One try: None when the push lost a race (fetch and try again)."""
    if not edits.edits:
        return _record(job, edits, rule)  # the base already has the new image
    blobs = {edit.file: git.blob_id(edit.after) for edit in edits.edits}
    if existing is not None and workspace.up_to_date(job.ws, existing, blobs):
        return _record(job, edits, rule, commit=existing.sha)  # the branch already proposes this
    operation = "pushed" if job.direct else ("updated" if existing else "created")
    discarded = tuple(c.sha for c in existing.foreign) if existing else ()
    if job.request.dry_run:
        return _record(job, edits, rule, operation, discarded=discarded)
    write_plan(job.ws.work, edits)
    template = job.request.message or job.target.commit_message
    message = plan.message(template, job.target, edits, job.ref, job.source)
    lease = None if job.direct else (existing.sha if existing else "")
    branch = job.ws.base if job.direct else job.target.branch
    if job.forge is not None:  # --sign github: the forge makes the commit
        sha = forge_commit.attempt(
            job.forge, job.ws, branch, lease, {e.file: e.after for e in edits.edits},
            forge_commit.with_signoff(message, job.request.signoff, str(job.committer)),
            job.request.author)
    else:
        sha = git.commit(job.ws.git, job.ws.work, [edit.file for edit in edits.edits], message,
                         job.author, job.committer, job.request.signoff)
        sha = sha if guards.push(job, sha, branch, lease).ok else None
    return None if sha is None else _record(job, edits, rule, operation, sha, discarded)


def _record(job: Job, edits: Plan, rule: str | None, operation: str | None = None,
            commit: str | None = None, discarded: tuple[str, ...] = ()) -> Promotion:
    """The record of the edits; ``operation`` given when they were (or, in a dry
    run, would be) committed."""
    return Promotion(
        app=job.target.app, env=job.target.env, image=str(job.ref), repo=job.request.repo,
        base=job.ws.base, branch=job.ws.base if job.direct else job.target.branch,
        changed=operation is not None, operation=operation or "none", commit=commit,
        changes=tuple((c.file, c.line, c.old, c.new) for c in edits.changes),
        skipped=tuple((k.file, k.line, k.reason) for k in edits.skipped),
        dry_run=job.request.dry_run, diff=unified_diff(edits) if edits.edits else "",
        notes=tuple(f"{c.file}:{c.line}: {note}" for c in edits.changes for note in c.notes)
        + tuple(f"skipped {s.file}:{s.line}: {s.reason}" for s in edits.skipped),
        discarded=discarded, version_check=rule,
    )


# -- 5. merge and 6. verify --------------------------------------------------------


def _wait_merge(forge: Forge, number: int, request: Request, result: Promotion) -> Promotion:
    """--wait-merge: ``result`` with the merge; a PR closed unmerged (exit 4) or
    the timeout (5) fails the promotion with the merge state recorded."""
    from promoter.forges.wait import wait_for_merge
    from promoter.retry import HEARTBEAT

    try:
        merged = wait_for_merge(forge, number, request.timeout, progress=request.progress,
                                heartbeat=HEARTBEAT)
    except (BlockedError, WaitTimeout) as exc:
        state = "closed" if isinstance(exc, BlockedError) else "timeout"
        raise PromotionFailed(exc, replace(result, merge=Merge(state))) from exc
    return replace(result, merge=Merge("merged", merged.merge_commit_sha))


def _verify(job: Job, result: Promotion, revision: str | None) -> Promotion:
    """--verify: prove from the cluster that ``revision`` (the merge commit) is
    live, with the targets of the environment's ``verify:`` settings
    (promoter.verify.pipeline). A failed or timed-out verification fails the
    promotion with its result."""
    from promoter.verify.ancestry import repo_url
    from promoter.verify.pipeline import VerifyConfig, clone_ancestry, verify_promotion

    try:
        # cast: VerifyConfig declares settable members; config.VerifySettings is frozen.
        verified = verify_promotion(
            cast(VerifyConfig, job.target.verify), app=job.target.app, env=job.target.env,
            revision=revision, image=job.ref,
            cluster=job.request.cluster,
            is_ancestor=clone_ancestry(job.ws.git, job.ws.work, job.ws.base),
            repo_url=repo_url(job.request.repo), progress=job.request.progress,
        )
    except (VerifyFailed, VerifyTimeout) as exc:  # the record of the check, when it has one
        raise PromotionFailed(exc, replace(result, verify=exc.result)) from exc
    except PromoterError as exc:
        raise PromotionFailed(exc, result) from exc
    return replace(result, verify=verified)
