"""The promotion pipeline, stage by stage:

    1. clone      credentials, then a shallow sparse clone of the base (workspace)
    2. prepare    what to promote where: the ``Job`` (promoter.prepare)
    3. apply      plan the edits, commit, push; fetch and plan again when a push
                  loses a race (promoter.apply)
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

from promoter import deployments, extras, forge_commit, gates, git, git_remote, remote, workspace
from promoter.apply import apply
from promoter.credentials import api_url, connect_forge, git_credentials
from promoter.errors import (
    BlockedError,
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
from promoter.manifests import Plan
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
    api_url(request, forge_name, environ)  # --api-url with credentials: before the clone
    extras.require_forge(forge_name)  # a missing SDK fails before the clone, not after the push
    if request.verify:
        request.cluster.check()  # a cluster URL with credentials: before the clone, not after
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
    result, first, existing = apply(job)
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
