"""CI renderings of the result record: GitHub Actions and GitLab CI.

``--output github`` writes step outputs to $GITHUB_OUTPUT (heredoc delimiters, so
multi-line values such as the JSON record are safe), a job summary to
$GITHUB_STEP_SUMMARY, and returns what to print on stdout: ``::add-mask::`` lines
first, then the log inside ``::group::``, then ``::error::`` annotations.

``--output gitlab`` writes a dotenv report ($PROMOTER_DOTENV, default
``promoter.env``) and the JSON record ($PROMOTER_RESULT_FILE, default
``promoter-result.json``), and returns a log section.

The dotenv keys are never the name of a ``PROMOTER_*`` option variable: GitLab
gives dotenv variables precedence over a job's own ``variables:``, so a key such
as PROMOTER_BRANCH would silently become the ``--branch`` of every later
promoter job in the pipeline. Hence PROMOTER_MR_BRANCH.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

# Environment variables holding secrets given to promoter: masked again here so
# that the CLI run without the action (a plain `run:` step) is just as safe.
SECRET_VARIABLES = ("PROMOTER_TOKEN", "PROMOTER_APP_PRIVATE_KEY", "PROMOTER_ARGOCD_TOKEN")


# ---------------------------------------------------------------- the record


def _get(record: Mapping[str, Any], *keys: str) -> Any:
    """``record[k1][k2]...``, or None where any level is missing or null."""
    value: Any = record
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def outputs(record: Mapping[str, Any]) -> dict[str, str]:
    """The action's outputs (kebab-case names) as strings; missing values are ''."""
    pr_operation = _get(record, "pull_request", "operation")
    return {
        "changed": _text(bool(record.get("changed"))),
        "operation": _text(record.get("operation")),
        "branch": _text(record.get("branch")),
        "commit-sha": _text(record.get("commit")),
        "image": _text(record.get("image")),
        "pull-request-number": _text(_get(record, "pull_request", "number")),
        "pull-request-url": _text(_get(record, "pull_request", "url")),
        "pull-request-operation": _text(pr_operation or "none"),
        "merge-commit-sha": _text(_get(record, "merge", "commit_sha")),
        "verify-status": _text(_get(record, "verify", "status")),
        "synced-revision": _text(_get(record, "verify", "synced_revision")),
        "result": json.dumps(record, sort_keys=True),
    }


def subject(record: Mapping[str, Any]) -> str:
    """``api -> staging`` for a promotion; ``verify <sha>`` for a verify record."""
    if record.get("app") or record.get("env"):
        return f"{_text(record.get('app')) or '?'} -> {_text(record.get('env')) or '?'}"
    return f"verify {_text(record.get('revision'))[:12]}".rstrip()


def problems(record: Mapping[str, Any]) -> list[str]:
    """One line per way the record says the promotion did not succeed."""
    found = []
    where = subject(record)
    merge_state = _get(record, "merge", "state")
    if merge_state in ("closed", "timeout"):
        pr = _get(record, "pull_request", "url") or "the pull request"
        found.append(f"{where}: {pr} was not merged ({merge_state})")
    verify_status = _get(record, "verify", "status")
    if verify_status in ("failed", "timeout"):
        found.append(f"{where}: verification {verify_status}")
    return found


def _old_new(record: Mapping[str, Any]) -> str:
    changes = record.get("changes") or []
    pairs = sorted({(str(c.get("old")), str(c.get("new"))) for c in changes})
    if not pairs:
        return "no change"
    return ", ".join(f"{old} -> {new}" for old, new in pairs)


# ---------------------------------------------------------------- GitHub


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
    text = _text(value).replace("|", "\\|").replace("`", "'").replace("\n", " ")
    return f"`{text}`" if text else "-"


def _pr_cell(record: Mapping[str, Any]) -> str:
    pr = record.get("pull_request")
    if not isinstance(pr, Mapping):
        if record.get("dry_run"):
            return "dry run: nothing pushed"
        return f"none (branch {_md(record.get('branch'))})"
    label = f"#{pr.get('number')}"
    url = _text(pr.get("url"))
    link = f"[{label}]({url})" if url.startswith(("http://", "https://")) else label
    return f"{link} {_text(pr.get('operation'))}".strip()


def _verify_cell(record: Mapping[str, Any]) -> str:
    status = _get(record, "verify", "status")
    if status is None:
        return "not requested"
    revision = _get(record, "verify", "synced_revision")
    return f"{status} at {_md(revision)}" if revision else str(status)


def github_summary(record: Mapping[str, Any]) -> str:
    """The job summary (Markdown)."""
    rows = [
        ("App", _md(record.get("app"))),
        ("Environment", _md(record.get("env"))),
        ("Image", _md(record.get("image"))),
        ("Change", _md(_old_new(record))),
        ("Operation", _md(record.get("operation"))),
        ("Pull request", _pr_cell(record)),
        ("Merge", _md(_get(record, "merge", "state")) + _sha_suffix(record)),
        ("Verification", _verify_cell(record)),
    ]
    title = f"### promoter: {subject(record)}"
    table = "".join(f"| {name} | {cell} |\n" for name, cell in rows)
    files = "".join(f"- `{_md(f)[1:-1]}`\n" for f in record.get("files") or [])
    notes = "".join(f"> **Error:** {line}\n" for line in problems(record))
    return f"{title}\n\n| | |\n|---|---|\n{table}\n{files}{notes}\n"


def _sha_suffix(record: Mapping[str, Any]) -> str:
    sha = _get(record, "merge", "commit_sha")
    return f" {_md(sha)}" if sha else ""


def _append(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8", newline="\n") as handle:
            handle.write(text)


def log_lines(record: Mapping[str, Any]) -> list[str]:
    """A few human lines describing the result (used inside the CI log group)."""
    lines = [f"image: {_text(record.get('image'))}  ({_old_new(record)})"]
    if record.get("operation"):
        lines.append(f"operation: {_text(record['operation'])}  branch: "
                     f"{_text(record.get('branch'))}")
    pr = record.get("pull_request")
    if isinstance(pr, Mapping):
        lines.append(f"pull request: {_text(pr.get('url'))} ({_text(pr.get('operation'))})")
    for name, keys in (("merge", ("merge", "state")), ("verify", ("verify", "status"))):
        if _get(record, *keys) is not None:
            lines.append(f"{name}: {_text(_get(record, *keys))}")
    return lines


def write_github(record: dict[str, Any], environ: Mapping[str, str]) -> str:
    """Write outputs and the job summary; return the stdout text."""
    _append(environ.get("GITHUB_OUTPUT"), github_output_text(outputs(record)))
    _append(environ.get("GITHUB_STEP_SUMMARY"), github_summary(record))
    group = f"::group::promoter {subject(record)}\n"
    body = "".join(f"{line}\n" for line in log_lines(record))
    errors = "".join(github_annotation(line) for line in problems(record))
    return f"{_masks(environ)}{group}{body}::endgroup::\n{errors}"


def github_error(message: str, environ: Mapping[str, str] | None = None) -> str:
    """The failure path: an ``::error::`` annotation; with ``environ``, also the
    outputs (``operation=failed``, ``error``) and a summary line."""
    text = github_annotation(message)
    if environ is None:
        return text
    values = {"changed": "false", "operation": "failed", "error": message}
    _append(environ.get("GITHUB_OUTPUT"), github_output_text(values))
    _append(environ.get("GITHUB_STEP_SUMMARY"), f"### promoter failed\n\n> {message}\n\n")
    return _masks(environ) + text


# ---------------------------------------------------------------- GitLab


def dotenv_values(record: Mapping[str, Any]) -> dict[str, str]:
    """The dotenv report's variables (keys listed in DOTENV_KEYS)."""
    values = outputs(record)
    return {
        "PROMOTER_CHANGED": values["changed"],
        "PROMOTER_OPERATION": values["operation"],
        "PROMOTER_MR_BRANCH": values["branch"],
        "PROMOTER_COMMIT_SHA": values["commit-sha"],
        "PROMOTER_MR_IID": values["pull-request-number"],
        "PROMOTER_MR_URL": values["pull-request-url"],
        "PROMOTER_MR_OPERATION": values["pull-request-operation"],
        "PROMOTER_MERGE_COMMIT_SHA": values["merge-commit-sha"],
        "PROMOTER_VERIFY_STATUS": values["verify-status"],
        "PROMOTER_SYNCED_REVISION": values["synced-revision"],
        "PROMOTER_NEW_IMAGE": values["image"],
    }


DOTENV_KEYS = tuple(dotenv_values({}))


def dotenv_text(values: Mapping[str, str]) -> str:
    """GitLab's dotenv: one ``KEY=value`` per line, no quoting, no newlines."""
    return "".join(f"{key}={' '.join(value.split())}\n" for key, value in values.items())


def _gitlab_section(name: str, header: str, lines: Iterable[str]) -> str:
    now = int(time.time())
    start = f"\x1b[0Ksection_start:{now}:{name}\r\x1b[0K{header}\n"
    end = f"\x1b[0Ksection_end:{now}:{name}\r\x1b[0K\n"
    return start + "".join(f"{line}\n" for line in lines) + end


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_gitlab(record: dict[str, Any], environ: Mapping[str, str]) -> str:
    """Write the dotenv report and the JSON record; return the stdout text."""
    dotenv = Path(environ.get("PROMOTER_DOTENV") or "promoter.env")
    result = Path(environ.get("PROMOTER_RESULT_FILE") or "promoter-result.json")
    _write(dotenv, dotenv_text(dotenv_values(record)))
    _write(result, json.dumps(record, indent=2, sort_keys=True) + "\n")
    header = f"promoter {subject(record)}"
    lines = [*log_lines(record), *(f"ERROR: {line}" for line in problems(record))]
    return _gitlab_section("promoter", header, lines)


def gitlab_error(message: str, environ: Mapping[str, str]) -> str:
    """The failure path: a dotenv report saying ``failed``; returns the log line."""
    dotenv = Path(environ.get("PROMOTER_DOTENV") or "promoter.env")
    values = {"PROMOTER_CHANGED": "false", "PROMOTER_OPERATION": "failed",
              "PROMOTER_ERROR": message}
    _write(dotenv, dotenv_text(values))
    return f"ERROR: {message}\n"
