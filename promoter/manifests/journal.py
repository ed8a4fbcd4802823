"""All-or-none writes that survive signals: a journal and deferred signals.

``promoter update`` writes a plan in two phases, recorded in
``<root>/.promoter-update.journal`` (JSON: id, state, files):

1. ``staging``: every new text is written to ``.<name>.<id>.promoter`` beside
   its file; the files themselves are untouched.
2. ``committing``: every temp file is renamed over its file.

The journal is removed when the renames are done. SIGINT, SIGTERM and SIGHUP
during staging abort it: the temp files are removed, nothing was written.
During the renames these signals are blocked, so the renames finish first.
A process killed outright (SIGKILL, a crash) leaves the journal behind; the
next ``promoter update`` in that directory finishes its work before doing
anything else: a ``staging`` journal is rolled back (temp files removed), a
``committing`` one is completed (the remaining renames done). Nothing here
survives a power loss: files are not fsynced.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType

from promoter.errors import Interrupted, NotRegular, PromoterError

NAME = ".promoter-update.journal"
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_ID = re.compile(r"[0-9a-f]{16}")


def new_id() -> str:
    return os.urandom(8).hex()


def temp_path(target: Path, run: str) -> Path:
    return target.parent / f".{target.name}.{run}.promoter"


def begin(root: Path, run: str, files: Sequence[str]) -> None:
    """Create the staging journal; refuse when one exists already."""
    tmp = _write_tmp(root, run, "staging", files)
    try:
        os.link(tmp, root / NAME)
    except FileExistsError:
        raise PromoterError(
            f"{root / NAME} exists: another promoter update is running there, or one"
            " was interrupted; run promoter update again when it has finished"
        ) from None
    finally:
        tmp.unlink(missing_ok=True)


def commit(root: Path, run: str, files: Sequence[str]) -> None:
    os.replace(_write_tmp(root, run, "committing", files), root / NAME)


def end(root: Path) -> None:
    (root / NAME).unlink(missing_ok=True)


def _write_tmp(root: Path, run: str, state: str, files: Sequence[str]) -> Path:
    tmp = root / f"{NAME}.{run}.tmp"
    tmp.write_text(json.dumps({"id": run, "state": state, "files": list(files)}))
    return tmp


def pending(root: Path) -> bool:
    return (root / NAME).exists()


def recover(root: Path) -> str | None:
    """Finish an update that was killed in ``root``; what was done, or None."""
    for stale in root.glob(f"{NAME}.*.tmp"):
        stale.unlink(missing_ok=True)
    path = root / NAME
    if not path.exists():
        return None
    run, state, files = _read(path)
    moved = 0
    for file in files:
        target = _inside(root, file, path)
        tmp = temp_path(target, run)
        if not tmp.is_file() or tmp.is_symlink():
            continue
        if state == "committing":
            os.replace(tmp, target)
            moved += 1
        else:
            tmp.unlink()
    path.unlink()
    if state == "committing":
        return (f"an interrupted update of {len(files)} file(s) was completed"
                f" ({moved} rename(s) were left and are now done)")
    return f"an interrupted update of {len(files)} file(s) was rolled back (nothing was written)"


def _read(path: Path) -> tuple[str, str, list[str]]:
    from promoter.manifests.scan import read_regular

    try:
        data = json.loads(read_regular(path, 16 * 1024 * 1024).decode("utf-8"))
        run, state, files = data["id"], data["state"], data["files"]
        valid = (isinstance(run, str) and _ID.fullmatch(run) and state in ("staging", "committing")
                 and isinstance(files, list) and all(isinstance(f, str) for f in files))
    except (ValueError, KeyError, TypeError, OSError, NotRegular):
        valid = False
    if not valid:
        raise PromoterError(f"{path} is not a promoter journal; remove it and run again")
    return run, state, files


def _inside(root: Path, file: str, journal: Path) -> Path:
    target = root / file
    real_root = os.path.realpath(root)
    if not os.path.realpath(target.parent).startswith(real_root + os.sep) and (
        os.path.realpath(target.parent) != real_root
    ):
        raise PromoterError(f"{journal} names {file}, outside {root}; remove it and run again")
    return target


class Signals:
    """While active (main thread only), SIGINT/SIGTERM/SIGHUP raise Interrupted
    (a signal already ignored stays ignored); inside ``blocked()`` they wait
    and are raised when the block ends."""

    def __init__(self) -> None:
        import threading

        self.active = threading.current_thread() is threading.main_thread()
        self._old: dict[int, object] = {}

    def __enter__(self) -> Signals:
        if self.active:
            for signum in SIGNALS:
                if signal.getsignal(signum) is not signal.SIG_IGN:
                    self._old[signum] = signal.signal(signum, _raise)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._old.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    @contextlib.contextmanager
    def blocked(self) -> Iterator[None]:
        watched = set(self._old)
        if not watched:
            yield
            return
        signal.pthread_sigmask(signal.SIG_BLOCK, watched)
        try:
            yield
        finally:
            caught = signal.sigtimedwait(watched, 0)  # consume a pending one, if any
            signal.pthread_sigmask(signal.SIG_UNBLOCK, watched)
        if caught is not None:
            raise Interrupted(caught.si_signo)


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)
