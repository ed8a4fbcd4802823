"""Planning one candidate file, and carrying that plan over a pipe.

``plan_one`` is what ``plan_update`` does with each candidate: the edit
engine's new text, its changes and skips, the FileEdit of an edited file, or
the skip of a file that cannot be edited. The forked walk's child
(scan.py, forked.py) plans the candidates of its share with it and sends each
outcome back as plain tuples (marshal: str, int, bytes, bool, None, tuple;
nothing that runs code when read), with the size and CRC-32 of the bytes it
planned from. This process still reads every candidate itself and uses the
child's outcome only when its own bytes have that size and CRC-32 and hold
each changed piece's old bytes where the piece says (the check held.py makes
before writing); otherwise it plans the file itself. A candidate that fails
in the child in any other way (a conflict with ``--expect``, any exception
but BadYaml) comes back without an outcome and is planned here, so the error
is the serial walk's, raised at the same file.

The child answers, for each subdirectory it took, with its paths worth
handing on in walk order, each with its outcome where the child planned one
(``read_group`` reads it, refusing any other shape).
It holds no file contents beyond a FileEdit's changed pieces. CRC-32 rather
than a cryptographic digest: it tells a file changed meanwhile (an editor, a
checkout) at a third of SHA-256's cost on the parent's critical path, and it is
what held.py trusts between planning and writing; whoever can write the tree
while promoter runs can as well change a file after it is planned.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeGuard

from promoter.errors import BadYaml
from promoter.images import ImageRef
from promoter.manifests import candidate, held, regions
from promoter.manifests.candidate import Candidate
from promoter.manifests.records import Change, FileEdit, Piece, Skip

Wire = tuple[object, ...]  # one outcome as marshal-able plain values
Entry = str | tuple[str, Wire]  # of the child's answer: a path, or a path and its outcome
_SKIP = (str, int, str)
_CHANGE = (str, int, int, str, str, str, str, tuple)
_PIECE = (int, bytes, bytes)


class Outcome(NamedTuple):
    """What planning one candidate gave."""

    bad: Skip | None  # the file cannot be edited (BadYaml): its skip, nothing else
    referenced: bool  # a reference was found, edited or not
    skips: tuple[Skip, ...]
    edit: FileEdit | None


class Planned(NamedTuple):
    """An outcome from the child, and the bytes it was planned from."""

    size: int
    crc: int
    bad: Skip | None
    referenced: bool
    skips: tuple[Skip, ...]
    changes: tuple[Change, ...]
    pieces: tuple[Piece, ...]


def plan_one(
    cand: Candidate, ref: ImageRef, keys: Sequence[str], expect: str | None,
    words: regions.Prefilter,
) -> Outcome:
    """The plan of one candidate; a BadYaml is the file's skip (or an
    InputError when the file was named as a PATH: candidate.bad_file)."""
    try:
        edited = candidate.edit(cand, ref, keys, expect, words)
    except BadYaml as exc:
        return Outcome(candidate.bad_file(cand, exc), True, (), None)
    edit = None
    if edited.changes:
        after = edited.text.encode("utf-8")
        edit = held.file_edit(cand.file, cand.path, cand.data, after, edited.changes)
    return Outcome(None, edited.referenced, tuple(edited.skips), edit)


class Planner:
    """How the child plans a candidate, and the outcomes it sent back, by path."""

    def __init__(self, plan: Callable[[Candidate], Outcome]) -> None:
        self.plan = plan
        self.answers: dict[str, Planned] = {}

    def take(self, cand: Candidate) -> Outcome | None:
        """The child's outcome for ``cand`` if it was planned from the bytes
        this process read; None: plan it here."""
        planned = self.answers.pop(str(cand.path), None)
        if planned is None or cand.explicit or cand.problem or not _same(planned, cand.data):
            return None
        edit = None
        if planned.changes:
            edit = FileEdit(cand.file, cand.path, planned.size, planned.crc, planned.pieces,
                            planned.changes)
        return Outcome(planned.bad, planned.referenced, planned.skips, edit)


def _same(planned: Planned, data: bytes) -> bool:
    if len(data) != planned.size or zlib.crc32(data) != planned.crc:
        return False
    at = 0
    for piece in planned.pieces:
        if piece.start < at or not data.startswith(piece.old, piece.start):
            return False
        at = piece.start + len(piece.old)
    return True


def read_group(entries: object, outcomes: dict[str, Planned] | None) -> list[str] | None:
    """The paths of the child's answer for one subdirectory (None: nothing
    worth reading in it; else a list of paths, and of (path, wire) for the
    candidates it planned), the outcomes added to ``outcomes``. None when the
    answer is not exactly that shape, or holds an outcome though none was
    asked for (``outcomes`` None)."""
    if entries is None:
        return []
    if type(entries) is not list:
        return None
    return _paths_of(entries, outcomes)


def _paths_of(entries: list[object], outcomes: dict[str, Planned] | None) -> list[str] | None:
    paths: list[str] = []
    for entry in entries:
        if type(entry) is str:
            paths.append(entry)
            continue
        if outcomes is None or not _fits(entry, (str, tuple)):
            return None
        outcome = from_wire(entry[1])
        if outcome is None:
            return None
        paths.append(entry[0])
        outcomes[str(Path(entry[0]))] = outcome
    return paths


def to_wire(outcome: Outcome, data: bytes) -> Wire:
    """``outcome`` of a file whose bytes were ``data``, as plain values."""
    bad = _skip_wire(outcome.bad) if outcome.bad is not None else None
    edit = outcome.edit
    changes = tuple((c.file, c.line, c.column, c.path, c.kind, c.old, c.new, c.notes)
                    for c in edit.changes) if edit is not None else ()
    pieces = tuple((p.start, p.old, p.new) for p in edit.pieces) if edit is not None else ()
    return (len(data), zlib.crc32(data), bad, outcome.referenced,
            tuple(_skip_wire(s) for s in outcome.skips), changes, pieces)


def _skip_wire(skip: Skip) -> tuple[str, int, str]:
    return (skip.file, skip.line, skip.reason)


def from_wire(wire: object) -> Planned | None:
    """The Planned that ``wire`` holds, or None when it is not exactly the
    shape ``to_wire`` makes."""
    if type(wire) is not tuple or len(wire) != 7:
        return None
    size, crc, bad, referenced, skips, changes, pieces = wire
    if type(size) is not int or type(crc) is not int or type(referenced) is not bool:
        return None
    if not (bad is None or _fits(bad, _SKIP)) or not _all_fit(skips, _SKIP):
        return None
    if not _all_fit(changes, _CHANGE) or not _all_fit(pieces, _PIECE):
        return None
    if not all(type(note) is str for change in changes for note in change[7]):
        return None
    return Planned(size, crc, Skip(*bad) if bad is not None else None, referenced,
                   tuple(Skip(*s) for s in skips), tuple(Change(*c) for c in changes),
                   tuple(Piece(*p) for p in pieces))


def _fits(value: object, types: tuple[type, ...]) -> TypeGuard[tuple[Any, ...]]:
    return (type(value) is tuple and len(value) == len(types)
            and all(type(v) is t for v, t in zip(value, types, strict=True)))


def _all_fit(
    values: object, types: tuple[type, ...]
) -> TypeGuard[tuple[tuple[Any, ...], ...]]:
    return type(values) is tuple and all(_fits(v, types) for v in values)
