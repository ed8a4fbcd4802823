"""One candidate file of a walk: its bytes, decoded and edited region by region
(only the documents holding a prefilter word are composed, regions.py); a
file that cannot be edited is a skip, or an InputError when named as a PATH."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from promoter.errors import BadYaml, ConflictError, InputError
from promoter.images import ImageRef
from promoter.manifests import regions
from promoter.manifests.document import BOM, edit_text, found_line, locate
from promoter.manifests.locate import Ref
from promoter.manifests.reading import MAX_BYTES
from promoter.manifests.records import Change, Skip


class Candidate(NamedTuple):
    path: Path  # absolute
    file: str  # posix, relative to the root
    explicit: bool
    data: bytes
    problem: str = ""  # why the file was not read (not a regular file)


def bad_file(cand: Candidate, exc: BadYaml) -> Skip:
    where = f"{cand.file}:{exc.line}" if exc.line else cand.file
    if cand.explicit:
        raise InputError(
            f"{where}: {exc.reason}; fix the file or leave it out (nothing was written)"
        )
    return Skip(cand.file, exc.line, exc.reason)


def decode(cand: Candidate) -> str:
    if cand.problem:
        raise BadYaml(cand.problem)
    if len(cand.data) > MAX_BYTES:
        raise BadYaml(f"file larger than {MAX_BYTES // (1024 * 1024)} MiB; not parsed")
    try:
        return cand.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = cand.data.count(b"\n", 0, exc.start) + 1
        raise BadYaml("not UTF-8 text", line) from None


class Edited:
    """The new text of one candidate file, its changes and skips, filled in
    region by region (a plain class: a dataclass costs more to define at
    start-up than this one saves)."""

    __slots__ = ("changes", "referenced", "skips", "text")

    def __init__(self) -> None:
        self.text = ""
        self.changes: list[Change] = []
        self.skips: list[Skip] = []
        self.referenced = False  # a reference was found, edited or not


def edit(
    cand: Candidate, ref: ImageRef, keys: Sequence[str], expect: str | None,
    words: regions.Prefilter,
) -> Edited:
    """The new text of one file, its changes and skips: only the documents
    holding a prefilter word are composed (regions.py)."""
    text = decode(cand)
    bom = BOM if text.startswith(BOM) else ""
    pieces = [bom]
    edited = Edited()
    for region in regions.split(text[len(bom):], words):
        if not region.wanted:
            pieces.append(region.text)
            continue
        with lines_from(region):
            located = locate(region.text, cand.file, ref.repository, keys)
            if expect is not None:
                check_expect(cand.file, region, located.editable, expect, ref)
            result = edit_text(region.text, cand.file, ref, keys, located)
        pieces.append(result.text)
        edited.changes += regions.shifted(result.changes, region.line)
        edited.skips += regions.shifted(result.skips, region.line)
        edited.referenced = edited.referenced or bool(located.refs or result.skips)
    edited.text = "".join(pieces)
    return edited


@contextlib.contextmanager
def lines_from(region: regions.Region) -> Iterator[None]:
    """BadYaml raised inside ``region`` with the line counted in the file."""
    try:
        yield
    except BadYaml as exc:
        raise BadYaml(exc.reason, exc.line + region.line if exc.line else 0) from None


def check_expect(
    file: str, region: regions.Region, refs: Sequence[Ref], expect: str, new: ImageRef
) -> None:
    """A ConflictError unless every reference is at ``expect`` (or at the new version)."""
    for ref in refs:
        current = ref.current
        if expect in (current.tag, current.digest, current.version):
            continue
        if current.version == new.version:
            continue  # already promoted: re-running is safe
        line = found_line(region.text, ref)[0] + region.line
        raise ConflictError(
            f"{file}:{line}: {ref.path} is {current.version or '(no tag)'!r}, not {expect!r}"
            "; someone changed it, re-check before promoting (nothing was written)"
        )
