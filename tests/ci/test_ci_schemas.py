"""action.yml, .gitlab-ci-template.yml and examples/ against the JSON schemas
vendored in check-jsonschema (vendor.github-actions, vendor.github-workflows,
vendor.gitlab-ci), offline; plus the wiring between inputs and CLI options."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from ci_support import missing
from ruamel.yaml import YAML

from promoter import report_ci
from promoter.cli import COMMANDS, LazyGroup, cli

ROOT = Path(__file__).resolve().parents[2]
CHECK = Path(sys.executable).parent / "check-jsonschema"
# Issue 6: the action's inputs, exactly (plus forge and the install switches).
ISSUE_INPUTS = {
    "command", "app", "environment", "from-environment", "image", "repository", "base",
    "path", "token", "app-id", "app-private-key", "api-url", "branch", "title", "body",
    "labels", "reviewers", "assignees", "draft", "auto-merge", "merge-method", "direct",
    "wait-for-merge", "verify", "timeout", "kubeconfig", "argocd-server", "argocd-token",
    "dry-run", "version",
}
# PROMOTER_* variables the wrappers set that are not CLI options, each read elsewhere.
NOT_OPTIONS = {
    "PROMOTER_DOTENV", "PROMOTER_RESULT_FILE",  # report_ci.write_gitlab
    "PROMOTER_TOKEN", "PROMOTER_ARGOCD_TOKEN",  # secrets: promoter.credentials, promoter.verify
    "PROMOTER_SIGNING_KEY",  # secret: promoter.signing
    "PROMOTER_CI_COMMAND", "PROMOTER_CI_INSTALL", "PROMOTER_CI_VERSION",  # the template script
}


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    """Run check-jsonschema with every proxy pointing at a closed port: a schema
    fetched over the network would fail, so passing proves it is vendored."""
    if not CHECK.exists():
        missing(f"check-jsonschema ({CHECK}); the test extra installs it")
    dead = "http://127.0.0.1:9"
    env = {**os.environ, "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead,
           "https_proxy": dead, "NO_PROXY": ""}
    return subprocess.run(
        [str(CHECK), "--no-cache", "--builtin-schema", f"vendor.{schema}", *map(str, files)],
        capture_output=True, text=True, env=env,
    )


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def template_documents() -> tuple[str, str]:
    """The template's header (spec: inputs) and its body: two YAML documents."""
    head, sep, body = (ROOT / ".gitlab-ci-template.yml").read_text().partition("\n---\n")
    assert sep, "the template needs a spec header and a --- separator"
    return head + "\n", body


def interpolate(body: str, inputs: dict[str, Any]) -> Any:
    """GitLab's ``$[[ inputs.NAME ]]`` interpolation, with the header's defaults.
    Like GitLab it works on the parsed document (keys and string values), so an
    empty input gives an empty string, never a YAML null."""
    spec = YAML(typ="safe").load(template_documents()[0])["spec"]["inputs"]
    values = {name: s.get("default") for name, s in spec.items()} | inputs

    def one(match: re.Match[str]) -> str:
        value = values[match.group(1)]
        assert value is not None, f"input {match.group(1)} is required"
        return str(value).lower() if isinstance(value, bool) else str(value)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {walk(key): walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, str):
            return re.sub(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]", one, node)
        return node

    return walk(YAML(typ="safe").load(body))


def dump(data: Any, path: Path) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_action_validates_against_github_actions_schema() -> None:
    done = check_jsonschema("github-actions", ROOT / "action.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_example_workflows_validate_against_github_workflows_schema() -> None:
    workflows = sorted((ROOT / "examples" / "github").glob("*.yml"))
    assert len(workflows) >= 2
    done = check_jsonschema("github-workflows", *workflows)
    assert done.returncode == 0, done.stdout + done.stderr


def test_gitlab_example_validates_against_gitlab_ci_schema() -> None:
    done = check_jsonschema("gitlab-ci", ROOT / "examples" / "gitlab" / ".gitlab-ci.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_gitlab_template_validates_document_by_document(tmp_path: Path) -> None:
    """check-jsonschema reads one YAML document per file; GitLab's schema describes
    both the `spec:` header and the pipeline document, so each is checked alone,
    and the body once more after interpolating inputs as GitLab does."""
    head, body = template_documents()
    (tmp_path / "head.yml").write_text(head)
    (tmp_path / "body.yml").write_text(body)
    staging = interpolate(body, {"environment": "staging"})
    production = interpolate(body, {"environment": "production", "job-suffix": "-api",
                                    "install": False, "verify": "true"})
    files = [tmp_path / "head.yml", tmp_path / "body.yml",
             dump(staging, tmp_path / "staging.json"), dump(production, tmp_path / "prod.json")]
    done = check_jsonschema("gitlab-ci", *files)
    assert done.returncode == 0, done.stdout + done.stderr
    job = staging["promote-staging"]
    assert job["resource_group"] == "promoter-staging"
    assert job["extends"] == ".promoter"
    assert job["variables"]["IN_PROMOTER_APP"] == ""
    assert staging[".promoter"]["artifacts"]["reports"]["dotenv"] == "promoter.env"
    assert production["promote-production-api"]["variables"]["PROMOTER_CI_INSTALL"] == "false"


@pytest.mark.parametrize(
    ("schema", "text"),
    [
        ("github-actions", "name: x\ndescription: y\nruns:\n  using: composite\n"
                           "  steps:\n    - run: echo no shell\n"),
        ("github-workflows", "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
                             "      - uses: a/b@v1\n        with: [1]\n"),
        ("gitlab-ci", "spec:\n  inputs:\n    x:\n      type: strin\n"),
        ("gitlab-ci", "job:\n  script: 5\n  resource_group: [a]\n"),
    ],
)
def test_the_schemas_reject_broken_files(tmp_path: Path, schema: str, text: str) -> None:
    (tmp_path / "broken.yml").write_text(text)
    assert check_jsonschema(schema, tmp_path / "broken.yml").returncode == 1


def test_action_inputs_are_the_issue_list_and_reach_scripts_only_through_env() -> None:
    action = load(ROOT / "action.yml")
    assert set(action["inputs"]) >= ISSUE_INPUTS
    used = set()
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), f"expression inside run: {step.get('name')}"
        for value in (step.get("env") or {}).values():
            used.update(re.findall(r"inputs\.([\w-]+)", str(value)))
        used.update(re.findall(r"inputs\.([\w-]+)", str(step.get("if", ""))))
        used.update(re.findall(r"inputs\.([\w-]+)", str(step.get("with", ""))))
    assert used == set(action["inputs"])


def test_action_outputs_come_from_the_run_step_and_match_report_ci() -> None:
    action = load(ROOT / "action.yml")
    expected = set(report_ci.outputs({})) | {"error"}
    assert set(action["outputs"]) == expected
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}"


def run_step_env() -> dict[str, str]:
    action = load(ROOT / "action.yml")
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "run")
    env: dict[str, str] = step["env"]
    return env


def template_job_variables() -> dict[str, str]:
    body = interpolate(template_documents()[1], {"environment": "x"})
    return {**body[".promoter"]["variables"], **body["promote-x"]["variables"]}


def promoter_variables(names: dict[str, str]) -> set[str]:
    """The PROMOTER_* variables a wrapper sets: its own, and the inputs that
    arrive as IN_PROMOTER_* and become PROMOTER_* only when non-empty."""
    return ({name for name in names if name.startswith("PROMOTER_")}
            | {name[3:] for name in names if name.startswith("IN_PROMOTER_")})


def run_step_variables() -> set[str]:
    return promoter_variables(run_step_env())


def template_variables() -> set[str]:
    return promoter_variables(template_job_variables())


SECRETS = {"PROMOTER_TOKEN", "PROMOTER_APP_ID", "PROMOTER_APP_PRIVATE_KEY",
           "PROMOTER_ARGOCD_TOKEN", "PROMOTER_SIGNING_KEY"}  # CI/CD variables on GitLab


def test_template_and_action_pass_the_same_options() -> None:
    assert run_step_variables() - SECRETS == template_variables() - NOT_OPTIONS


def test_every_promote_option_is_an_input_of_both_wrappers() -> None:
    """--force, --sign, --registry, ...: each promote option has an input in the
    action and in the template (the wrappers set --output themselves)."""
    promote = cli.get_command(click.Context(cli), "promote")
    assert promote is not None
    wanted = {param.envvar for param in promote.params if isinstance(param.envvar, str)}
    assert wanted - run_step_variables() == set()
    assert wanted - template_variables() - SECRETS == set()


def test_every_verify_option_is_an_input_of_both_wrappers() -> None:
    """`command: verify` gets every option of ``promoter verify`` (--argocd-app,
    --workload, --revision, --settle, ...) from an input of each wrapper."""
    verify = cli.get_command(click.Context(cli), "verify")
    assert verify is not None
    wanted = {param.envvar for param in verify.params if isinstance(param.envvar, str)}
    assert {"PROMOTER_REVISION", "PROMOTER_WORKLOAD", "PROMOTER_SETTLE"} <= wanted
    wanted -= {"PROMOTER_OUTPUT"}  # the wrappers set it themselves
    assert wanted - run_step_variables() == set()
    assert wanted - template_variables() - SECRETS == set()


def test_inputs_reach_options_only_when_non_empty() -> None:
    """An input is passed as IN_PROMOTER_<NAME> and the script exports
    PROMOTER_<NAME> only when it is non-empty: an empty input never overrides
    the job's own environment (a workflow `env:`, a CI/CD variable)."""
    inputs = {name for name, value in run_step_env().items() if "inputs." in str(value)}
    assert {name for name in inputs if not name.startswith("IN_PROMOTER_")} == {
        "ACTION_INSTALL", "ACTION_COMMAND"}
    job = template_job_variables()
    assert all(not name.startswith("PROMOTER_") or name in
               {"PROMOTER_OUTPUT", *NOT_OPTIONS} for name in job), sorted(job)
    raw = YAML(typ="safe").load(template_documents()[1])["promote-$[[ inputs.environment ]]"
                                                            "$[[ inputs.job-suffix ]]"]
    from_inputs = {name for name, value in raw["variables"].items()
                   if "inputs." in str(value)}
    assert {name for name in from_inputs if not name.startswith("IN_PROMOTER_")} == {
        "PROMOTER_CI_COMMAND", "PROMOTER_CI_INSTALL", "PROMOTER_CI_VERSION"}


def option_variables() -> set[str]:
    """Every PROMOTER_* variable a CLI option reads, over all commands."""
    found: set[str] = set()

    def walk(command: click.Command) -> None:
        for param in command.params:
            envvars = [param.envvar] if isinstance(param.envvar, str) else param.envvar or []
            found.update(envvars)
        if isinstance(command, click.Group) and not isinstance(command, LazyGroup):
            for sub in command.commands.values():
                walk(sub)

    walk(cli)
    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        walk(command)
    return found


def test_dotenv_keys_are_never_option_variables() -> None:
    """GitLab's dotenv variables outrank job variables: a report key that is an
    option's variable would become that option in every later promoter job."""
    clash = set(report_ci.DOTENV_KEYS) & option_variables()
    assert not clash


def test_every_variable_the_wrappers_set_is_an_option() -> None:
    unknown = (run_step_variables() | template_variables()) - option_variables() - NOT_OPTIONS
    assert not unknown, f"not read by any CLI option: {sorted(unknown)}"


def test_the_sign_input_offers_what_the_cli_does_on_each_forge() -> None:
    """--sign's choices: the component offers those that work on GitLab (not
    github), the action names every one."""
    promote = cli.get_command(click.Context(cli), "promote")
    assert promote is not None
    [sign] = [p for p in promote.params if p.name == "sign"]
    assert isinstance(sign.type, click.Choice)
    choices = set(sign.type.choices)
    spec = YAML(typ="safe").load(template_documents()[0])["spec"]["inputs"]
    assert set(spec["sign"]["options"]) == {""} | (choices - {"github"})
    described = load(ROOT / "action.yml")["inputs"]["sign"]["description"]
    assert all(choice in described for choice in choices), described
