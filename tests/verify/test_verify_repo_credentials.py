"""``promoter verify --repo`` refuses a URL with credentials in it, as
``promote`` does (one check: ``remote.git_url``): exit 2, one line that does not
echo the secret, before any request to the repository or the cluster."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest
import verify_objects as o
from fakes.kube_server import FakeKube
from support.loopback import connections

from promoter.cli import main

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
SECRET = "s3cr3t-t0ken-4711"


@pytest.mark.parametrize(("scheme", "userinfo"), [
    ("https", f"user:{SECRET}"), ("https", SECRET), ("http", f"x-access-token:{SECRET}"),
    ("ssh", f"git:{SECRET}"), ("scp", f"git:{SECRET}")])
@pytest.mark.parametrize("given", ["argv", "environment"])
@pytest.mark.parametrize("output", ["text", "json"])
def test_a_repo_url_with_credentials_is_refused_before_any_request(
        kube: FakeKube, listener: socket.socket, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, scheme: str,
        userinfo: str, given: str, output: str) -> None:
    kube.apply(o.application(SHA))
    port = listener.getsockname()[1]
    url = (f"{userinfo}@127.0.0.1:acme/config.git" if scheme == "scp" else
           f"{scheme}://{userinfo}@127.0.0.1:{port}/acme/config.git")
    shown = "***@127.0.0.1:..." if scheme == "scp" else f"{scheme}://***@127.0.0.1/..."
    argv = ["verify", "--argocd-app", "api", "--revision", SHA, "--timeout", "3s",
            "--settle", "0s", "--kubeconfig", kube.kubeconfig(), "--output", output]
    if given == "argv":
        argv += ["--repo", url]
    else:
        monkeypatch.setenv("PROMOTER_REPO", url)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    assert exited.value.code == 2, err
    assert err.strip().splitlines() == [
        f"error: --repo {shown} carries credentials; remove them from the URL and set "
        "PROMOTER_TOKEN instead"]
    for text in (out, err, caplog.text):
        assert SECRET not in text
    if output == "json":
        record = json.loads(out)
        assert (record["operation"], record["exit_code"]) == ("failed", 2)
    assert connections(listener) == 0
    assert kube.seen_auth == []  # no request to the cluster either


@pytest.mark.parametrize("url", ["ssh://git@127.0.0.1:2222/acme/config.git",
                                 "git@127.0.0.1:acme/config.git"])
def test_a_user_name_without_a_secret_is_no_credential(url: str) -> None:
    """``ssh://git@host`` and ``git@host:path`` carry a login name, no secret:
    accepted by the same check as in ``promote``."""
    from promoter import remote

    assert remote.git_url(url) == url


@pytest.mark.parametrize("userinfo", [f"admin:{SECRET}", SECRET])
def test_an_argocd_server_url_with_credentials_is_refused_before_any_request(
        listener: socket.socket, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture, userinfo: str) -> None:
    """Not sent anywhere (urllib would even hand ``user:secret@host`` to the
    resolver as a host name), not quoted in any message: exit 2 at once."""
    port = listener.getsockname()[1]
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SystemExit) as exited:
        main(["verify", "--argocd-app", "api", "--revision", SHA, "--timeout", "3s",
              "--argocd-server", f"https://{userinfo}@127.0.0.1:{port}", "--argocd-token",
              "t0ken", "--output", "json"])
    out, err = capsys.readouterr()
    assert exited.value.code == 2, err
    assert err.strip().splitlines() == [
        "error: --argocd-server https://***@127.0.0.1/... carries credentials; remove them "
        "from the URL and pass the token as --argocd-token (or PROMOTER_ARGOCD_TOKEN)"]
    for text in (out, err, caplog.text):
        assert SECRET not in text
    assert json.loads(out)["exit_code"] == 2
    assert connections(listener) == 0


def test_a_kubeconfig_server_url_with_credentials_is_refused_before_any_request(
        kube: FakeKube, listener: socket.socket, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    config = json.loads(Path(kube.kubeconfig()).read_text())
    port = listener.getsockname()[1]
    config["clusters"][0]["cluster"]["server"] = f"https://admin:{SECRET}@127.0.0.1:{port}"
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SystemExit) as exited:
        main(["verify", "--argocd-app", "api", "--revision", SHA, "--timeout", "3s",
              "--kubeconfig", str(path)])
    out, err = capsys.readouterr()
    assert exited.value.code == 2, err
    assert err.strip().splitlines() == [
        f"error: kubeconfig {path}: server https://***@127.0.0.1/... carries credentials; "
        "remove them from the URL and give them as the kubeconfig user's token, client "
        "certificate or exec plugin"]
    for text in (out, err, caplog.text):
        assert SECRET not in text
    assert connections(listener) == 0


def test_a_kubeconfig_server_url_with_credentials_is_refused_before_its_exec_plugin_runs(
        listener: socket.socket, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The exec credential plugin would be handed the cluster (and run, with our
    environment) for a URL promoter refuses anyway: the refusal comes first."""
    ran = tmp_path / "plugin-ran"
    plugin = tmp_path / "plugin.sh"
    plugin.write_text(f"#!/bin/sh\ntouch {ran}\nexit 1\n")
    plugin.chmod(0o755)
    port = listener.getsockname()[1]
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {
            "server": f"https://admin:{SECRET}@127.0.0.1:{port}"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin),
            "interactiveMode": "Never"}}}],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))
    with pytest.raises(SystemExit) as exited:
        main(["verify", "--argocd-app", "api", "--revision", SHA, "--timeout", "3s",
              "--kubeconfig", str(path)])
    err = capsys.readouterr().err
    assert exited.value.code == 2, err
    assert "carries credentials" in err and SECRET not in err
    assert not ran.exists(), "the exec plugin ran before the refusal"
    assert connections(listener) == 0
