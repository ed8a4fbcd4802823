"""A Kubernetes API server never reached (connection refused) ends the source
with Unreachable once UNREACHABLE_SECONDS have passed: the reconnect waits are
cut so that the last try is at 5 s, not at the first retry after it (0.2, 0.5, 1,
2, then 5 s would make it 8.7 s). On a simulated clock: the test never sleeps."""

from __future__ import annotations

import json
import queue
import socket
from pathlib import Path
from typing import Any

from promoter.errors import Unreachable
from promoter.retry import Clock
from promoter.verify.kube import UNREACHABLE_SECONDS, KubeSource
from promoter.verify.kube_connect import connect


class Simulated:
    """Time that moves only when the source waits to reconnect."""

    def __init__(self) -> None:
        self.t = 0.0
        self.waits: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.t += seconds


def refused_kubeconfig(tmp_path: Path) -> str:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
              "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
              "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
              "users": [{"name": "u", "user": {"token": "t0k"}}]}
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))
    return str(path)


def test_a_server_never_reached_is_unreachable_at_5s_not_at_the_next_retry(
        tmp_path: Path) -> None:
    time = Simulated()
    source = KubeSource(connect(refused_kubeconfig(tmp_path), None, 10.0),
                        ("argoproj.io", "v1alpha1", "applications"), "argocd", "api",
                        clock=Clock(now=time.now, sleep=time.sleep))
    events: queue.Queue[Any] = queue.Queue()
    source.start(0, lambda index, obj: events.put(obj))
    try:
        while True:
            obj = events.get(timeout=30)  # refused connections fail at once
            if not isinstance(obj, Exception) or isinstance(obj, Unreachable):
                break
    finally:
        source.stop()
    assert isinstance(obj, Unreachable), obj
    assert "cannot reach the Kubernetes API" in str(obj) and "connection refused" in str(obj)
    assert time.t == UNREACHABLE_SECONDS, time.waits
    assert time.waits[:4] == [0.2, 0.5, 1.0, 2.0] and len(time.waits) == 5, time.waits
