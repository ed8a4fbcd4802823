"""``promoter verify`` end to end in process: options, environment variables,
outputs and exit codes, against the fake cluster."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import verify_objects as o
from fakes.kube_server import NOBODY_TOKEN, FakeKube

from promoter.cli import main

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"


def promoter(*argv: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(["verify", *argv])
    return int(exited.value.code or 0)


def test_json_output_and_environment_variables(kube: FakeKube, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    kube.apply(o.application(SHA))
    o.running(kube, o.deployment(f"{o.IMAGE}:2.0"), f"{o.IMAGE}:2.0")
    monkeypatch.setenv("PROMOTER_REVISION", SHA)
    monkeypatch.setenv("PROMOTER_KUBECONFIG", kube.kubeconfig())
    code = promoter("--argocd-app", "api", "--workload", "Deployment/prod/api",
                    "--image", f"{o.IMAGE}:2.0", "--settle", "0s", "--output", "json")
    record = json.loads(capsys.readouterr().out)
    assert code == 0
    assert record["verify"]["status"] == "verified"
    assert record["verify"]["synced_revision"] == SHA
    assert [t["status"] for t in record["verify"]["targets"]] == ["ready", "ready"]


def test_failure_prints_the_record_and_exits_6(kube: FakeKube,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    kube.apply(o.rollout(f"{o.IMAGE}:2.0", phase="Paused", paused=True))
    code = promoter("--workload", "Rollout/prod/api", "--revision", SHA, "--image",
                    f"{o.IMAGE}:2.0", "--kubeconfig", kube.kubeconfig())
    out, err = capsys.readouterr()
    assert code == 6
    assert "verify: failed" in out
    assert "paused indefinitely" in out
    assert err.strip().splitlines()[-1].startswith("error: verification failed: workload ")


def test_timeout_exits_5_naming_what_is_missing(kube: FakeKube,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    kube.apply(o.flux("Kustomization", f"main@sha1:{o.OLD}"))
    code = promoter("--flux-kustomization", "flux-system/api", "--revision", SHA,
                    "--timeout", "1s", "--kubeconfig", kube.kubeconfig())
    out, err = capsys.readouterr()
    assert code == 5
    assert "verify: timeout" in out
    assert "still missing: flux-kustomization flux-system/api: lastAppliedRevision" in err


def test_auth_error_exits_3_without_the_token(kube: FakeKube, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", kube.ca_path)
    code = promoter("--argocd-app", "api", "--revision", SHA, "--argocd-server", kube.url,
                    "--argocd-token", NOBODY_TOKEN)
    out, err = capsys.readouterr()
    assert code == 3
    assert "403" in err
    assert NOBODY_TOKEN not in out + err


def test_github_outputs(kube: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    kube.apply(o.flux("HelmRelease", f"main/{SHA}"))
    kube.apply(o.flux("Kustomization", f"main@sha1:{SHA}"))
    outputs = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    code = promoter("--flux-helmrelease", "flux-system/api", "--flux-kustomization",
                    "flux-system/api", "--revision", SHA, "--settle", "0", "--timeout", "10s",
                    "--kubeconfig", kube.kubeconfig(), "--output", "github")
    capsys.readouterr()
    assert code == 0
    text = outputs.read_text()
    assert re.search(r"^verify-status<<(\S+)\nverified\n\1$", text, re.M)
    assert re.search(rf"^synced-revision<<(\S+)\n{SHA}\n\1$", text, re.M)


def test_no_target_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert promoter("--revision", SHA) == 2
    assert "nothing to verify" in capsys.readouterr().err


def test_unreadable_kubeconfig_is_an_input_error(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = promoter("--argocd-app", "api", "--revision", SHA, "--kubeconfig",
                    str(tmp_path / "missing"))
    assert code == 2
    assert "cannot load kubeconfig" in capsys.readouterr().err


def test_live_status_line_on_a_terminal_and_plain_lines_otherwise(tmp_path: Path) -> None:
    import os

    from promoter.cli.progress import Progress

    master, slave = os.openpty()
    with open(slave, "w") as terminal:
        live = Progress(terminal)
        live("verify 0/1 ready")
        live("verify 1/1 ready")
    expected = b"\r\x1b[Kverify 0/1 ready\r\x1b[Kverify 1/1 ready"
    seen = b""
    while len(seen) < len(expected):  # a pty may hand the bytes over in pieces
        chunk = os.read(master, 1000)
        if not chunk:
            break
        seen += chunk
    assert seen == expected
    os.close(master)
    with open(tmp_path / "log", "w") as log:
        plain = Progress(log)
        plain("verify 0/1 ready")
        plain("verify 0/1 ready")
    assert (tmp_path / "log").read_text() == "verify 0/1 ready\n" * 2
