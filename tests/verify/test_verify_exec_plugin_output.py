"""A kubeconfig's exec credential plugin that fails (its binary missing, or it
exits non-zero): the kubernetes client logs the failure on the root logger
(``logging.error`` in kube_config.py, which also installs a stderr handler when
there is none) and carries on without credentials. promoter's output is its
own: one ``error:`` line naming the plugin's failure, exit 3, and no request
without credentials to the cluster. The same when the plugin fails later, run
again by the client to renew a token that expires (and a renewed token is
redacted like the first)."""

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


# a new token each run, each expiring within the client's 5-minute refresh
# margin (so the client runs it again before every request); from run
# argv[2] + 1 on it fails as FAILING does
RENEWING = """import datetime, json, pathlib, sys
state = pathlib.Path(sys.argv[1])
runs = int(state.read_text()) + 1 if state.exists() else 1
state.write_text(str(runs))
if runs > int(sys.argv[2]):
    sys.stderr.write('login required\\n')
    sys.exit(1)
soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {"token": "renewed-token-%d-0123456789" % runs,
                             "expirationTimestamp": soon.strftime("%Y-%m-%dT%H:%M:%SZ")}}))
"""


def renewing_kubeconfig(kube: FakeKube, tmp_path: Path, answers: int,
                        accepted: range) -> tuple[str, Path]:
    """A kubeconfig whose plugin gives ``answers`` tokens, then fails; the API
    server accepts the tokens of the runs in ``accepted``."""
    script = tmp_path / "plugin.py"
    script.write_text(RENEWING)
    state = tmp_path / "plugin-state"
    kube.tokens.update({f"renewed-token-{n}-0123456789": "admin" for n in accepted})
    argv = [sys.executable, str(script), str(state), str(answers)]
    return plugin_kubeconfig(kube, tmp_path, argv), state


def test_an_exec_plugin_failing_when_its_token_expires_is_the_same_error_line(
        kube: FakeKube, tmp_path: Path) -> None:
    """The plugin's token expired (the API server refuses it) and the plugin
    cannot give a new one: the plugin's failure, as at the start, not the
    API's 401."""
    kube.apply(o.application(SHA))
    kubeconfig, state = renewing_kubeconfig(kube, tmp_path, 1, range(0))
    done = promoter_verify(kubeconfig, "verify")
    assert state.read_text() == "2", f"the client did not run the plugin again: {done.stderr}"
    lines = done.stderr.splitlines()
    assert lines and lines[-1].startswith(f"error: kubeconfig {kubeconfig}: its exec credential "
                                          "plugin gave no credentials ("), done.stderr
    assert "exec: process returned 1. login required" in lines[-1]
    assert [line for line in lines if not line.startswith(("error: ", "verify "))] == [], \
        done.stderr
    assert done.returncode == 3, done.stderr
    assert ("kube", "Bearer renewed-token-1-0123456789") not in kube.seen_auth, \
        "the expired token was sent after the plugin failed to renew it"


def test_a_renewed_token_verifies_quietly(kube: FakeKube, tmp_path: Path) -> None:
    kube.apply(o.application(SHA))
    kubeconfig, state = renewing_kubeconfig(kube, tmp_path, 1000, range(1, 1000))
    done = promoter_verify(kubeconfig, "verify")
    assert done.returncode == 0, done.stderr
    assert int(state.read_text()) >= 2, "the client never renewed the token"
    assert [line for line in done.stderr.splitlines() if not line.startswith("verify ")] == []


def test_each_renewal_is_redacted_and_a_later_failure_is_the_same_error(
        kube: FakeKube, tmp_path: Path) -> None:
    """The client puts its own refresh hook back after each renewal: the
    second renewal is watched like the first."""
    from promoter import http_safety
    from promoter.errors import AuthError
    from promoter.verify.kube_connect import connect

    kubeconfig, _ = renewing_kubeconfig(kube, tmp_path, 2, range(1, 3))
    api = connect(kubeconfig, None, 10.0)
    assert http_safety.redact("renewed-token-1-0123456789") == "***"
    header = api.configuration.get_api_key_with_prefix("BearerToken")  # renews first
    assert header == "Bearer renewed-token-2-0123456789", header
    assert http_safety.redact(header) == "***"
    with pytest.raises(AuthError) as failed:
        api.configuration.get_api_key_with_prefix("BearerToken")
    assert failed.value.message.startswith(f"kubeconfig {kubeconfig}: its exec credential "
                                           "plugin gave no credentials (exec: process "
                                           "returned 1. login required"), failed.value.message
