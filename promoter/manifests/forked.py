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
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

_SIGNALS = {signal.SIGINT, signal.SIGTERM}
T = TypeVar("T")


class Claims:
    """Which subdirectories are taken: this process takes them from the
    first, the child from the last. Two counters in shared memory: the next
    index for this process, the lowest index the child has taken. A stale or
    torn read only makes both take one index (kept from this process's walk)
    or leaves a gap (walked here): never a wrong walk."""

    def __init__(self, count: int) -> None:
        self._memory = mmap.mmap(-1, 16)  # anonymous and shared: the child sees it
        self._counters = memoryview(self._memory).cast("q")  # [next here, lowest there]
        self._counters[1] = count
        self.front = 0  # kept here too: this process never reads its own counter back
        self.count = count

    def here(self) -> int | None:
        """The next index for this process; None once the child has taken it."""
        if self.front >= min(self._counters[1], self.count):
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

    def answer(self, check: Callable[[object], T | None]) -> T | None:
        """The child's answer as ``check`` makes it of the unmarshalled value,
        or None (the child failed, or ``check`` refused it): walk the names
        not taken here (from ``claims.front``) here."""
        try:
            data = _read_all(self._fd)
        except BaseException:
            self.cancel()
            raise
        os.close(self._fd)
        self._fd = -1
        _, status = os.waitpid(self._pid, 0)
        self._pid = 0
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            return None
        try:
            found = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            return None
        return check(found)

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


Work = Callable[[Callable[[], int | None]], list[Any]]  # given Claims.there


def start(names: list[str], work: Work) -> Share | None:
    """``work(claims.there)`` running in a child process, or None where
    forking is not possible or not safe (the caller walks ``names`` itself)."""
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
    read_fd: int, write_fd: int, work: Callable[[], list[Any]], mask: set[int | signal.Signals]
) -> NoReturn:
    """Run ``work`` and write its answer; never returns into the caller's code
    (``os._exit``: no cleanup handlers, no buffered output of the parent's).
    A SIGINT or SIGTERM ends it as any plain process (the parent then walks
    the share itself, or is stopping too)."""
    code = 1
    try:
        for signum in _SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(read_fd)
        _send(write_fd, marshal.dumps(work()))
        code = 0
    except BaseException:  # any failure: the parent walks the share itself
        pass
    finally:
        os._exit(code)


def _send(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


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
