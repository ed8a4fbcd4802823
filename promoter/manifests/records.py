"""The values the edit engine hands out: changes, skips, file edits, plans."""

from __future__ import annotations

from dataclasses import dataclass

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
class FileEdit:
    file: str
    before: bytes
    after: bytes
    changes: tuple[Change, ...]


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
