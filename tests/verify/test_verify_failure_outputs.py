"""``promoter verify --output json|github|gitlab`` prints (writes) its record on
every failure, not only on the verdict's: a bad target, a usage error, the
ancestry fetch that git's command timeout kills (exit 5), a signal. The record
is ``operation: failed`` with the error and the exit code, and ``verify: null``
(no verdict was reached)."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path
from typing import Any

import pytest
import verify_objects as o
from fakes.kube_server import FakeKube
from support.configrepo import example_copy, heads
from support.gitserver import GitServer

from promoter.cli import main
from promoter.errors import Interrupted

OUTPUTS = ["json", "github", "gitlab"]
UNKNOWN = "0123456789abcdef0123456789abcdef01234567"


def github_outputs(path: Path) -> dict[str, str]:
    """name -> value of a $GITHUB_OUTPUT file (``name<<DELIM`` blocks)."""
    values: dict[str, str] = {}
    lines = iter(path.read_text().splitlines())
    for line in lines:
        name, _, delimiter = line.partition("<<")
        body = []
        for value in lines:
            if value == delimiter:
                break
            body.append(value)
        values[name] = "\n".join(body)
    return values


@pytest.fixture
def ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in (("GITHUB_OUTPUT", "out"), ("GITHUB_STEP_SUMMARY", "summary"),
                        ("PROMOTER_DOTENV", "promoter.env"),
                        ("PROMOTER_RESULT_FILE", "result.json")):
        monkeypatch.setenv(name, str(tmp_path / value))
    (tmp_path / "out").touch()
    return tmp_path


def record_of(output: str, ci: Path, stdout: str) -> dict[str, Any]:
    if output == "json":
        found: dict[str, Any] = json.loads(stdout)
    elif output == "github":
        values = github_outputs(ci / "out")
        found = json.loads(values["result"])
        assert values["operation"] == "failed"
    else:
        found = json.loads((ci / "result.json").read_text())
        assert "PROMOTER_OPERATION=failed\n" in (ci / "promoter.env").read_text()
    return found


def promoter(*argv: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(["verify", *argv])
    return int(exited.value.code or 0)


def assert_failed(record: dict[str, Any], code: int, *words: str) -> None:
    assert record["operation"] == "failed"
    assert record["exit_code"] == code
    assert record["verify"] is None
    assert all(word in record["error"] for word in words), record["error"]


@pytest.mark.parametrize("output", OUTPUTS)
def test_a_bad_target_prints_the_failed_record(
    output: str, ci: Path, kube: FakeKube, capsys: pytest.CaptureFixture[str]
) -> None:
    code = promoter("--workload", "nonsense", "--revision", UNKNOWN, "--output", output,
                    "--kubeconfig", kube.kubeconfig())
    assert code == 2
    record = record_of(output, ci, capsys.readouterr().out)
    assert_failed(record, 2, "nonsense")
    assert record["revision"] == UNKNOWN


@pytest.mark.parametrize("output", OUTPUTS)
def test_a_usage_error_prints_the_failed_record(
    output: str, ci: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = promoter("--argocd-app", "api", "--output", output)  # no --revision
    assert code == 2
    assert_failed(record_of(output, ci, capsys.readouterr().out), 2, "--revision")


@pytest.mark.parametrize("output", OUTPUTS)
def test_the_ancestry_git_timeout_prints_the_failed_record(
    output: str, ci: Path, kube: FakeKube, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kube.apply(o.application(UNKNOWN))  # a commit the clone lacks: verify fetches
    with GitServer(tmp_path / "srv") as server:
        first = heads(server.create("config", example_copy(tmp_path / "tree")))["main"]
        server.modes["GET git-upload-pack"] = "stall after 1"  # the clone passes
        code = promoter("--repo", server.url("config"), "--argocd-app", "api",
                        "--revision", first, "--timeout", "2s", "--settle", "0s",
                        "--output", output, "--kubeconfig", kube.kubeconfig())
        assert server.stalled.is_set(), "the fetch never reached the stalled request"
        # the first git command that stalled (merge-base's own lazy fetch in the
        # blobless clone) was killed at --timeout: no later command queued behind it
        assert server.counts["GET git-upload-pack"] == 2, server.counts
    assert code == 5
    record = record_of(output, ci, capsys.readouterr().out)
    assert_failed(record, 5, "took longer than --timeout (")
    # the time left of --timeout 2s when the fetch began, not a fresh 2s of its own
    assert re.search(r"took longer than --timeout \((2|1\.\d|0\.\d)s;", record["error"]), \
        record["error"]
    assert "--network-timeout" not in record["error"]  # verify has no such option


@pytest.mark.parametrize("output", OUTPUTS)
def test_a_signal_prints_the_failed_record(
    output: str, ci: Path, kube: FakeKube, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise Interrupted(signal.SIGTERM)

    monkeypatch.setattr("promoter.verify.run", interrupted)
    code = promoter("--argocd-app", "api", "--revision", UNKNOWN, "--output", output,
                    "--kubeconfig", kube.kubeconfig())
    assert code == 1
    assert_failed(record_of(output, ci, capsys.readouterr().out), 1, "SIGTERM")
