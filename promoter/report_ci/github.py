"""GitHub Actions: step outputs in $GITHUB_OUTPUT (heredoc delimiters, so
multi-line values such as the JSON record are safe), a job summary in
$GITHUB_STEP_SUMMARY, and stdout: ``::add-mask::`` lines first, then the log
inside ``::group::``, then ``::error::`` annotations."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Mapping
from typing import Any, TextIO

from promoter.report_ci.files import append
from promoter.report_ci.record import (
    as_text,
    error_lines,
    log_lines,
    old_new,
    outputs,
    subject,
    value_at,
)

# Environment variables holding secrets given to promoter: masked again here so
# that the CLI run without the action (a plain `run:` step) is just as safe.
SECRET_VARIABLES = ("PROMOTER_TOKEN", "PROMOTER_APP_PRIVATE_KEY", "PROMOTER_ARGOCD_TOKEN")


def escape_data(text: str) -> str:
    """Escape a workflow command's message (as @actions/core does)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_mask(secret: str) -> str:
    """``::add-mask::`` lines for a secret, one per line of it (keys are multi-line)."""
    lines = [line.strip() for line in secret.splitlines()]
    return "".join(f"::add-mask::{line}\n" for line in lines if line)


def mask_now(secret: str, environ: Mapping[str, str], stream: TextIO = sys.stdout) -> None:
    """Register a secret promoter derived (a GitHub App installation token) with
    the Actions runner at once, before any later line could show it."""
    if environ.get("GITHUB_ACTIONS") == "true" and secret:
        stream.write(github_mask(secret))
        stream.flush()


def _masks(environ: Mapping[str, str]) -> str:
    return "".join(github_mask(environ.get(name, "")) for name in SECRET_VARIABLES)


def github_annotation(message: str, title: str = "promoter") -> str:
    return f"::error title={_escape_property(title)}::{escape_data(message)}\n"


def _delimiter(value: str) -> str:
    while True:
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        if delimiter not in value:
            return delimiter


def github_output_text(values: Mapping[str, str]) -> str:
    """$GITHUB_OUTPUT content: ``name<<DELIM`` / value / ``DELIM`` for each value."""
    parts = []
    for name, value in values.items():
        delimiter = _delimiter(value)
        parts.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(parts)


def _md(value: Any) -> str:
    """A value for a Markdown table cell, as code."""
    text = as_text(value).replace("|", "\\|").replace("`", "'").replace("\n", " ")
    return f"`{text}`" if text else "-"


def _pr_cell(record: Mapping[str, Any]) -> str:
    pr = record.get("pull_request")
    if not isinstance(pr, Mapping):
        if record.get("dry_run"):
            return "dry run: nothing pushed"
        return f"none (branch {_md(record.get('branch'))})"
    label = f"#{pr.get('number')}"
    url = as_text(pr.get("url"))
    link = f"[{label}]({url})" if url.startswith(("http://", "https://")) else label
    return f"{link} {as_text(pr.get('operation'))}".strip()


def _verify_cell(record: Mapping[str, Any]) -> str:
    status = value_at(record, "verify", "status")
    if status is None:
        return "not requested"
    revision = value_at(record, "verify", "synced_revision")
    return f"{status} at {_md(revision)}" if revision else str(status)


def github_summary(record: Mapping[str, Any]) -> str:
    """The job summary (Markdown)."""
    rows = [
        ("App", _md(record.get("app"))),
        ("Environment", _md(record.get("env"))),
        ("Image", _md(record.get("image"))),
        ("Change", _md(old_new(record))),
        ("Operation", _md(record.get("operation"))),
        ("Pull request", _pr_cell(record)),
        ("Merge", _md(value_at(record, "merge", "state")) + _sha_suffix(record)),
        ("Verification", _verify_cell(record)),
    ]
    title = f"### promoter: {subject(record)}"
    table = "".join(f"| {name} | {cell} |\n" for name, cell in rows)
    files = "".join(f"- `{_md(f)[1:-1]}`\n" for f in record.get("files") or [])
    notes = "".join(f"> **Error:** {line}\n" for line in error_lines(record))
    return f"{title}\n\n| | |\n|---|---|\n{table}\n{files}{notes}\n"


def _sha_suffix(record: Mapping[str, Any]) -> str:
    sha = value_at(record, "merge", "commit_sha")
    return f" {_md(sha)}" if sha else ""


def write_github(record: dict[str, Any], environ: Mapping[str, str]) -> str:
    """Write outputs and the job summary; return the stdout text."""
    append(environ.get("GITHUB_OUTPUT"), github_output_text(outputs(record)))
    append(environ.get("GITHUB_STEP_SUMMARY"), github_summary(record))
    group = f"::group::promoter {subject(record)}\n"
    body = "".join(f"{line}\n" for line in log_lines(record))
    errors = "".join(github_annotation(line) for line in error_lines(record))
    return f"{_masks(environ)}{group}{body}::endgroup::\n{errors}"


def github_error(message: str, environ: Mapping[str, str] | None = None) -> str:
    """The failure path: an ``::error::`` annotation; with ``environ``, also the
    outputs (``operation=failed``, ``error``) and a summary line."""
    text = github_annotation(message)
    if environ is None:
        return text
    values = {"changed": "false", "operation": "failed", "error": message}
    append(environ.get("GITHUB_OUTPUT"), github_output_text(values))
    append(environ.get("GITHUB_STEP_SUMMARY"), f"### promoter failed\n\n> {message}\n\n")
    return _masks(environ) + text
