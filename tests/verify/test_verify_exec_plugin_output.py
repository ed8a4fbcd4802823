"""A kubeconfig's exec credential plugin that fails (its binary missing, or it
exits non-zero): the kubernetes client logs the failure on the root logger
(``logging.error`` in kube_config.py, which also installs a stderr handler when
there is none) and carries on without credentials. promoter's output is its
own: one ``error:`` line naming the plugin's failure, exit 3, and no request
without credentials to the cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import verify_objects as o
from fakes.kube_server import FakeKube

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
FAILING = "import sys\nsys.stderr.write('login required\\n')\nsys.exit(1)\n"


def plugin_kubeconfig(kube: FakeKube, tmp_path: Path, argv: list[str]) -> str:
    config = json.loads(Path(kube.kubeconfig()).read_text())
    config["users"] = [{"name": "fake", "user": {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1", "command": argv[0], "args": argv[1:],
        "interactiveMode": "Never"}}}]
    path = tmp_path / "exec-kubeconfig"
    path.write_text(json.dumps(config))
    return str(path)


def promoter_verify(kubeconfig: str, *command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROMOTER_KUBECONFIG": kubeconfig}
    try:
        return subprocess.run(
            [sys.executable, "-m", "promoter", *command, "--argocd-app", "api", "--revision",
             SHA, "--timeout", "10s", "--settle", "0s"],
            capture_output=True, text=True, env=env, check=False, timeout=40)
    except subprocess.TimeoutExpired:
        pytest.fail("promoter verify hung on a failing exec credential plugin")


@pytest.mark.parametrize("plugin", ["missing", "failing"])
def test_a_failing_exec_plugin_is_one_error_line(kube: FakeKube, tmp_path: Path,
                                                 plugin: str) -> None:
    kube.apply(o.application(SHA))
    script = tmp_path / "plugin.py"
    script.write_text(FAILING)
    argv = ([str(tmp_path / "no-such-kubelogin")] if plugin == "missing" else
            [sys.executable, str(script)])
    kubeconfig = plugin_kubeconfig(kube, tmp_path, argv)
    done = promoter_verify(kubeconfig, "verify")
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    cause = ("No such file or directory" if plugin == "missing" else
             "exec: process returned 1. login required")
    assert lines[0].startswith(f"error: kubeconfig {kubeconfig}: its exec credential plugin "
                               f"gave no credentials ("), lines[0]
    assert cause in lines[0]
    assert done.returncode == 3
    assert done.stdout == ""
    assert kube.seen_auth == [], "a request without credentials went to the cluster"


def test_promote_verify_prints_no_client_log_line(
        kube: FakeKube, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    """Under ``promote --verify`` (which sets up logging as ``promoter: ...``)
    the client's log record reaches no handler: the failure is the error line."""
    from support.configrepo import bare_from, example_copy

    from promoter.cli import main

    remote = bare_from(example_copy(tmp_path / "tree"), tmp_path / "remote.git")
    kubeconfig = plugin_kubeconfig(kube, tmp_path, [str(tmp_path / "no-such-kubelogin")])
    with pytest.raises(SystemExit) as exited:
        main(["promote", "--repo", str(remote), "--app", "api", "--env", "production",
              "--image", f"{o.IMAGE}:1.5.0", "--direct", "--verify",
              "--kubeconfig", kubeconfig])
    err = capsys.readouterr().err
    assert exited.value.code == 3, err
    assert not [r for r in caplog.records if "no-such-kubelogin" in r.getMessage()]
    mentions = [line for line in err.splitlines() if "No such file or directory" in line]
    assert len(mentions) == 1 and mentions[0].startswith("error: "), err
