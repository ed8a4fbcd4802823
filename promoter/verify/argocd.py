"""Argo CD Application readiness, tied to the merged commit (pure functions).

An Application is live at the merge commit when: its synced revision
(``status.sync.revision``; for multi-source apps the ``revisions`` entry of the
source whose ``repoURL`` is the config repository, any entry when that
repository is unknown) is the commit or a descendant; ``sync.status`` is
Synced; the sync operation that concerns that revision Succeeded; health was
assessed after that operation (``reconciledAt`` >=
``operationState.finishedAt``); and ``health.status`` is Healthy. A SyncError
condition, a Failed or Error operation for the revision, Degraded health
after the revision was applied, or a ``deletionTimestamp`` fail at once.

An app with the source hydrator (``spec.sourceHydrator``) syncs a hydrated
commit: promoter.verify.hydrator finds the hydration of the merge commit whose
output is synced, and the rules above apply to that hydrated commit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from promoter.remote import normalize_repo_url, same_repo
from promoter.verify import hydrator
from promoter.verify.rules import (
    Check,
    Expect,
    Obj,
    deleting,
    failed,
    mismatch,
    parse_time,
    ready,
    revision_matches,
    short_sha,
    waiting,
)

RUNNING_PHASES = frozenset({"Running", "Terminating"})
FAILED_PHASES = frozenset({"Failed", "Error"})
BAD_HEALTH = frozenset({"Degraded", "Missing"})


def synced_revisions(status: Mapping[str, Any]) -> list[str]:
    sync = status.get("sync") or {}
    revisions = [r for r in sync.get("revisions") or () if r]
    return revisions or ([sync["revision"]] if sync.get("revision") else [])


def _operation_revisions(op: Mapping[str, Any]) -> tuple[list[str], list[Any]]:
    """An operation's revisions, with the sources they align with (maybe none)."""
    result = op.get("syncResult") or {}
    if result.get("revisions"):
        return list(result["revisions"]), list(result.get("sources") or ())
    if result.get("revision"):
        return [result["revision"]], []
    sync = (op.get("operation") or {}).get("sync") or {}
    if sync.get("revisions"):
        return list(sync["revisions"]), list(sync.get("sources") or ())
    return ([sync["revision"]] if sync.get("revision") else []), []


def _sources(app: Obj) -> list[Any]:
    """The sources ``status.sync.revisions`` align with, index by index: those
    last compared (``comparedTo.sources``), else ``spec.sources``."""
    compared = ((app.get("status") or {}).get("sync") or {}).get("comparedTo") or {}
    return list(compared.get("sources") or (app.get("spec") or {}).get("sources") or ())


def _of_repo(revisions: list[str], sources: list[Any], expect: Expect) -> list[str]:
    """The revisions of the sources whose repoURL is the config repository;
    all of them when that repository is unknown."""
    if expect.repo_url is None or not sources:
        return [r for r in revisions if r]
    return [r for r, source in zip(revisions, sources, strict=False)
            if r and same_repo((source or {}).get("repoURL"), expect.repo_url)]


def candidate_revisions(app: Obj, expect: Expect) -> tuple[list[str], str | None]:
    """The synced revisions that may carry the merge commit, and a note on how
    they were picked (for the detail text), if there is something to say."""
    status = app.get("status") or {}
    if not (status.get("sync") or {}).get("revisions"):
        source = ((app.get("spec") or {}).get("source") or {}).get("repoURL")
        return synced_revisions(status), _other_repo("spec.source.repoURL", source, expect)
    if expect.repo_url is None:
        return synced_revisions(status), ("multi-source: config repository unknown (no --repo),"
                                          " any source's revision counts")
    sources = _sources(app)
    picked = _of_repo(list(status["sync"]["revisions"]), sources, expect)
    if any(same_repo((s or {}).get("repoURL"), expect.repo_url) for s in sources):
        return picked, None
    urls = ", ".join(normalize_repo_url(str((s or {}).get("repoURL"))) for s in sources)
    return picked, f"no source has repoURL {normalize_repo_url(expect.repo_url)} (sources: {urls})"


def _other_repo(field: str, url: Any, expect: Expect) -> str | None:
    """A note when the app's ``field`` names another repository than --repo's."""
    if not (expect.repo_url and url) or same_repo(url, expect.repo_url):
        return None
    return (f"{field} {normalize_repo_url(str(url))} is not the config repository "
            f"{normalize_repo_url(expect.repo_url)}")


def failing_resources(status: Mapping[str, Any]) -> tuple[str, ...]:
    """``Kind/namespace/name: message`` for resources unhealthy, out of sync or failed."""
    out: list[str] = []
    op_result = (status.get("operationState") or {}).get("syncResult") or {}
    for res in op_result.get("resources") or ():
        if res.get("status") in ("SyncFailed", "PruneSkipped") or res.get("hookPhase") in (
            "Failed", "Error"
        ):
            out.append(_resource_line(res, res.get("message")))
    for res in status.get("resources") or ():
        health = res.get("health") or {}
        if health.get("status") in BAD_HEALTH:
            out.append(_resource_line(res, f"{health['status']}: {health.get('message', '')}"))
    return tuple(dict.fromkeys(out))


def _key(res: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (str(res.get("group") or ""), str(res.get("kind") or ""),
            str(res.get("namespace") or ""), str(res.get("name") or ""))


def fill_health(app: dict[str, Any], lookup: Callable[[], list[dict[str, Any]]]) -> None:
    """Give ``status.resources`` entries their health when the app is not
    Healthy and the entries carry none (Argo CD 3.x no longer persists it):
    ``lookup()`` returns resources with ``health`` (the API server's resource
    tree nodes, or the workloads as read from the cluster)."""
    status = app.get("status") or {}
    resources = status.get("resources") or []
    if (status.get("health") or {}).get("status") in (None, "Healthy") or not resources:
        return
    if any(res.get("health") for res in resources):
        return
    found = {_key(node): node.get("health") for node in lookup() if node.get("health")}
    for res in resources:
        if found.get(_key(res)):
            res["health"] = found[_key(res)]


def auto_sync_off(app: Obj) -> bool:
    automated = ((app.get("spec") or {}).get("syncPolicy") or {}).get("automated")
    return automated is None or automated.get("enabled") is False


def needs_sync(app: Obj) -> bool:
    """OutOfSync with no operation running: a sync request would do something."""
    status = app.get("status") or {}
    running = (status.get("operationState") or {}).get("phase") in RUNNING_PHASES
    return (status.get("sync") or {}).get("status") != "Synced" and not running and \
        not app.get("operation")


SYNC_OPERATION = {"operation": {"initiatedBy": {"username": "promoter"},
                                "sync": {"syncStrategy": {"hook": {}}}}}


def _resource_line(res: Mapping[str, Any], message: Any) -> str:
    where = f"{res.get('kind', '?')}/{res.get('namespace', '')}/{res.get('name', '?')}"
    return f"{where}: {str(message or '').strip()}".rstrip(": ")


def sync_errors(status: Mapping[str, Any]) -> list[str]:
    return [
        str(c.get("message", "")).strip()
        for c in status.get("conditions") or ()
        if c.get("type") == "SyncError"
    ]


def check_application(app: Obj, expect: Expect) -> Check:
    """The verdict on one Application object (a dict as the API returns it)."""
    gone = deleting(app)
    if gone is not None:
        return gone
    spec = hydrator.spec_of(app)
    if spec is not None:
        check = _check_hydrated(app, expect)
        note = _other_repo("spec.sourceHydrator.drySource.repoURL",
                           (spec.get("drySource") or {}).get("repoURL"), expect)
    else:
        revisions, note = candidate_revisions(app, expect)
        check = _check(app, expect, revisions)
    return replace(check, reason=f"{check.reason} ({note})") if note else check


def _check_hydrated(app: Obj, expect: Expect) -> Check:
    """The rules for the hydrated commit of the merge commit (an app with the source
    hydrator); a SyncError fails at once here too."""
    revisions = synced_revisions(app.get("status") or {})
    found = hydrator.hydration(app, expect, revisions[0] if revisions else None)
    if isinstance(found, hydrator.Hydration):
        return found.explain(_check(app, found.expect, revisions, found.unmatched))
    return _sync_error(app.get("status") or {}, found.revision) or found


def _sync_error(status: Mapping[str, Any], seen: str | None) -> Check | None:
    errors = sync_errors(status)
    if not errors:
        return None
    return failed("SyncError: " + "; ".join(errors), seen, failing_resources(status))


def _check(app: Obj, expect: Expect, revisions: list[str],
           unmatched: Callable[[str | None], str] | None = None) -> Check:
    """The verdict for the synced ``revisions``; ``unmatched(seen)`` says why none is
    the expected revision (by default ``mismatch``)."""
    status = app.get("status") or {}
    matched = next((r for r in revisions if revision_matches(expect, r)), None)
    seen = matched or (revisions[0] if revisions else None)
    error = _sync_error(status, seen)
    if error is not None:
        return error
    op = status.get("operationState") or {}
    op_revisions, op_sources = _operation_revisions(op)
    op_ours = any(revision_matches(expect, r)
                  for r in _of_repo(op_revisions, op_sources or _sources(app), expect))
    phase = op.get("phase")
    if op_ours and phase in FAILED_PHASES:
        message = str(op.get("message", "")).strip()
        return failed(f"sync operation {phase}: {message}", seen, failing_resources(status))
    if matched is None:
        reason = unmatched(seen) if unmatched else mismatch(expect, "synced revision", seen)
        return _off(app, waiting(reason, seen))
    return _off(app, _check_synced(status, op, matched))


def _off(app: Obj, check: Check) -> Check:
    """Say at once that nothing will sync an OutOfSync app without auto-sync."""
    if check.state != "waiting" or not auto_sync_off(app) or not needs_sync(app):
        return check
    return replace(check, reason=f"{check.reason}; auto-sync is off for this application, so "
                   "nothing syncs it: pass --sync (or run argocd app sync)")


def _check_synced(status: Mapping[str, Any], op: Mapping[str, Any], revision: str) -> Check:
    sync_status = (status.get("sync") or {}).get("status")
    if sync_status != "Synced":
        return waiting(f"sync status {sync_status or 'unknown'} at {short_sha(revision)}", revision)
    if op.get("phase") in RUNNING_PHASES:
        return waiting(f"sync operation {op['phase']}", revision)
    finished = parse_time(op.get("finishedAt"))
    reconciled = parse_time(status.get("reconciledAt"))
    if finished is not None and (reconciled is None or reconciled < finished):
        return waiting("health not yet assessed after the sync operation", revision)
    health = (status.get("health") or {}).get("status")
    if health == "Degraded":
        message = (status.get("health") or {}).get("message") or "application is Degraded"
        return failed(f"Degraded after {short_sha(revision)} was applied: {message}", revision,
                      failing_resources(status))
    if health != "Healthy":
        return waiting(f"health {health or 'unknown'}", revision)
    return ready(f"Synced and Healthy at {short_sha(revision)}", revision)
