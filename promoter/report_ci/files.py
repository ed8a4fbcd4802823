"""Writing the CI files so that a signal never leaves half a block: ``append``
(for $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY, which the runner and other steps
share) writes the whole block with one ``os.write`` on an O_APPEND descriptor,
looping only on a short write; ``replace`` (for the dotenv report and the JSON
record, which promoter owns alone) writes a temporary file beside the target
and renames it over it. While either runs, SIGTERM and SIGINT are held back
and delivered (their handler run) once the block is out."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

_HELD = (signal.SIGTERM, signal.SIGINT)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """SIGTERM/SIGINT arriving in the block run their handler after it (main
    thread only: elsewhere Python runs no handler anyway)."""
    if threading.current_thread() is not threading.main_thread() or any(
            signal.getsignal(signum) is None for signum in _HELD):  # not restorable
        yield
        return
    arrived: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        arrived.append(signum)

    previous: dict[int, Any] = {signum: signal.signal(signum, hold) for signum in _HELD}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if arrived:
            signal.raise_signal(arrived[0])  # the handler the caller installed runs now


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def append(path: str | None, text: str) -> None:
    """Append ``text`` to ``path`` (if given) as one block."""
    if not path:
        return
    data = text.encode("utf-8")
    with signals_held():
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)


def replace(path: Path, text: str) -> None:
    """Make ``path`` hold ``text``: the old content or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with signals_held():
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            try:
                _write_all(fd, text.encode("utf-8"))
            finally:
                os.close(fd)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
