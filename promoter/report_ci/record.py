"""The result record as CI renderings read it: the action's outputs, a one-line
subject, the problems to flag, and a few log lines."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def value_at(record: Mapping[str, Any], *keys: str) -> Any:
    """``record[k1][k2]...``, or None where any level is missing or null."""
    value: Any = record
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def outputs(record: Mapping[str, Any]) -> dict[str, str]:
    """The action's outputs (kebab-case names) as strings; missing values are ''."""
    pr_operation = value_at(record, "pull_request", "operation")
    return {
        "changed": as_text(bool(record.get("changed"))),
        "operation": as_text(record.get("operation")),
        "branch": as_text(record.get("branch")),
        "commit-sha": as_text(record.get("commit")),
        "image": as_text(record.get("image")),
        "pull-request-number": as_text(value_at(record, "pull_request", "number")),
        "pull-request-url": as_text(value_at(record, "pull_request", "url")),
        "pull-request-operation": as_text(pr_operation or "none"),
        "merge-commit-sha": as_text(value_at(record, "merge", "commit_sha")),
        "verify-status": as_text(value_at(record, "verify", "status")),
        "synced-revision": as_text(value_at(record, "verify", "synced_revision")),
        "error": as_text(record.get("error")),
        "result": json.dumps(record, sort_keys=True),
    }


def subject(record: Mapping[str, Any]) -> str:
    """``api -> staging`` for a promotion; ``verify <sha>`` for a verify record."""
    if record.get("app") or record.get("env"):
        return f"{as_text(record.get('app')) or '?'} -> {as_text(record.get('env')) or '?'}"
    return f"verify {as_text(record.get('revision'))[:12]}".rstrip()


def error_lines(record: Mapping[str, Any]) -> list[str]:
    """One line per way the record says the promotion did not succeed; the
    record's own error, when it has one, says it best."""
    where = subject(record)
    if record.get("error"):
        return [f"{where}: {as_text(record['error'])}"]
    found = []
    merge_state = value_at(record, "merge", "state")
    if merge_state in ("closed", "timeout"):
        pr = value_at(record, "pull_request", "url") or "the pull request"
        found.append(f"{where}: {pr} was not merged ({merge_state})")
    verify_status = value_at(record, "verify", "status")
    if verify_status in ("failed", "timeout"):
        found.append(f"{where}: verification {verify_status}")
    return found


def old_new(record: Mapping[str, Any]) -> str:
    changes = record.get("changes") or []
    pairs = sorted({(str(c.get("old")), str(c.get("new"))) for c in changes})
    if not pairs:
        return "no change"
    return ", ".join(f"{old} -> {new}" for old, new in pairs)


def log_lines(record: Mapping[str, Any]) -> list[str]:
    """A few human lines describing the result (used inside the CI log group)."""
    lines = [f"image: {as_text(record.get('image'))}  ({old_new(record)})"]
    if record.get("operation"):
        lines.append(f"operation: {as_text(record['operation'])}  branch: "
                     f"{as_text(record.get('branch'))}")
    pr = record.get("pull_request")
    if isinstance(pr, Mapping):
        lines.append(f"pull request: {as_text(pr.get('url'))} ({as_text(pr.get('operation'))})")
    for name, keys in (("merge", ("merge", "state")), ("verify", ("verify", "status"))):
        if value_at(record, *keys) is not None:
            lines.append(f"{name}: {as_text(value_at(record, *keys))}")
    for skip in record.get("skipped") or []:
        lines.append(f"skipped: {as_text(skip.get('file'))}:{as_text(skip.get('line'))}: "
                     f"{as_text(skip.get('reason'))}")
    for sha in record.get("discarded") or []:
        lines.append(f"discarded (--force): {as_text(sha)}")
    if record.get("deleted_branch"):
        lines.append(f"deleted branch: {as_text(record['deleted_branch'])}")
    return lines
