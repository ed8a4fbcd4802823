"""The promotion pipeline: clone -> plan -> commit -> push -> publish -> [wait] -> [verify].

``promote(request, environ)`` composes the stages and returns one ``Promotion``
record, which report.py renders. Re-running the same promotion changes nothing.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from promoter import config as cfg
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
from promoter.errors import ConflictError, InputError, PromoterError
from promoter.forges import Forge
from promoter.images import ImageRef
from promoter.manifests import (
    Plan,
    find_references,
    flux,
    overlay,
    plan_update,
    unified_diff,
    write_plan,
)
from promoter.manifests.explain import nothing_found
from promoter.promotion import Job, Promotion, PullRequestOptions, Request
from promoter.publish import (
    after_direct,
    connect_forge,
    git_credentials,
    publish,
    pull_request_spec,
    retire,
)
from promoter.registry import gate
from promoter.signing import signing
from promoter.template import fill

__all__ = ["Promotion", "PullRequestOptions", "Request", "default_identity", "promote"]


def promote(request: Request, environ: Mapping[str, str]) -> Promotion:
    """Run one promotion against ``request.repo``; the record of what happened."""
    url = remote.git_url(request.repo)
    forge_name = request.forge or remote.infer_forge(request.repo, environ)
    if forge_name == "local" and (request.api_url or request.app_id):
        flag = "--api-url" if request.api_url else "--app-id"
        raise InputError(f"{flag} has no effect with the local forge of {request.repo}; "
                         "pass --forge github|gitlab, or drop it")
    extras.require_forge(forge_name)  # a missing SDK fails before the clone, not after the push
    found, forge = git_credentials(request, forge_name, environ)
    with signing(git_remote.session(url, found, request.network_limit), request.sign,
                 environ) as session, tempfile.TemporaryDirectory(prefix="promoter-") as tmp:
        try:
            return _run(request, session, url, Path(tmp) / "repo", forge_name, environ, forge)
        except PromoterError as exc:
            raise _in_repository(exc, Path(tmp) / "repo", request.repo) from exc.__cause__


def _run(request: Request, session: git.Git, url: str, dest: Path, forge_name: str,
         environ: Mapping[str, str], forge: Forge | None) -> Promotion:
    ws = workspace.open_clone(session, url, dest, request.base, request.repo)
    job = _prepare(request, ws, environ)
    forge = gates.check(job, forge_name, forge, environ)  # --require-verified
    job = forge_commit.prepared(job, forge_name, forge, environ)  # --sign github
    forge = job.forge or forge
    if forge is None and not job.direct and not request.dry_run:
        forge = connect_forge(request, forge_name, environ)  # slug and token: before any push
    result, first, existing = _apply(job)
    if request.dry_run:
        return _planned(job, result, first)
    if job.direct:
        result = after_direct(job, result, environ)
    elif result.commit is None and existing is not None:
        assert forge is not None
        result = retire(job, result, existing, forge)
    else:
        assert forge is not None
        result = publish(job, result, first, forge, environ, forge_name)
    return deployments.record(job, result, forge_name, forge, environ)  # --record


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


def _prepare(request: Request, ws: workspace.Workspace, environ: Mapping[str, str]) -> Job:
    config = cfg.load(ws.work)
    target = _target(request, config)
    source = request.from_env
    if source is None and request.image is None and config is not None:
        source = config.environments[target.env].promote_from  # the configured default
    paths, what = plan.sparse_paths(config, target, source), f"paths of app {target.app}"
    workspace.checkout_paths(ws, cfg.sparse_roots(paths), f"{what} in {target.env}")
    overlay.widen(ws.work, cfg.expand(ws.work, paths), lambda wanted: workspace.checkout_paths(
        ws, wanted, f"resources of the kustomizations of app {target.app}", skip_missing=True))
    flux.widen(ws.work, cfg.expand(ws.work, paths), target.image, lambda wanted: (
        workspace.checkout_paths(ws, wanted, f"Flux definitions of app {target.app}")),
        target.keys)
    target = replace(target, paths=cfg.expand(ws.work, target.paths))
    if not target.paths:
        raise InputError(f"{what} in {target.env}: {', '.join(_patterns(config, target))}"
                         " matches nothing; fix the paths")
    if source and config is None:
        raise InputError(f"--from needs {cfg.FILE} in the repository; use --image")
    ref = (plan.from_env(ws.work, config, target, source) if source and config
           else plan.new_ref(target, request.image))
    ref, client = _registry(request, target, ref, source if source and config else None, environ)
    author = request.author or default_identity(environ)
    direct = target.pull_request.direct if request.direct is None else request.direct
    guards.refuse_ignored(request, direct)
    if not direct and target.branch == ws.base:
        raise InputError(
            f"--branch {target.branch} is the base branch of {request.repo}; promoter never "
            f"force-pushes the base: use --direct to commit to {ws.base}, or another --branch"
        )
    return Job(request, ws, target, ref, direct, author, request.committer or author,
               plan.source_from(environ), client)


def _registry(request: Request, target: cfg.Target, ref: ImageRef, source: str | None,
              environ: Mapping[str, str]) -> tuple[ImageRef, object]:
    """The registry step (promoter.registry.gate): exists, same digest, pinned."""
    return gate.checked(request.registry, ref, environ, check=target.registry.check,
                        pin=target.registry.pin_digest, where=f"environment {target.env}",
                        source=f"environment {source}" if source else None)



def _target(request: Request, config: cfg.Config | None) -> cfg.Target:
    """What to edit: from .promoter.yaml (with --path and --branch overrides) or flags."""
    if config is None:
        if not request.image:
            raise InputError(f"no {cfg.FILE} in the repository: pass --image and --path")
        target = plan.flags_target(request.image, request.paths, request.keys,
                                   request.app, request.env)
    else:
        if not request.app or not request.env:
            raise InputError(f"{cfg.FILE} found: pass --app and --env")
        target = cfg.resolve(config, request.app, request.env)
        if request.keys:
            target = replace(target, keys=(*target.keys, *request.keys))
        if request.paths:
            target = replace(target, paths=tuple(cfg.safe_path(p, "--path") for p in request.paths))
    if request.branch:
        template = cfg.placeholders(request.branch, ("app", "env"), "--branch")
        target = replace(target, branch=fill(template, {"app": target.app, "env": target.env}))
    return target


def _patterns(config: cfg.Config | None, target: cfg.Target) -> tuple[str, ...]:
    return cfg.resolve(config, target.app, target.env).paths if config else ()


def default_identity(environ: Mapping[str, str]) -> git.Identity:
    """Author from the CI: GITHUB_ACTOR, GITLAB_USER_NAME/EMAIL; else promoter."""
    actor = environ.get("GITHUB_ACTOR")
    if actor:
        prefix = f"{environ['GITHUB_ACTOR_ID']}+" if environ.get("GITHUB_ACTOR_ID") else ""
        return git.Identity(actor, f"{prefix}{actor}@users.noreply.github.com")
    if environ.get("GITLAB_USER_NAME") and environ.get("GITLAB_USER_EMAIL"):
        return git.Identity(environ["GITLAB_USER_NAME"], environ["GITLAB_USER_EMAIL"])
    return git.Identity("promoter", "promoter@localhost")


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



def _base_record(job: Job, edits: Plan) -> Promotion:
    return Promotion(
        app=job.target.app, env=job.target.env, image=str(job.ref), repo=job.request.repo,
        base=job.ws.base, branch=job.ws.base if job.direct else job.target.branch,
        changes=tuple((c.file, c.line, c.old, c.new) for c in edits.changes),
        skipped=tuple((k.file, k.line, k.reason) for k in edits.skipped),
        dry_run=job.request.dry_run, diff=unified_diff(edits) if edits.edits else "",
        notes=tuple(f"{c.file}:{c.line}: {note}" for c in edits.changes for note in c.notes)
        + tuple(f"skipped {s.file}:{s.line}: {s.reason}" for s in edits.skipped),
    )


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
        record = replace(_base_record(current, edits), version_check=rule)
        outcome = _attempt(current, edits, existing, record)
        if outcome is not None:
            return outcome, first, existing
    branch = job.ws.base if job.direct else job.target.branch
    raise PromoterError(
        f"push to {branch} of {job.request.repo} was rejected {retry.attempts} "
        "times; other pushes keep landing, retry later or raise --max-attempts"
    )



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
    job: Job, edits: Plan, existing: workspace.Branch | None, record: Promotion
) -> Promotion | None:
    """One try: None when the push lost a race (fetch and try again)."""
    if not edits.edits:
        return record  # the base already has the new image
    blobs = {edit.file: git.blob_id(edit.after) for edit in edits.edits}
    if existing is not None and workspace.up_to_date(job.ws, existing, blobs):
        return replace(record, commit=existing.sha)  # the branch already proposes this
    operation = "pushed" if job.direct else ("updated" if existing else "created")
    discarded = tuple(c.sha for c in existing.foreign) if existing else ()
    record = replace(record, discarded=discarded)
    if job.request.dry_run:
        return replace(record, changed=True, operation=operation)
    write_plan(job.ws.work, edits)
    template = job.request.message or job.target.commit_message
    message = plan.message(template, job.target, edits, job.ref, job.source)
    lease = None if job.direct else (existing.sha if existing else "")
    if job.forge is not None:  # --sign github: the forge makes the commit
        sha = forge_commit.attempt(
            job.forge, job.ws, record.branch, lease, {e.file: e.after for e in edits.edits},
            forge_commit.with_signoff(message, job.request.signoff, str(job.committer)))
        return None if sha is None else replace(record, changed=True, operation=operation,
                                                 commit=sha)
    sha = git.commit(
        job.ws.git, job.ws.work, [edit.file for edit in edits.edits], message,
        job.author, job.committer, job.request.signoff,
    )
    pushed = guards.push(job, sha, record.branch, lease)
    if not pushed.ok:
        return None
    return replace(record, changed=True, operation=operation, commit=sha)
