"""A file edit held as the bytes that change, not as two whole texts.

A plan over many large files would otherwise keep the old and the new text of
each edited file (two 1.9 MB copies per edited argo-cd install.yaml, 441 MB
for a tree of 100 of them). A FileEdit keeps the changed line ranges (where
in the old text, the old bytes, the new bytes) and the old text's size and
CRC-32; the texts are rebuilt from the file when they are needed (writing,
diffing, committing), one file at a time. The file may hold either text then
(a plan already written still gives both); anything else means the file
changed since it was planned, which is refused.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

from promoter.errors import NotRegular, PromoterError
from promoter.manifests.records import Change, FileEdit, Piece
from promoter.manifests.udiff import changed_spans


def file_edit(
    file: str, path: Path, before: bytes, after: bytes, changes: Sequence[Change]
) -> FileEdit:
    """The FileEdit turning ``before`` (the bytes of ``path`` now) into ``after``."""
    pieces = tuple(Piece(a1, before[a1:a2], after[b1:b2])
                   for a1, a2, b1, b2 in changed_spans(before, after))
    return FileEdit(file, path, len(before), zlib.crc32(before), pieces, tuple(changes))


def texts(edit: FileEdit) -> tuple[bytes, bytes]:
    """The old and the new text of the edited file, from the file as it is."""
    from promoter.manifests.scan import read_regular  # scan makes FileEdits

    grown = sum(len(p.new) - len(p.old) for p in edit.pieces)
    try:
        current = read_regular(edit.path, edit.size + max(grown, 0))
    except NotRegular as exc:
        raise PromoterError(f"{edit.file}: {exc}") from None
    new = _swap(current, edit.pieces, forward=True) if _is_old(edit, current) else None
    if new is not None:
        return current, new
    old = _swap(current, edit.pieces, forward=False) if len(current) == edit.size + grown else None
    if old is not None and _is_old(edit, old):
        return old, current
    raise PromoterError(f"{edit.file} changed while planning; run the update again")


def _is_old(edit: FileEdit, text: bytes) -> bool:
    return (len(text) == edit.size
            and all(text.startswith(p.old, p.start) for p in edit.pieces)
            and zlib.crc32(text) == edit.crc)


def _swap(text: bytes, pieces: Sequence[Piece], *, forward: bool) -> bytes | None:
    """``text`` with each piece's old bytes replaced by its new ones (or back);
    None when ``text`` does not hold the bytes to replace."""
    out: list[bytes] = []
    at = shift = 0  # read position in text; where text's offsets lie from the old text's
    for piece in pieces:
        start = piece.start + shift
        have, put = (piece.old, piece.new) if forward else (piece.new, piece.old)
        if start < at or not text.startswith(have, start):
            return None
        out += (text[at:start], put)
        at = start + len(have)
        shift += 0 if forward else len(piece.new) - len(piece.old)
    out.append(text[at:])
    return b"".join(out)
