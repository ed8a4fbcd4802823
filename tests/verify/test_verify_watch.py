"""The waiting loop on a simulated clock: heartbeat, settle window, timeout."""

from __future__ import annotations

import queue
from typing import Any

import pytest
import verify_objects as o

from promoter.errors import VerifyTimeout
from promoter.verify.argocd import check_application
from promoter.verify.rules import Expect
from promoter.verify.watch import Sink, Watched, wait

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"


class Script:
    """A clock whose time only moves when the loop waits; scheduled events
    arrive at their time, as a source's would."""

    def __init__(self, schedule: list[tuple[float, Any]]) -> None:
        self.t = 0.0
        self.schedule = sorted(schedule, key=lambda item: item[0])

    def now(self) -> float:
        return self.t

    def get(self, events: queue.Queue[tuple[int, Any]], timeout: float) -> tuple[int, Any] | None:
        if not events.empty():
            return events.get_nowait()
        if self.schedule and self.schedule[0][0] <= self.t + timeout:
            at, obj = self.schedule.pop(0)
            self.t = max(self.t, at)
            return 0, obj
        self.t += max(timeout, 0.0)
        return None


class Quiet:
    def start(self, index: int, sink: Sink) -> None:
        pass

    def stop(self) -> None:
        pass


def app_target() -> list[Watched]:
    info = {"kind": "argocd-app", "workload_kind": None, "namespace": "argocd", "name": "api"}
    return [Watched("argocd-app argocd/api", info, Quiet(),
                    lambda obj: check_application(obj, Expect(SHA)))]


def test_heartbeat_every_30_seconds_then_timeout() -> None:
    lines: list[str] = []
    clock = Script([(0.0, o.application(o.OLD))])
    with pytest.raises(VerifyTimeout, match="timed out after 100s"):
        wait(app_target(), 100, 0, clock, lines.append, heartbeat=30)
    stale = lines[1]
    assert "synced revision 111111111111" in stale
    assert lines == [lines[0], stale, stale, stale, stale]
    assert clock.t == 100


def test_settle_window_restarts_when_readiness_flaps() -> None:
    clock = Script([(0.0, o.application(SHA)), (5.0, o.application(SHA, health="Progressing")),
                    (8.0, o.application(SHA))])
    result = wait(app_target(), 100, 10, clock)
    assert result.status == "verified"
    assert clock.t == 18


def test_settle_counts_only_observed_time() -> None:
    """The watch broke at 1 s and came back (re-listed) at 5 s: blind time does
    not count, so with a 3 s window the earliest verdict is at 8 s."""
    from promoter.errors import PromoterError

    clock = Script([(0.0, o.application(SHA)), (1.0, PromoterError("connection reset")),
                    (5.0, o.application(SHA))])
    lines: list[str] = []
    result = wait(app_target(), 100, 3, clock, lines.append)
    assert result.status == "verified"
    assert clock.t == 8
    assert any("not observing it (connection reset)" in line for line in lines)


def test_degraded_seen_on_the_relist_after_a_break_fails() -> None:
    from promoter.errors import PromoterError, VerifyFailed

    clock = Script([(0.0, o.application(SHA)), (1.0, PromoterError("connection reset")),
                    (5.0, o.application(SHA, health="Degraded"))])
    with pytest.raises(VerifyFailed, match="Degraded") as caught:
        wait(app_target(), 100, 3, clock)
    assert caught.value.result is not None and caught.value.result.status == "failed"
    assert caught.value.exit_code == 6
