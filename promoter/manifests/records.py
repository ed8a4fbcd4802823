"""The values the edit engine hands out: changes, skips, file edits, plans."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from promoter.images import ImageRef


@dataclass(frozen=True)
class Change:
    """One value changed. ``line``/``column`` (1-based, characters) point at the
    first character of the old value, inside its quotes."""

    file: str
    line: int
    column: int
    path: str
    kind: str
    old: str
    new: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skip:
    """A place or file that was not edited, and why."""

    file: str
    line: int
    reason: str


@dataclass(frozen=True)
class Piece:
    """Changed lines: ``old`` at byte ``start`` of the old text becomes ``new``."""

    start: int
    old: bytes
    new: bytes


@dataclass(frozen=True)
class FileEdit:
    """One edited file, held as its changed pieces and the old text's size and
    CRC-32 (held.py); ``before`` and ``after`` read the file again."""

    file: str  # posix, relative to the root
    path: Path  # where it is read
    size: int
    crc: int
    pieces: tuple[Piece, ...]
    changes: tuple[Change, ...]

    def texts(self) -> tuple[bytes, bytes]:
        """The old and the new text (one read; the file may hold either)."""
        from promoter.manifests import held

        return held.texts(self)

    @property
    def before(self) -> bytes:
        return self.texts()[0]

    @property
    def after(self) -> bytes:
        return self.texts()[1]


@dataclass(frozen=True)
class Plan:
    edits: tuple[FileEdit, ...]
    skipped: tuple[Skip, ...]

    @property
    def changes(self) -> tuple[Change, ...]:
        return tuple(change for edit in self.edits for change in edit.changes)


@dataclass(frozen=True)
class Found:
    """A current reference: ``ref`` is repository + tag + digest, split Helm
    blocks combined."""

    file: str
    line: int
    column: int
    path: str
    kind: str
    ref: ImageRef
