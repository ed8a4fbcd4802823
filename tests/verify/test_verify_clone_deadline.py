"""``promoter verify --repo URL``: the verification's deadline starts before the
ancestry clone, and the clone gets only the time left of ``--timeout`` (a slow
clone plus the run must not take up to twice --timeout). Time comes from the
CLI's injectable clock (``promoter.cli.verify.CLOCK``), moved by the git
server's requests: no test waits for a second of --timeout."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import Any

import pytest
import verify_objects as o
from fakes.kube_server import FakeKube
from support.configrepo import example_copy
from support.gitserver import GitServer
from test_verify_kubeconfig_bounds import PLUGIN, exec_kubeconfig

import promoter.cli.verify as cli_verify
import promoter.verify.kube_connect as kube_connect
from promoter.cli import main
from promoter.errors import WaitTimeout
from promoter.retry import Clock
from promoter.verify.ancestry import local_repo

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
STAGES = ("GET git-upload-pack", "POST git-upload-pack")


def end_plugin(tmp_path: Path) -> None:
    """End the exec plugin promoter started, by the id it recorded."""
    pid = tmp_path / "plugin.pid"
    if pid.exists():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid.read_text()), signal.SIGKILL)


def verify(kube: FakeKube, url: str, timeout: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(["verify", "--repo", url, "--argocd-app", "api", "--revision", SHA,
              "--timeout", timeout, "--settle", "0s", "--kubeconfig", kube.kubeconfig()])
    return int(exited.value.code or 0)


@pytest.mark.parametrize("stage", STAGES)
def test_the_clone_gets_only_the_time_left(tmp_path: Path, stage: str) -> None:
    with GitServer(tmp_path / "srv") as server:
        server.create("config", example_copy(tmp_path / "tree"))
        server.modes[stage] = "stall"
        with pytest.raises(WaitTimeout, match=r"\(0\.5s; the git server stalls"), \
                local_repo(server.url("config"), 600.0,
                           bound=(Clock(now=lambda: 99.5), 100.0, "--timeout")):
            pytest.fail("the clone of a stalled server succeeded")
        assert server.stalled.is_set(), "git never reached the stalled server"


def test_no_time_left_clones_nothing(tmp_path: Path) -> None:
    with GitServer(tmp_path / "srv") as server:
        server.create("config", example_copy(tmp_path / "tree"))
        with pytest.raises(WaitTimeout, match=r"no time left of --timeout"), \
                local_repo(server.url("config"), 600.0,
                           bound=(Clock(now=lambda: 100.5), 100.0, "--timeout")):
            pytest.fail("cloned with no time left")
        assert server.requests == []


def test_verify_starts_its_deadline_before_the_clone(
        kube: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """--timeout 3s; the clock reads 0 when verify starts and 2.5 by the time
    the clone runs: a stalled clone gets 0.5 s, not 3 s."""
    moments = iter([0.0])
    monkeypatch.setattr(cli_verify, "CLOCK", Clock(now=lambda: next(moments, 2.5)))
    kube.apply(o.application(SHA))
    with GitServer(tmp_path / "srv") as server:
        server.create("config", example_copy(tmp_path / "tree"))
        server.modes["POST git-upload-pack"] = "stall"
        assert verify(kube, server.url("config"), "3s") == 5
        assert server.stalled.is_set()
    err = capsys.readouterr().err
    assert r"took longer than --timeout (0.5s; the git server stalls" in err, err


def test_a_clone_that_used_the_time_up_leaves_none_to_the_run(
        kube: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The clone succeeds, but by the clock it took 3.5 s of --timeout 3s: the
    run times out at once (exit 5), though the cluster shows the commit synced;
    before, the run got a --timeout of its own and verified."""
    kube.apply(o.application(SHA))
    with GitServer(tmp_path / "srv") as server:
        server.create("config", example_copy(tmp_path / "tree"))
        monkeypatch.setattr(cli_verify, "CLOCK", Clock(
            now=lambda: 3.5 if server.counts.get("POST git-upload-pack") else 0.0))
        assert verify(kube, server.url("config"), "3s") == 5
        assert server.counts.get("POST git-upload-pack"), "no clone"
    out, err = capsys.readouterr()
    assert "verify: timeout" in out
    assert "verification timed out after 3s" in err, err


def test_the_kubeconfig_load_gets_only_the_time_left(
        kube: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """--timeout 3s, 2.5 s gone by the clock when the cluster is first needed: an
    exec credential plugin that never answers gets 0.5 s, not another 3 s."""
    moments = iter([0.0])
    monkeypatch.setattr(cli_verify, "CLOCK", Clock(now=lambda: next(moments, 2.5)))
    given: list[float | None] = []
    real_connect = kube_connect.connect

    def connect(*args: Any) -> Any:
        given.append(args[2])  # the seconds the load may take
        return real_connect(*args)

    monkeypatch.setattr(kube_connect, "connect", connect)
    kube.apply(o.application(SHA))
    plugin = tmp_path / "plugin.py"
    plugin.write_text(PLUGIN)
    kubeconfig = exec_kubeconfig(kube, tmp_path, str(plugin))
    try:
        with pytest.raises(SystemExit) as exited:
            main(["verify", "--argocd-app", "api", "--revision", SHA, "--timeout", "3s",
                  "--settle", "0s", "--kubeconfig", kubeconfig])
    finally:
        end_plugin(tmp_path)
    assert exited.value.code == 5
    assert given == [0.5]
    # the message names the setting as written, not the half second left of it
    assert "had not answered when --timeout (3s) ran out" in capsys.readouterr().err
