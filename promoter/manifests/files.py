"""Write a plan (all files or none) and show it as a unified diff."""

from __future__ import annotations

import os
from pathlib import Path

from promoter.errors import Interrupted, PromoterError
from promoter.manifests import journal
from promoter.manifests.records import FileEdit, Plan
from promoter.manifests.udiff import file_diff


def write_plan(root: Path, plan: Plan) -> None:
    """Write every edited file, or none, keeping each file's mode: temp files
    beside each target first, then rename them all into place, with a journal
    so that signals and kills leave a recoverable state (see journal.py)."""
    if not plan.edits:
        return
    written: list[bool] = []
    try:
        with journal.Signals() as signals:
            _write(root, plan, signals, written)
    except Interrupted as sig:
        if written:
            raise PromoterError(
                f"interrupted by {sig.name} while writing; all {len(plan.edits)} file(s) were"
                " written first (the update is complete)"
            ) from None
        raise PromoterError(f"interrupted by {sig.name}; nothing was written") from None


def _write(root: Path, plan: Plan, signals: journal.Signals, written: list[bool]) -> None:
    run = journal.new_id()
    files = [edit.file for edit in plan.edits]
    try:
        with signals.blocked():
            journal.begin(root, run, files)
    except Interrupted:
        journal.end(root)  # begin had finished (signals were blocked): it is this run's
        raise
    staged = _stage(root, run, plan, signals)
    with signals.blocked():
        journal.commit(root, run, files)
        _rename_all(root, staged, plan)
        journal.end(root)
        written.append(True)


def _stage(root: Path, run: str, plan: Plan, signals: journal.Signals) -> list[tuple[Path, Path]]:
    """Temp files holding the new texts; on any failure or signal, none."""
    staged: list[tuple[Path, Path]] = []
    edit = plan.edits[0]
    try:
        for edit in plan.edits:
            target = root / edit.file
            staged.append((journal.temp_path(target, run), target))
            _write_temp(target, staged[-1][0], edit)
    except BaseException as exc:
        with signals.blocked():
            _discard(staged)
            journal.end(root)
        if isinstance(exc, OSError):
            raise PromoterError(
                f"cannot write {edit.file}: {exc.strerror}; nothing was written"
            ) from None
        raise
    return staged


def _write_temp(target: Path, tmp: Path, edit: FileEdit) -> None:
    """The new text of ``edit`` into ``tmp``, rebuilt from the file as it is
    now (refused when that is neither the planned text nor the new one)."""
    try:
        after = edit.after
    except PromoterError as exc:
        raise PromoterError(f"{exc} (nothing was written)") from None
    mode = os.stat(target).st_mode & 0o7777
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        view = memoryview(after)
        while view:
            view = view[os.write(fd, view):]
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def _rename_all(root: Path, staged: list[tuple[Path, Path]], plan: Plan) -> None:
    """Rename every temp over its target; if one fails, put the old texts back."""
    done = 0
    try:
        for tmp, target in staged:
            os.replace(tmp, target)
            done += 1
    except OSError as exc:
        for edit, (_, target) in zip(plan.edits[:done], staged, strict=False):
            target.write_bytes(edit.before)
        _discard(staged[done:])
        journal.end(root)
        raise PromoterError(
            f"cannot replace {plan.edits[done].file}: {exc.strerror}; nothing was written"
        ) from None


def _discard(staged: list[tuple[Path, Path]]) -> None:
    for tmp, _ in staged:
        tmp.unlink(missing_ok=True)


def unified_diff(plan: Plan) -> str:
    """The plan as a unified diff with ``a/<path>`` and ``b/<path>`` headers
    (udiff.py: linear in bytes, lines ended by "\n" only); each file is read
    again, one at a time."""
    out = []
    for edit in plan.edits:
        try:
            out += file_diff(edit.file, *edit.texts())
        except OSError as exc:
            raise PromoterError(f"cannot read {edit.file}: {exc.strerror}") from None
    return "".join(out)
