"""Loading the kubeconfig is bounded by ``--timeout`` too: the kubernetes
client runs a kubeconfig's exec credential plugin (kubelogin, ``aws eks
get-token``, ...) without any time limit, so a plugin that never answers (a
login waiting for a browser in CI) would hang ``promoter verify`` forever."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import verify_objects as o
from fakes.kube_server import ADMIN_TOKEN, FakeKube

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
# an exec credential plugin that records its pid, then never answers
PLUGIN = ("import os, sys, threading\n"
          "open(sys.argv[1], 'w').write(str(os.getpid()))\n"
          "threading.Event().wait()\n")


def exec_kubeconfig(kube: FakeKube, tmp_path: Path, plugin: str) -> str:
    config = json.loads(Path(kube.kubeconfig()).read_text())
    config["users"] = [{"name": "fake", "user": {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable,
        "args": [plugin, str(tmp_path / "plugin.pid")], "interactiveMode": "Never"}}}]
    path = tmp_path / "exec-kubeconfig"
    path.write_text(json.dumps(config))
    return str(path)


def test_an_exec_plugin_that_never_answers_ends_verify_with_exit_5(
        kube: FakeKube, tmp_path: Path) -> None:
    kube.apply(o.application(SHA))
    plugin = tmp_path / "plugin.py"
    plugin.write_text(PLUGIN)
    env = {**os.environ, "PROMOTER_KUBECONFIG": exec_kubeconfig(kube, tmp_path, str(plugin))}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "promoter", "verify", "--argocd-app", "api", "--revision",
             SHA, "--timeout", "2s", "--settle", "0s"],
            capture_output=True, text=True, env=env, check=False, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("promoter verify hung on an exec credential plugin past --timeout 2s")
    finally:
        pid = tmp_path / "plugin.pid"
        if pid.exists():  # the plugin we started (through promoter): end it by its id
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid.read_text()), signal.SIGKILL)
    assert done.returncode == 5, done.stderr
    assert done.stderr.splitlines() == [
        f"error: loading kubeconfig {env['PROMOTER_KUBECONFIG']}: its exec credential plugin "
        "or auth provider had not answered when --timeout (2s) ran out; check it (can it log in "
        "without a terminal or browser?) or raise --timeout"]
    assert kube.seen_auth == []


def test_an_exec_plugin_that_answers_is_used(kube: FakeKube, tmp_path: Path) -> None:
    """The bounded load still gives the client the plugin's token."""
    kube.apply(o.application(SHA))
    plugin = tmp_path / "plugin.py"
    credential = {"apiVersion": "client.authentication.k8s.io/v1",
                  "kind": "ExecCredential", "status": {"token": ADMIN_TOKEN}}
    plugin.write_text(f"print({json.dumps(json.dumps(credential))})\n")
    env = {**os.environ, "PROMOTER_KUBECONFIG": exec_kubeconfig(kube, tmp_path, str(plugin))}
    done = subprocess.run(
        [sys.executable, "-m", "promoter", "verify", "--argocd-app", "api", "--revision",
         SHA, "--timeout", "20s", "--settle", "0s"],
        capture_output=True, text=True, env=env, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert ("kube", f"Bearer {ADMIN_TOKEN}") in kube.seen_auth
