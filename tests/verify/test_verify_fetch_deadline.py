"""The git commands of the ancestry checks (a fetch of commits the cluster names,
git's lazy fetch in a partial clone) run on the wait loop's thread: each gets only
the time left until the verification's deadline, never a full ``--timeout`` of its
own (a git server stalling near the end would stretch a run to twice --timeout).
No time left: no git command at all, WaitTimeout (exit 5). Time comes from an
injectable clock (promoter.retry.Clock); the stalled server bounds each test by
the time left it is given (0.5 s), not by the timeout (600 s)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import verify_objects as o
from fakes.kube_server import FakeKube
from support.configrepo import example_copy
from support.gitserver import GitServer

from promoter.errors import WaitTimeout
from promoter.retry import Clock
from promoter.verify import VerifyRequest, parse_target, run
from promoter.verify.ancestry import local_repo, repo_ancestry

UNKNOWN = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"  # in no repository
STAGES = ("GET git-upload-pack", "POST git-upload-pack")


@pytest.fixture
def stalled(tmp_path: Path) -> Iterator[tuple[GitServer, str]]:
    """A git server whose fetches stall once the clone is done, and that clone."""
    with GitServer(tmp_path / "srv") as server:
        server.create("config", example_copy(tmp_path / "tree"))
        with local_repo(server.url("config"), 30.0) as path:
            for stage in STAGES:
                server.modes[stage] = "stall"
            yield server, path


def fetches(server: GitServer) -> int:
    return sum(server.counts.get(stage, 0) for stage in STAGES)


def test_a_fetch_gets_only_the_time_left_until_the_deadline(
        stalled: tuple[GitServer, str]) -> None:
    server, path = stalled
    before = fetches(server)
    check = repo_ancestry(path, timeout=600.0).until(Clock(now=lambda: 99.5), 100.0)
    with pytest.raises(WaitTimeout, match=r"--timeout \(0\.5s; the git server stalls"):
        check(UNKNOWN, UNKNOWN[::-1])
    assert server.stalled.is_set(), "git never reached the stalled server"
    assert fetches(server) - before == 1, "a second fetch after the time ran out"


def test_no_time_left_runs_no_git_command(stalled: tuple[GitServer, str]) -> None:
    server, path = stalled
    before = len(server.requests)
    check = repo_ancestry(path, timeout=600.0).until(Clock(now=lambda: 100.5), 100.0)
    with pytest.raises(WaitTimeout, match=r"no time left of --timeout"):
        check(UNKNOWN, UNKNOWN[::-1])
    assert len(server.requests) == before and not server.stalled.is_set()


def test_verify_run_hands_its_deadline_to_the_ancestry_checks(
        kube: FakeKube, stalled: tuple[GitServer, str]) -> None:
    """run() starts at 0 with --timeout 600; by the time the cluster names a commit
    the clone lacks, 599.5 s have passed: the fetch gets 0.5 s."""
    server, path = stalled
    kube.apply(o.application(UNKNOWN))
    moments = iter([0.0])
    clock = Clock(now=lambda: next(moments, 599.5))
    settings = VerifyRequest(revision=UNKNOWN[::-1], timeout=600.0, settle=0.0,
                             kubeconfig=kube.kubeconfig(),
                             is_ancestor=repo_ancestry(path, timeout=600.0))
    with pytest.raises(WaitTimeout, match=r"\(0\.5s; the git server stalls"):
        run([parse_target("argocd-app", "argocd/api")], settings, clock=clock)
    assert server.stalled.is_set()
