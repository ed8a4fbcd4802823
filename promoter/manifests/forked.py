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
files that cost much to plan are shared out as they come). Both may take the
subdirectory where they meet; this process's walk of it is kept.

The child answers with one marshalled value (scan.py says what: for each
subdirectory it took, the paths worth handing on in walk order, each
candidate with its plan: planned.py); this process reads each of those paths
again itself, with every check of a serial walk, and uses a plan only for the
bytes it was planned from. When anything is unusual in the child (an
exception: a symlink out of the tree, an unreadable directory; a signal; a
short or malformed answer), its answer is dropped and this process walks the
rest itself, meeting the same error at the same place: the paths, their
order, the plan and the errors are the serial walk's.

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
from typing import Any, BinaryIO, NoReturn, TypeVar

_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_SIZE = struct.Struct("<Q")  # before each answer: its size in bytes
T = TypeVar("T")


class Claims:
    """Which subdirectories are taken: this process takes them from the
    first, the child from the last. Two counters in shared memory: the next
    index for this process, the lowest index the child has taken. Both take
    the index where they meet (this process's walk of it is kept); a stale or
    torn read only makes both take more, or makes this process wait for the
    child's answers: never a wrong walk."""

    def __init__(self, count: int) -> None:
        self._memory = mmap.mmap(-1, 16)  # anonymous and shared: the child sees it
        self._counters = memoryview(self._memory).cast("q")  # [next here, lowest there]
        self._counters[1] = count
        self.front = 0  # kept here too: this process never reads its own counter back
        self.count = count

    def here(self) -> int | None:
        """The next index for this process; None once the child has taken it
        and is done with it. The index the child is on is taken here too: its
        answers from the next index on are sent already, so this process
        never waits for the child's work, only for what it has done."""
        if self.front > min(self._counters[1], self.count - 1):
            return None
        self.front += 1
        self._counters[0] = self.front
        return self.front - 1

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

    def answers(self, count: int, check: Callable[[object], T | None]) -> list[T] | None:
        """The child's first ``count`` answers (one per subdirectory it took,
        the last one first), each as ``check`` makes it of the unmarshalled
        value; None when the child ended before (it failed: a signal, an
        exception) or ``check`` refused one: walk the rest here. The child is
        stopped then: whatever it does after these is not needed."""
        try:
            with open(self._fd, "rb", closefd=False) as pipe:
                found = []
                for _ in range(count):
                    value = _record(pipe)
                    checked = check(value) if value is not None else None
                    if checked is None:
                        return None
                    found.append(checked)
                return found
        finally:
            self.cancel()

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


Work = Callable[[Callable[[], int | None]], Iterator[Any]]  # given Claims.there


def start(names: list[str], work: Work) -> Share | None:
    """``work(claims.there)`` running in a child process, each value it yields
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
        _child(read_fd, write_fd, lambda: work(claims.there), mask)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    os.close(write_fd)
    return Share(names, pid, read_fd, claims)


def _child(
    read_fd: int, write_fd: int, work: Callable[[], Iterator[Any]],
    mask: set[int | signal.Signals],
) -> NoReturn:
    """Run ``work`` and write each of its answers as it comes (its size, then
    its marshalled bytes); never returns into the caller's code (``os._exit``:
    no cleanup handlers, no buffered output of the parent's). A SIGINT or
    SIGTERM ends it as any plain process (the parent then walks the rest
    itself, or is stopping too)."""
    code = 1
    try:
        for signum in _SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(read_fd)
        for answer in work():
            data = marshal.dumps(answer)
            _send(write_fd, _SIZE.pack(len(data)) + data)
        code = 0
    except BaseException:  # any failure: the parent walks the rest itself
        pass
    finally:
        os._exit(code)


def _send(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _record(pipe: BinaryIO) -> object | None:
    """One answer from the pipe; None at its end, or when it is cut short or
    not marshal data."""
    head = pipe.read(_SIZE.size)
    if len(head) < _SIZE.size:
        return None
    (size,) = _SIZE.unpack(head)
    data = pipe.read(size)
    if len(data) < size:
        return None
    try:
        value: object = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    return value


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
