"""Write a plan (all files or none) and show it as a unified diff."""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path

from promoter.errors import PromoterError
from promoter.manifests.records import Plan


def write_plan(root: Path, plan: Plan) -> None:
    """Write every edited file, or none: temp files beside each target first,
    then rename them all into place, keeping each file's mode."""
    staged: list[tuple[str, Path]] = []
    try:
        for edit in plan.edits:
            target = root / edit.file
            if target.read_bytes() != edit.before:
                raise PromoterError(
                    f"{edit.file} changed while planning; run the update again"
                    " (nothing was written)"
                )
            fd, tmp = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".promoter", dir=target.parent
            )
            staged.append((tmp, target))
            with os.fdopen(fd, "wb") as handle:
                handle.write(edit.after)
            os.chmod(tmp, target.stat().st_mode & 0o7777)
    except OSError as exc:
        _discard(staged)
        raise PromoterError(
            f"cannot write {exc.filename}: {exc.strerror}; nothing was written"
        ) from exc
    except PromoterError:
        _discard(staged)
        raise
    for tmp, target in staged:
        os.replace(tmp, target)


def _discard(staged: list[tuple[str, Path]]) -> None:
    for tmp, _ in staged:
        Path(tmp).unlink(missing_ok=True)


def unified_diff(plan: Plan) -> str:
    """The plan as a unified diff with ``a/<path>`` and ``b/<path>`` headers."""
    out: list[str] = []
    for edit in plan.edits:
        before = edit.before.decode("utf-8").splitlines(keepends=True)
        after = edit.after.decode("utf-8").splitlines(keepends=True)
        for line in difflib.unified_diff(before, after, f"a/{edit.file}", f"b/{edit.file}"):
            if line.endswith("\n"):
                out.append(line)
            else:
                out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)
