"""Walk a share of a tree in a forked child process, so that a second CPU
lists directories, reads files and plans candidates while this process walks
(and plans) its own part. Threads do not help here: every file is a few system
calls with the GIL taken back after each, and two threads spent more time
handing the GIL over than they saved (measured: benchmarks/README.md, update).

The child answers with one marshalled value (scan.py says what: the paths of
its share worth handing on, in walk order, and for each candidate it could
plan, its outcome: planned.py); the walk reads each of those paths again
itself, with every check of a serial walk, and uses an outcome only for the
bytes it was planned from. When anything is unusual in the child (an
exception: a symlink out of the tree, an unreadable directory; a signal; a
short or malformed answer), its answer is dropped and this process walks the
share itself, meeting the same error at the same place: the paths, their
order, the plan and the errors are the serial walk's.

Only where ``os.fork`` exists, more than one CPU is usable, and no other
thread runs in this process (a child forked beside threads can inherit a lock
held by one of them).
"""

from __future__ import annotations

import contextlib
import marshal
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

_SIGNALS = {signal.SIGINT, signal.SIGTERM}
T = TypeVar("T")


class Share:
    """A running child walking ``names`` (subdirectories of one directory)."""

    def __init__(self, names: list[str], pid: int, fd: int) -> None:
        self.names = names
        self._pid = pid
        self._fd = fd

    def answer(self, check: Callable[[object], T | None]) -> T | None:
        """The child's answer as ``check`` makes it of the unmarshalled value,
        or None (the child failed, or ``check`` refused it): walk ``names`` here."""
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


def start(names: list[str], work: Callable[[], list[Any]]) -> Share | None:
    """``work()`` running in a child process, or None where forking is not
    possible or not safe (the caller walks ``names`` itself)."""
    if not _can_fork():
        return None
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
        return None
    if pid == 0:
        _child(read_fd, write_fd, work, mask)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    os.close(write_fd)
    return Share(names, pid, read_fd)


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
