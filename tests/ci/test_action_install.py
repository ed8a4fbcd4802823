"""action.yml installing promoter itself under a real runner (act, offline):
from its own directory with pip resolving from a local wheelhouse, a release
with uv, the extras its inputs need, and every way the install can fail (the
outputs are still set, with one error). See act_support.py for the runner.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from act_support import (
    LAST_LINE,
    ActRun,
    error_commands,
    run_act,
)
from ci_support import (
    ROOT,
    SENTINEL,
    git,
    read_remote,
)
from test_release import build, tree_repository


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
