"""Stage 3 of the promotion (promoter.promote), apply: plan the edits, commit
and push them, and when the push loses a race wait, fetch the base and plan
again (``job.request.retry``). The promoter branch is rebuilt only when it is
promoter's own (every commit since the base carries promoter's trailer) or
``--force`` was given; a branch that already proposes the edits is left as it
is; ``--sign github|gitlab`` commits through the forge (promoter.forge_commit)."""

from __future__ import annotations

from dataclasses import replace

from promoter import forge_commit, git, guards, plan, workspace
from promoter.errors import ConflictError, InputError, PromoterError
from promoter.manifests import Plan, find_references, plan_update, unified_diff, write_plan
from promoter.manifests.explain import nothing_found
from promoter.promotion import Job, Promotion


def apply(job: Job) -> tuple[Promotion, Plan, workspace.Branch | None]:
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
