"""An Argo CD API server never reached through ``--argocd-server`` (connection
refused) ends the source with Unreachable at UNREACHABLE_SECONDS, as the
Kubernetes path does, not after the whole --timeout; one that answered once is
retried until --timeout. On a simulated clock: the test never sleeps."""

from __future__ import annotations

import queue
import socket
from typing import Any

import verify_objects as o
from fakes.kube_server import ADMIN_TOKEN, FakeKube
from test_verify_unreachable import Simulated

from promoter.errors import PromoterError, Unreachable
from promoter.retry import Clock
from promoter.verify.argocd_api import ArgoCDSource
from promoter.verify.watch import UNREACHABLE_SECONDS

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"


def refused_url() -> str:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def events_until(source: ArgoCDSource, done: Any) -> list[Any]:
    """What the source pushed, until ``done(event)`` (at most 30 s of real time)."""
    events: queue.Queue[Any] = queue.Queue()
    seen: list[Any] = []
    source.start(0, lambda index, obj: events.put(obj))
    try:
        while not seen or not done(seen[-1]):
            seen.append(events.get(timeout=30))
    finally:
        source.stop()
    return seen


def test_an_argocd_server_never_reached_is_unreachable_at_5s() -> None:
    time = Simulated()
    url = refused_url()
    source = ArgoCDSource(url, "t0k", "argocd", "api",
                          clock=Clock(now=time.now, sleep=time.sleep))
    seen = events_until(source, lambda e: isinstance(e, Unreachable))
    last = seen[-1]
    assert f"cannot reach the Argo CD API for application argocd/api on {url}" in str(last)
    assert "--argocd-server" in str(last)
    assert time.t == UNREACHABLE_SECONDS, time.waits
    assert time.waits[:4] == [0.2, 0.5, 1.0, 2.0] and len(time.waits) == 5, time.waits


def test_a_server_that_answered_once_is_retried_past_5s(kube: FakeKube) -> None:
    """Reached, then gone (a restart of argocd-server): waited for, as a broken
    stream is, until --timeout; never Unreachable."""
    kube.apply(o.application(SHA))
    time = Simulated()
    source = ArgoCDSource(kube.url, ADMIN_TOKEN, "argocd", "api", ca=kube.ca_path,
                          clock=Clock(now=time.now, sleep=time.sleep), relist=1.0)
    state = {"closed": False}

    def done(event: Any) -> bool:
        if isinstance(event, dict) and not state["closed"]:
            kube.close()  # the server goes away after its first answer
            state["closed"] = True
        assert not isinstance(event, Unreachable), event
        return isinstance(event, PromoterError) and time.t > 2 * UNREACHABLE_SECONDS

    seen = events_until(source, done)
    assert isinstance(seen[0], dict)
    assert all(not isinstance(e, Unreachable) for e in seen)
