"""The waiting loop: sources push objects into one queue; every change is
judged by the target's pure rule; the loop ends when all targets stayed ready
for the settle window (result), one failed (VerifyFailed, exit 6) or the
timeout passed (VerifyTimeout, exit 5). Time comes from an injectable clock.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from promoter.errors import AuthError, InputError, Unreachable, VerifyFailed, VerifyTimeout
from promoter.retry import HEARTBEAT, Clock
from promoter.verify.rules import FAILED, READY, Check, failed, waiting

Sink = Callable[[int, Any], None]  # (target index, dict | None | Exception)
Judge = Callable[[Any], Check]
Progress = Callable[[str], None]
UNSEEN = waiting("no object seen yet")


class Source(Protocol):
    """Follows one object and pushes each new version (None when absent)."""

    def start(self, index: int, sink: Sink) -> None: ...

    def stop(self) -> None: ...


JOIN_SECONDS = 5.0  # how long stop() waits for a follower's thread
UNREACHABLE_SECONDS = 5.0  # never reached the API server for this long: say so and stop


def reconnect_wait(delay: float, since: float | None, now: float) -> float:
    """A follower's reconnect wait ``delay``, cut so that a server never reached
    since ``since`` (None once it answered) is tried once more at
    UNREACHABLE_SECONDS, not at the first retry after it."""
    if since is None:
        return delay
    return max(min(delay, since + UNREACHABLE_SECONDS - now), 0.0)


class Follower:
    """A Source that follows its object on a thread of its own (the Kubernetes
    watch, Argo CD's stream): ``start`` runs ``_run``; ``stop`` sets ``stopped``
    and ``interrupt``s a blocked read until the thread ends (at most JOIN_SECONDS)."""

    what: str
    stopped: threading.Event
    thread: threading.Thread | None

    def start(self, index: int, sink: Sink) -> None:
        self.thread = threading.Thread(target=self._run, args=(index, sink), daemon=True,
                                       name=f"verify-{self.what}")
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        deadline = time.monotonic() + JOIN_SECONDS
        while self.thread is not None and self.thread.is_alive():
            self.interrupt()
            self.thread.join(0.05)
            if time.monotonic() > deadline:
                break

    def interrupt(self) -> None:
        """Unblock a read in progress (close its socket)."""

    def _run(self, index: int, sink: Sink) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class VerifyResult:
    status: str  # verified | failed | timeout
    synced_revision: str | None
    targets: tuple[dict[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "synced_revision": self.synced_revision,
                "targets": [dict(t) for t in self.targets]}


@dataclass(frozen=True)
class Watched:
    name: str  # "argocd-app argocd/api"
    info: dict[str, Any]  # kind, namespace, name (for the report)
    source: Source
    judge: Judge


def reasons(watched: Sequence[Watched], checks: Sequence[Check],
            keep: Callable[[str], bool]) -> list[str]:
    return [f"{w.name}: {c.reason}" for w, c in zip(watched, checks, strict=True) if keep(c.state)]


def summary(watched: Sequence[Watched], checks: Sequence[Check]) -> str:
    done = sum(c.state == READY for c in checks)
    missing = reasons(watched, checks, lambda state: state != READY)
    return f"verify {done}/{len(checks)} ready" + ("; " + "; ".join(missing) if missing else "")


def result_of(status: str, watched: Sequence[Watched], checks: Sequence[Check]) -> VerifyResult:
    targets = tuple(
        {**w.info, "status": c.state, "reason": c.reason, "revision": c.revision,
         "resources": list(c.resources)}
        for w, c in zip(watched, checks, strict=True)
    )
    synced = next((c.revision for w, c in zip(watched, checks, strict=True)
                   if c.revision and w.info["kind"] != "workload"), None)
    return VerifyResult(status, synced, targets)


def _judge(item: Watched, obj: Any, before: Check, seen: bool) -> Check:
    """The new verdict. A VerifyFailed from the source (the resource type is not
    served) is terminal. A read error means promoter is blind until the source
    re-lists: the verdict is "not observing", so the settle window restarts
    and the re-listed object is judged afresh. An object that was seen and is
    gone was deleted."""
    if isinstance(obj, (AuthError, InputError, Unreachable)):
        raise obj
    if isinstance(obj, VerifyFailed):
        return failed(str(obj))
    if isinstance(obj, Exception):
        return waiting(f"not observing it ({obj}); reconnecting", before.revision)
    if obj is None:
        return failed("deleted while waiting") if seen else waiting("not found yet")
    return item.judge(obj)


def wait(watched: Sequence[Watched], timeout: float, settle: float, clock: Clock,
         progress: Progress | None = None, heartbeat: float = HEARTBEAT,
         start: float | None = None, limit: str = "--timeout") -> VerifyResult:
    """Run the sources until verified, failed or timed out (``timeout`` seconds
    after ``start``, by default now; ``limit`` is the setting that sets it, as
    the timeout's message names it)."""
    start = clock.now() if start is None else start
    events: queue.Queue[tuple[int, Any]] = queue.Queue()
    checks = [UNSEEN] * len(watched)
    for index, item in enumerate(watched):
        item.source.start(index, lambda i, obj: events.put((i, obj)))
    try:
        return _loop(watched, checks, events, (start, timeout, settle, heartbeat), clock,
                     progress, limit)
    finally:
        for item in watched:
            item.source.stop()


def _raise_if_done(watched: Sequence[Watched], checks: list[Check], timed_out: bool,
                   timeout: float, limit: str) -> None:
    """VerifyFailed when a target failed; VerifyTimeout when time is up."""
    bad = reasons(watched, checks, lambda state: state == FAILED)
    if bad:
        raise VerifyFailed("verification failed: " + "; ".join(bad) +
                            "; fix the cause and promote again",
                            result_of("failed", watched, checks))
    if timed_out:
        missing = "; ".join(reasons(watched, checks, lambda state: state != READY))
        missing = missing or "not stable for the settle window"
        raise VerifyTimeout(f"verification timed out after {timeout:g}s; still missing: "
                            f"{missing}; raise {limit} or check the controller",
                            result_of("timeout", watched, checks))


def _drain(watched: Sequence[Watched], checks: list[Check], seen: set[int],
           events: queue.Queue[tuple[int, Any]], event: tuple[int, Any] | None) -> None:
    """Judge ``event`` and everything else already queued."""
    while event is not None:
        index = event[0]
        checks[index] = _judge(watched[index], event[1], checks[index], index in seen)
        if isinstance(event[1], dict):
            seen.add(index)
        try:
            event = events.get_nowait()
        except queue.Empty:
            event = None


def _loop(watched: Sequence[Watched], checks: list[Check],
          events: queue.Queue[tuple[int, Any]], limits: tuple[float, float, float, float],
          clock: Clock, progress: Progress | None, limit: str) -> VerifyResult:
    start, timeout, settle, heartbeat = limits
    seen: set[int] = set()  # targets whose object was seen at least once
    deadline, said, said_at, ready_since = start + timeout, "", start, None
    while True:
        now = clock.now()
        line = summary(watched, checks)
        if progress is not None and (line != said or now - said_at >= heartbeat):
            progress(line)
            said, said_at = line, now
        all_ready = all(c.state == READY for c in checks)
        ready_since = (ready_since if ready_since is not None else now) if all_ready else None
        if ready_since is not None and now - ready_since >= settle:
            return result_of("verified", watched, checks)
        _raise_if_done(watched, checks, now >= deadline, timeout, limit)
        until = min(deadline, said_at + heartbeat)
        if ready_since is not None:
            until = min(until, ready_since + settle)
        _drain(watched, checks, seen, events, clock.get(events, until - now))


__all__ = ["Clock", "VerifyResult", "Watched", "wait"]
