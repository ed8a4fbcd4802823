"""promoter/report_ci.py: GitHub outputs, summary and workflow commands; GitLab dotenv."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from promoter import report_ci

SENTINEL = "sentinel-token-6b1f0d"


def record(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "schema": "promoter/v1",
        "app": "api",
        "env": "staging",
        "image": "ghcr.io/acme/api:1.4.2",
        "changed": True,
        "operation": "created",
        "repo": "https://github.com/acme/config",
        "base": "main",
        "branch": "promoter/staging/api",
        "commit": "a" * 40,
        "files": ["apps/api/overlays/staging/kustomization.yaml"],
        "changes": [
            {"file": "apps/api/overlays/staging/kustomization.yaml", "line": 12,
             "old": "1.4.1", "new": "1.4.2"},
        ],
        "dry_run": False,
        "pull_request": {"number": 7, "url": "https://github.com/acme/config/pull/7",
                         "state": "open", "operation": "created", "draft": False},
        "superseded": [],
        "merge": {"state": "merged", "commit_sha": "b" * 40},
        "verify": {"status": "verified", "synced_revision": "c" * 40, "targets": []},
    }
    base.update(overrides)
    return base


def parse_github_file(text: str) -> dict[str, str]:
    """The runner's reading of $GITHUB_OUTPUT: ``k=v`` lines and ``k<<DELIM`` blocks."""
    values: dict[str, str] = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            for inner in lines:
                if inner == delimiter:
                    break
                body.append(inner)
            else:
                raise AssertionError(f"unterminated heredoc for {name}")
            values[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            values[name] = value
    return values


@pytest.fixture
def github_env(tmp_path: Path) -> dict[str, str]:
    return {
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "PROMOTER_TOKEN": SENTINEL,
    }


def test_github_outputs_round_trip_through_the_runner_format(github_env: dict[str, str]) -> None:
    rec = record(image="ghcr.io/acme/api:1.4.2")
    rec["changes"][0]["old"] = "line one\nghadelimiter_fake\n"
    report_ci.write_github(rec, github_env)
    values = parse_github_file(Path(github_env["GITHUB_OUTPUT"]).read_text())
    assert values["changed"] == "true"
    assert values["operation"] == "created"
    assert values["branch"] == "promoter/staging/api"
    assert values["commit-sha"] == "a" * 40
    assert values["pull-request-number"] == "7"
    assert values["pull-request-url"] == "https://github.com/acme/config/pull/7"
    assert values["pull-request-operation"] == "created"
    assert values["merge-commit-sha"] == "b" * 40
    assert values["verify-status"] == "verified"
    assert values["synced-revision"] == "c" * 40
    assert json.loads(values["result"]) == rec


def test_github_outputs_append_to_what_earlier_steps_wrote(github_env: dict[str, str]) -> None:
    Path(github_env["GITHUB_OUTPUT"]).write_text("earlier=1\n")
    report_ci.write_github(record(), github_env)
    values = parse_github_file(Path(github_env["GITHUB_OUTPUT"]).read_text())
    assert values["earlier"] == "1"
    assert values["changed"] == "true"


def test_github_outputs_of_a_record_without_pr_merge_or_verify(github_env: dict[str, str]) -> None:
    rec = record(changed=False, operation="none", commit=None, pull_request=None,
                 merge=None, verify=None, changes=[])
    report_ci.write_github(rec, github_env)
    values = parse_github_file(Path(github_env["GITHUB_OUTPUT"]).read_text())
    assert values["changed"] == "false"
    assert values["operation"] == "none"
    assert values["commit-sha"] == ""
    assert values["pull-request-number"] == ""
    assert values["pull-request-operation"] == "none"
    assert values["verify-status"] == ""


def test_github_summary_names_app_env_change_pr_and_verification(
    github_env: dict[str, str],
) -> None:
    report_ci.write_github(record(), github_env)
    summary = Path(github_env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "### promoter: api -> staging" in summary
    assert "`1.4.1 -> 1.4.2`" in summary
    assert "[#7](https://github.com/acme/config/pull/7) created" in summary
    assert f"verified at `{'c' * 40}`" in summary
    assert "apps/api/overlays/staging/kustomization.yaml" in summary


def test_github_summary_cells_cannot_break_the_table(github_env: dict[str, str]) -> None:
    report_ci.write_github(record(app="a|b"), github_env)
    summary = Path(github_env["GITHUB_STEP_SUMMARY"]).read_text()
    row = next(line for line in summary.splitlines() if line.startswith("| App "))
    assert row.count("|") - row.count("\\|") == 3


def test_github_stdout_masks_first_then_groups_and_never_shows_the_token(
    github_env: dict[str, str],
) -> None:
    key = "-----BEGIN KEY-----\nsecretline1\nsecretline2\n-----END KEY-----\n"
    env = {**github_env, "PROMOTER_APP_PRIVATE_KEY": key}
    out = report_ci.write_github(record(), env)
    lines = out.splitlines()
    masks = [line for line in lines if line.startswith("::add-mask::")]
    assert lines[: len(masks)] == masks
    assert f"::add-mask::{SENTINEL}" in masks
    assert "::add-mask::secretline1" in masks and "::add-mask::secretline2" in masks
    rest = "\n".join(lines[len(masks):])
    assert rest.startswith("::group::promoter api -> staging")
    assert "::endgroup::" in rest
    assert SENTINEL not in rest and "secretline1" not in rest
    written = Path(env["GITHUB_OUTPUT"]).read_text() + Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert SENTINEL not in written


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"verify": {"status": "failed", "synced_revision": None}}, "verification failed"),
        ({"verify": {"status": "timeout"}}, "verification timeout"),
        ({"merge": {"state": "closed", "commit_sha": None}}, "was not merged (closed)"),
    ],
)
def test_github_error_annotations_on_failure(
    github_env: dict[str, str], overrides: dict[str, Any], expected: str
) -> None:
    out = report_ci.write_github(record(**overrides), github_env)
    errors = [line for line in out.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and expected in errors[0]
    assert "Error:" in Path(github_env["GITHUB_STEP_SUMMARY"]).read_text()


def test_github_success_has_no_error_annotation(github_env: dict[str, str]) -> None:
    assert "::error" not in report_ci.write_github(record(), github_env)


def test_github_error_escapes_the_message_and_writes_outputs(github_env: dict[str, str]) -> None:
    message = "push rejected: 100% sure\nsecond line"
    out = report_ci.github_error(message, github_env)
    assert out.splitlines()[0] == f"::add-mask::{SENTINEL}"
    assert out.splitlines()[1] == (
        "::error title=promoter::push rejected: 100%25 sure%0Asecond line"
    )
    values = parse_github_file(Path(github_env["GITHUB_OUTPUT"]).read_text())
    assert values == {"changed": "false", "operation": "failed", "error": message}
    assert "promoter failed" in Path(github_env["GITHUB_STEP_SUMMARY"]).read_text()


def test_github_error_without_environment_only_annotates() -> None:
    assert report_ci.github_error("boom; fix it") == "::error title=promoter::boom; fix it\n"


def test_github_without_output_files_still_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = report_ci.write_github(record(), {})
    assert "::group::" in out and list(tmp_path.iterdir()) == []


def parse_dotenv(text: str) -> dict[str, str]:
    """GitLab's rules: KEY=value per line, key of [A-Za-z0-9_], no multi-line values."""
    values = {}
    for line in text.splitlines():
        key, value = line.split("=", 1)
        assert re.fullmatch(r"[A-Za-z0-9_]+", key), key
        values[key] = value
    return values


def test_gitlab_dotenv_and_json_record(tmp_path: Path) -> None:
    env = {"PROMOTER_DOTENV": str(tmp_path / "out" / "promoter.env"),
           "PROMOTER_RESULT_FILE": str(tmp_path / "result.json"), "PROMOTER_TOKEN": SENTINEL}
    rec = record()
    out = report_ci.write_gitlab(rec, env)
    values = parse_dotenv((tmp_path / "out" / "promoter.env").read_text())
    assert values["PROMOTER_MR_IID"] == "7"
    assert values["PROMOTER_MR_URL"] == "https://github.com/acme/config/pull/7"
    assert values["PROMOTER_OPERATION"] == "created"
    assert values["PROMOTER_COMMIT_SHA"] == "a" * 40
    assert values["PROMOTER_MERGE_COMMIT_SHA"] == "b" * 40
    assert values["PROMOTER_VERIFY_STATUS"] == "verified"
    assert values["PROMOTER_CHANGED"] == "true"
    assert values["PROMOTER_MR_BRANCH"] == "promoter/staging/api"
    assert set(values) == set(report_ci.DOTENV_KEYS)
    assert json.loads((tmp_path / "result.json").read_text()) == rec
    assert "section_start:" in out and "promoter api -> staging" in out
    assert SENTINEL not in out


def test_gitlab_defaults_to_files_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    report_ci.write_gitlab(record(pull_request=None, verify=None), {})
    values = parse_dotenv((tmp_path / "promoter.env").read_text())
    assert values["PROMOTER_MR_IID"] == ""
    assert values["PROMOTER_MR_OPERATION"] == "none"
    assert (tmp_path / "promoter-result.json").is_file()


def test_gitlab_dotenv_values_never_span_lines(tmp_path: Path) -> None:
    env = {"PROMOTER_DOTENV": str(tmp_path / "p.env"),
           "PROMOTER_RESULT_FILE": str(tmp_path / "r.json")}
    report_ci.write_gitlab(record(branch="a\nPROMOTER_INJECTED=1"), env)
    values = parse_dotenv((tmp_path / "p.env").read_text())
    assert "PROMOTER_INJECTED" not in values
    assert values["PROMOTER_MR_BRANCH"] == "a PROMOTER_INJECTED=1"


def test_gitlab_failure_lines_and_error_report(tmp_path: Path) -> None:
    env = {"PROMOTER_DOTENV": str(tmp_path / "p.env"),
           "PROMOTER_RESULT_FILE": str(tmp_path / "r.json")}
    out = report_ci.write_gitlab(record(verify={"status": "failed"}), env)
    assert "ERROR: api -> staging: verification failed" in out
    assert report_ci.gitlab_error("clone failed; check --repo", env) == (
        "ERROR: clone failed; check --repo\n"
    )
    values = parse_dotenv((tmp_path / "p.env").read_text())
    assert values == {"PROMOTER_CHANGED": "false", "PROMOTER_OPERATION": "failed",
                      "PROMOTER_ERROR": "clone failed; check --repo"}


def test_a_verify_record_renders_without_app_or_environment(github_env: dict[str, str]) -> None:
    rec = {"schema": "promoter/v1", "revision": "d" * 40, "image": "ghcr.io/acme/api:1.4.2",
           "verify": {"status": "failed", "synced_revision": "e" * 40, "targets": []}}
    out = report_ci.write_github(rec, github_env)
    assert f"::group::promoter verify {'d' * 12}" in out
    assert f"::error title=promoter::verify {'d' * 12}: verification failed" in out
    values = parse_github_file(Path(github_env["GITHUB_OUTPUT"]).read_text())
    assert values["verify-status"] == "failed" and values["synced-revision"] == "e" * 40
    assert f"### promoter: verify {'d' * 12}" in Path(github_env["GITHUB_STEP_SUMMARY"]).read_text()


def test_mask_now_registers_derived_secrets_only_under_actions() -> None:
    stream = io.StringIO()
    report_ci.mask_now("ghs_derived", {"GITHUB_ACTIONS": "true"}, stream)
    report_ci.mask_now("ghs_other", {}, stream)
    assert stream.getvalue() == "::add-mask::ghs_derived\n"


def test_a_failed_record_gives_its_error_to_outputs_dotenv_and_one_annotation(
    github_env: dict[str, str], tmp_path: Path
) -> None:
    """A run that failed after a result (promote's verification after the merge,
    `promoter verify`): `error` / PROMOTER_ERROR carry its message, and the one
    annotation says it instead of the bare "verification failed"."""
    message = "verification failed: argocd-app argocd/api: Degraded; fix the cause"
    failed = record(operation="failed", error=message, exit_code=6,
                    verify={"status": "failed", "synced_revision": "c" * 40, "targets": []})
    out = report_ci.write_github(failed, github_env)
    values = parse_github_file(Path(github_env["GITHUB_OUTPUT"]).read_text())
    assert values["operation"] == "failed" and values["error"] == message
    errors = [line for line in out.splitlines() if line.startswith("::error")]
    assert errors == [f"::error title=promoter::api -> staging: {message}"]
    env = {"PROMOTER_DOTENV": str(tmp_path / "p.env"),
           "PROMOTER_RESULT_FILE": str(tmp_path / "r.json")}
    report_ci.write_gitlab(failed, env)
    dotenv = parse_dotenv((tmp_path / "p.env").read_text())
    assert dotenv["PROMOTER_OPERATION"] == "failed" and dotenv["PROMOTER_ERROR"] == message
    assert dotenv["PROMOTER_VERIFY_STATUS"] == "failed"
    report_ci.write_github(record(), github_env)
    assert parse_github_file(Path(github_env["GITHUB_OUTPUT"]).read_text())["error"] == ""
