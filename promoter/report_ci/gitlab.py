"""GitLab CI: a dotenv report ($PROMOTER_DOTENV, default ``promoter.env``), the
JSON record ($PROMOTER_RESULT_FILE, default ``promoter-result.json``) and a log
section on stdout. Why the dotenv keys are never ``PROMOTER_*`` option names:
see promoter.report_ci."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from promoter.report_ci.files import replace
from promoter.report_ci.record import error_lines, log_lines, outputs, subject


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
        "PROMOTER_ERROR": values["error"],
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


def write_gitlab(record: dict[str, Any], environ: Mapping[str, str]) -> str:
    """Write the dotenv report and the JSON record; return the stdout text."""
    dotenv = Path(environ.get("PROMOTER_DOTENV") or "promoter.env")
    result = Path(environ.get("PROMOTER_RESULT_FILE") or "promoter-result.json")
    replace(dotenv, dotenv_text(dotenv_values(record)))
    replace(result, json.dumps(record, indent=2, sort_keys=True) + "\n")
    header = f"promoter {subject(record)}"
    lines = [*log_lines(record), *(f"ERROR: {line}" for line in error_lines(record))]
    return _gitlab_section("promoter", header, lines)


def gitlab_error(message: str, environ: Mapping[str, str]) -> str:
    """The failure path: a dotenv report saying ``failed``; returns the log line."""
    dotenv = Path(environ.get("PROMOTER_DOTENV") or "promoter.env")
    values = {"PROMOTER_CHANGED": "false", "PROMOTER_OPERATION": "failed",
              "PROMOTER_ERROR": message}
    replace(dotenv, dotenv_text(values))
    return f"ERROR: {message}\n"
