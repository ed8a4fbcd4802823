"""The CLI never dies with a signal (exit 134 came from watch threads left
running into interpreter finalisation): each case runs 30 times."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import verify_objects as o
from fakes.kube_server import FakeKube

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
RUNS = 30


def run_cli(kube: FakeKube, *extra: str) -> list[int]:
    argv = [sys.executable, "-m", "promoter", "verify", "--argocd-app", "api", "--revision", SHA,
            "--kubeconfig", kube.kubeconfig(), "--timeout", "30s", *extra]
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}

    def once(_: int) -> int:
        done = subprocess.run(argv, capture_output=True, env=env, timeout=60, check=False)
        return done.returncode

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(once, range(RUNS)))


@pytest.mark.parametrize(("app", "extra", "code"), [
    (o.application(SHA, health="Degraded"), (), 6),  # already final: failed
    (o.application(SHA), ("--settle", "0s"), 0),  # already good, no settle window
    (o.application(SHA), ("--settle", "0.05s"), 0),  # already good, a tiny window
])
def test_no_exit_134(kube: FakeKube, app: dict[str, Any], extra: tuple[str, ...],
                     code: int) -> None:
    kube.apply(app)
    codes = run_cli(kube, *extra)
    assert codes == [code] * RUNS, sorted(set(codes))
