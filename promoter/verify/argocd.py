"""Argo CD Application readiness, tied to the merged commit (pure functions).

An Application is live at the merge commit when: its synced revision
(``status.sync.revision``, or one of ``revisions`` for multi-source apps) is
the commit or a descendant; ``sync.status`` is Synced; the sync operation that
concerns that revision Succeeded; health was assessed after that operation
(``reconciledAt`` >= ``operationState.finishedAt``); and ``health.status`` is
Healthy. A SyncError condition, a Failed or Error operation for the revision,
or Degraded health after the revision was applied fail at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promoter.verify.rules import (
    Check,
    Expect,
    Obj,
    failed,
    mismatch,
    parse_time,
    ready,
    revision_matches,
    short,
    waiting,
)

RUNNING_PHASES = frozenset({"Running", "Terminating"})
FAILED_PHASES = frozenset({"Failed", "Error"})
BAD_HEALTH = frozenset({"Degraded", "Missing"})


def synced_revisions(status: Mapping[str, Any]) -> list[str]:
    sync = status.get("sync") or {}
    revisions = [r for r in sync.get("revisions") or () if r]
    return revisions or ([sync["revision"]] if sync.get("revision") else [])


def operation_revisions(op: Mapping[str, Any]) -> list[str]:
    """The revisions a sync operation applied (or is applying)."""
    result = op.get("syncResult") or {}
    found = [r for r in result.get("revisions") or () if r]
    if not found and result.get("revision"):
        found = [result["revision"]]
    if not found:
        sync = (op.get("operation") or {}).get("sync") or {}
        found = [r for r in sync.get("revisions") or () if r]
        found = found or ([sync["revision"]] if sync.get("revision") else [])
    return found


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
    status = app.get("status") or {}
    revisions = synced_revisions(status)
    matched = next((r for r in revisions if revision_matches(expect, r)), None)
    seen = matched or (revisions[0] if revisions else None)
    errors = sync_errors(status)
    if errors:
        return failed("SyncError: " + "; ".join(errors), seen, failing_resources(status))
    op = status.get("operationState") or {}
    op_ours = any(revision_matches(expect, r) for r in operation_revisions(op))
    phase = op.get("phase")
    if op_ours and phase in FAILED_PHASES:
        message = str(op.get("message", "")).strip()
        return failed(f"sync operation {phase}: {message}", seen, failing_resources(status))
    if matched is None:
        return waiting(mismatch(expect, "synced revision", seen), seen)
    return _check_synced(status, op, matched)


def _check_synced(status: Mapping[str, Any], op: Mapping[str, Any], revision: str) -> Check:
    sync_status = (status.get("sync") or {}).get("status")
    if sync_status != "Synced":
        return waiting(f"sync status {sync_status or 'unknown'} at {short(revision)}", revision)
    if op.get("phase") in RUNNING_PHASES:
        return waiting(f"sync operation {op['phase']}", revision)
    finished = parse_time(op.get("finishedAt"))
    reconciled = parse_time(status.get("reconciledAt"))
    if finished is not None and (reconciled is None or reconciled < finished):
        return waiting("health not yet assessed after the sync operation", revision)
    health = (status.get("health") or {}).get("status")
    if health == "Degraded":
        message = (status.get("health") or {}).get("message") or "application is Degraded"
        return failed(f"Degraded after {short(revision)} was applied: {message}", revision,
                      failing_resources(status))
    if health != "Healthy":
        return waiting(f"health {health or 'unknown'}", revision)
    return ready(f"Synced and Healthy at {short(revision)}", revision)
