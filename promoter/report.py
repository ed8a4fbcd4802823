"""Render a promotion record: ``text`` (human), ``json`` (one object on stdout),
``github`` and ``gitlab`` (outputs, job summary or dotenv via promoter.report_ci)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

OUTPUTS = ("text", "json", "github", "gitlab")


def render(
    record: Mapping[str, Any], output: str, environ: Mapping[str, str], diff: str = "",
    notes: Sequence[str] = (),
) -> str:
    """The text to print on stdout for ``output``."""
    if output == "json":
        return json.dumps(record, indent=2, sort_keys=False)
    if output == "github":
        from promoter.report_ci import write_github

        return write_github(dict(record), environ)
    if output == "gitlab":
        from promoter.report_ci import write_gitlab

        return write_gitlab(dict(record), environ)
    return text(record, diff, notes)


def text(record: Mapping[str, Any], diff: str = "", notes: Sequence[str] = ()) -> str:
    """A short human summary, then the diff when there is one."""
    lines = [_headline(record)]
    lines.append(f"  repo     {record['repo']} (base {record['base']})")
    lines.append(f"  branch   {record['branch']}")
    if record.get("commit"):
        lines.append(f"  commit   {record['commit']}")
    for change in record.get("changes", []):
        lines.append(f"  change   {change['file']}:{change['line']}  "
                     f"{change['old']} -> {change['new']}")
    for skip in record.get("skipped", []):
        lines.append(f"  skipped  {skip['file']}:{skip['line']}  {skip['reason']}")
    for sha in record.get("discarded", []):
        lines.append(f"  discarded {sha} (a commit promoter did not make; --force)")
    lines.extend(_pull_request(record))
    if record.get("deleted_branch"):
        lines.append(f"  deleted  branch {record['deleted_branch']}")
    merge, verify = record.get("merge"), record.get("verify")
    if merge:
        lines.append(f"  merge    {merge.get('state')} {merge.get('commit_sha') or ''}".rstrip())
    if verify:
        lines.append(f"  verify   {verify.get('status')}")
    lines.extend(f"  note     {note}" for note in notes)
    if diff and record["changed"]:
        lines.extend(["", diff.rstrip("\n")])
    return "\n".join(lines)


def _headline(record: Mapping[str, Any]) -> str:
    what = f"{record['app']} to {record['env']} ({record['image']})"
    if record.get("dry_run"):
        if record["changed"]:
            return f"dry run: would promote {what}: {record['operation']}; nothing pushed"
        return f"dry run: up to date: {what}; nothing to change"
    if not record["changed"] and record.get("commit"):
        return f"up to date: {record['branch']} already proposes {what}; nothing to change"
    if not record["changed"]:
        return f"up to date: {what}; nothing to change"
    return f"promoted {what}: {record['operation']}"


def _pull_request(record: Mapping[str, Any]) -> list[str]:
    pr = record.get("pull_request")
    lines = []
    if pr:
        draft = ", draft" if pr.get("draft") else ""
        lines.append(f"  pull request #{pr['number']} {pr['url']} ({pr['operation']}{draft})")
    for old in record.get("superseded", []):
        lines.append(f"  superseded #{old['number']} {old['url']}")
    return lines


def status_text(matrix: Mapping[str, Any]) -> str:
    """The app x environment table of ``promoter status``."""
    envs: list[str] = list(matrix["environments"])
    rows = [["APP", *[e.upper() for e in envs]]]
    for app, cells in matrix["apps"].items():
        rows.append([app, *[cells.get(env) or "-" for env in envs]])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
