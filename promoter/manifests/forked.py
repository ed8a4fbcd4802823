"""Walk a wide directory together with a forked child process, so that a
second CPU lists directories, reads files and plans candidates while this
process walks (and plans) its part. Threads do not help here: every file is a
few system calls with the GIL taken back after each, and two threads spent
more time handing the GIL over than they saved (measured:
benchmarks/README.md, update).

The directory's subdirectories are taken one at a time, by this process from
the first and by the child from the last, through two counters in memory
shared with the child (Claims), until the two meet: neither waits for a half
fixed in advance (a child given little CPU on a loaded machine takes few;
files that cost much to plan are shared out as they come).

The child sends its answer for each subdirectory over a pipe once it is done
with it, before taking the next (empty answers in runs of up to 64): the
paths worth handing on in walk order, each candidate with its plan (scan.py,
planned.py). When the two meet, this process reads what has arrived without
waiting, stops the child, and walks itself every subdirectory left without
an answer (the one the child was on, empty answers not sent yet); it waits
for the child only when the child is planning a candidate in the
subdirectory where they meet (planning it again would cost more). It reads
each path of an answer again itself, with every check of a serial walk, and
uses a plan only for the bytes it was planned from. When anything is
unusual in the child (an exception: a symlink out of the tree, an unreadable
directory; a signal), its answers stop there and this process walks the rest,
meeting the same error at the same place; a malformed answer drops them all:
the paths, their order, the plan and the errors are the serial walk's.

Only where ``os.fork`` exists, more than one CPU is usable, and no other
thread runs in this process (a child forked beside threads can inherit a lock
held by one of them).
"""

from __future__ import annotations

import contextlib
import marshal
import mmap
import os
import signal
import struct
import sys
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

_SIGNALS = {signal.SIGINT, signal.SIGTERM}
# before each answer: the subdirectory's index, how many (an empty answer
# covers a run of them: index, index - 1, ...), the size of the value
_HEAD = struct.Struct("<qqQ")
_BATCH = 64  # the child sends at most this many empty answers at once
WAIT_FOR_THE_CHILD = False  # tests only: wait for all of the child's answers


class Claims:
    """Which subdirectories are taken: this process takes them from the
    first, the child from the last. Two counters in shared memory: the next
    index for this process, the lowest index the child has taken. Both take
    the index where they meet (this process's walk of it is kept). The
    counters only share the work out: what this process walks itself is
    decided by the answers it has received, so a stale read costs time,
    never a wrong walk."""

    def __init__(self, count: int) -> None:
        self._memory = mmap.mmap(-1, 24)  # anonymous and shared: the child sees it
        # [next index here, lowest index there, 1 while the child plans a candidate]
        self._counters = memoryview(self._memory).cast("q")
        self._counters[1] = count
        self.front = 0  # kept here too: this process never reads its own counter back
        self.count = count
        self.waiting = False  # stopped where the child is planning: wait for its answers

    def here(self) -> int | None:
        """The next index for this process; None once past the child's. The
        index the child is on is taken here too (rather than waiting), unless
        the child is planning a candidate there: then this process stops and
        waits for the child's answers (a file can take 25 ms to plan; walking
        the rest of a subdirectory takes microseconds)."""
        low = self._counters[1]
        if self.front > min(low, self.count - 1):
            return None
        if self.front == low and self._counters[2]:
            self.waiting = True
            return None
        self.front += 1
        self._counters[0] = self.front
        return self.front - 1

    def planning(self, busy: bool) -> None:
        """The child: it is planning a candidate, or done with it."""
        self._counters[2] = int(busy)

    def there(self) -> int | None:
        """The next index for the child, counting down; None once taken here."""
        index = self._counters[1] - 1
        if index < self._counters[0]:
            return None
        self._counters[1] = index
        return int(index)

    def close(self) -> None:
        if not self._memory.closed:
            self._counters.release()
            self._memory.close()


class Share:
    """A running child taking ``names`` (subdirectories of one directory) from
    the last while this process takes them from the first (``claims``)."""

    def __init__(self, names: list[str], pid: int, fd: int, claims: Claims) -> None:
        self.names = names
        self.claims = claims
        self._pid = pid
        self._fd = fd
        self._received = bytearray()  # the child's answers so far
        os.set_blocking(fd, False)

    def next(self) -> int | None:
        """The index of the next subdirectory for this process, or None: the
        two have met. Now and then empties the pipe, so that the child is not
        held up writing to a full one."""
        index = self.claims.here()
        if index is not None and index % _BATCH == _BATCH - 1:
            self._drain()
        return index

    def answers(self) -> list[tuple[int, Any]] | None:
        """The answers the child has sent, (index, value) for the subdirectories
        it is done with, the last one first; what it is still working on is not
        waited for, unless it is planning a candidate where the two met
        (``claims.waiting``: then all of them, up to its end). None when one is
        malformed: walk the rest here. The child is stopped: this process
        walks whatever has no answer."""
        try:
            self._drain(until_the_end=WAIT_FOR_THE_CHILD or self.claims.waiting)
            return _records(self._received, len(self.names))
        finally:
            self._received = bytearray()
            self.cancel()

    def _drain(self, until_the_end: bool = False) -> None:
        if until_the_end:
            os.set_blocking(self._fd, True)
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(self._fd, 1 << 16):
                self._received += chunk

    def cancel(self) -> None:
        """Stop the child (the walk was left early) and reap it."""
        if self._pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            self._pid = 0
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self.claims.close()


Work = Callable[[Claims], Iterator[Any]]


def start(names: list[str], work: Work) -> Share | None:
    """``work(claims)`` running in a child process, each value it yields
    sent as one answer; or None where forking is not possible or not safe
    (the caller walks ``names`` itself)."""
    if not _can_fork():
        return None
    claims = Claims(len(names))
    read_fd, write_fd = os.pipe()
    # SIGINT/SIGTERM wait until the child has its own handlers: the parent's
    # raise Interrupted, which in the child would unwind the caller's code
    # (its finally blocks: a temporary clone removed under the parent)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        pid = os.fork()
    except OSError:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(read_fd)
        os.close(write_fd)
        claims.close()
        return None
    if pid == 0:
        _child(read_fd, write_fd, lambda: work(claims), mask)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    os.close(write_fd)
    return Share(names, pid, read_fd, claims)


def _child(
    read_fd: int, write_fd: int, work: Callable[[], Iterator[tuple[int, Any]]],
    mask: set[int | signal.Signals],
) -> NoReturn:
    """Run ``work`` and send its answers (index, value): each answer holding
    something at once, empty ones (no value) in batches, always before taking
    the next subdirectory; never returns into the caller's code (``os._exit``:
    no cleanup handlers, no buffered output of the parent's). A SIGINT or
    SIGTERM ends it as any plain process (the parent then walks the rest
    itself, or is stopping too)."""
    code = 1
    try:
        for signum in _SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(read_fd)
        top = run = 0  # empty answers not sent yet: from index ``top`` down, ``run`` of them
        for index, value in work():
            if not value:
                top, run = (top, run + 1) if run else (index, 1)
                if run >= _BATCH:
                    _send(write_fd, _HEAD.pack(top, run, 0))
                    run = 0
                continue
            data = marshal.dumps(value)
            empties = _HEAD.pack(top, run, 0) if run else b""
            _send(write_fd, empties + _HEAD.pack(index, 1, len(data)) + data)
            run = 0
        if run:
            _send(write_fd, _HEAD.pack(top, run, 0))
        code = 0
    except BaseException:  # any failure: the parent walks the rest itself
        pass
    finally:
        os._exit(code)


def _send(fd: int, data: bytes | bytearray) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _records(data: bytearray, count: int) -> list[tuple[int, Any]] | None:
    """The whole answers in ``data``, (index, value: None for an empty one),
    one per index; None when one is malformed (indices out of order or
    range, bytes that are not marshal data). A last answer cut short is left
    out."""
    found: list[tuple[int, Any]] = []
    at, below = 0, count  # every index so far is at least ``below``
    while at + _HEAD.size <= len(data):
        index, run, size = _HEAD.unpack_from(data, at)
        start = at + _HEAD.size
        body = bytes(data[start : start + size])
        if len(body) < size:
            break
        if not (index - run + 1 >= 0 and index < below and run >= 1 and (run == 1 or not size)):
            return None
        try:
            value = marshal.loads(body) if size else None
        except (EOFError, ValueError, TypeError):
            return None
        found += [(index, value)] if size else [(i, None) for i in range(index, index - run, -1)]
        at, below = start + size, index - run + 1
    return found


def _can_fork() -> bool:
    if not hasattr(os, "fork"):
        return False
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return False
    return _cpus() > 1


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
