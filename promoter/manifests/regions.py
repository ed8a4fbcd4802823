"""Split a YAML text into its documents without parsing, so that only the
documents that can hold a reference are composed.

A line starting with ``---`` followed by a blank or the line's end is a
document start wherever libyaml meets it (inside a block scalar it ends the
scalar; inside a quoted scalar or flow collection it is an error). So the text
between two such lines is one or more whole documents, and offsets, lines and
columns inside it differ from the whole text's by a line count only. Texts
with directives (``%YAML``, ``%TAG``: they apply to the next document) or
``...`` document ends are not split.

A document is composed only if it contains a prefilter word (the
repository's last path component, or a ``--key``'s last key) as a whole name:
not preceded or followed by a letter, digit, ``.``, ``_`` or ``-`` (so ``api``
in ``apiVersion`` does not count, and ``/api:`` does). Every spelling of a
reference has its last component that way (after ``/``, a blank or a quote;
before ``:``, ``@``, a quote, a blank or the end). A document without it
cannot hold a reference. Nor can one where every such name is a plain
``key: value`` line whose value is one plain word without ``:`` or ``@`` and
whose key can never hold a repository (not in REFERENCE_KEYS): the label
``app.kubernetes.io/part-of: argocd`` makes no 1.4 MB CRD worth composing.
Such a line is either that mapping entry, or text inside a string or block
scalar, where a name without a tag or digest is no reference either. With
``--key`` every occurrence counts. Documents that are not composed are not validated either; the
bytes of the file outside the edited documents are kept as they are.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterator, Sequence
from typing import NamedTuple, TypeVar

from promoter.manifests.locate import REPOSITORY_KEYS
from promoter.manifests.records import Change, Skip

_MARKS = re.compile(r"\n(?:---|\.\.\.|%)")  # a line that may start or end a document
_ENDS = ("", " ", "\t", "\r", "\n")  # what may follow ``---`` or ``...`` on its line
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


class Region(NamedTuple):
    text: str
    line: int  # lines of the whole text before this region
    wanted: bool  # contains a prefilter word


# keys whose value can hold the repository's last component (locate.py)
REFERENCE_KEYS = frozenset({*REPOSITORY_KEYS, "newName", "value"})
_PLAIN_ENTRY = re.compile(
    r"[ \t]*(?:- )*([A-Za-z0-9_./-]+):[ \t]+[A-Za-z0-9_./-]+[ \t]*(?:#.*)?\r?"
)


class Prefilter(NamedTuple):
    words: tuple[str, ...]
    strict: bool  # every occurrence counts (``--key`` given)


def split(body: str, words: Prefilter) -> Iterator[Region]:
    """The regions of ``body`` in order; joined they give ``body`` back."""
    starts = _document_starts(body)
    if starts is None:
        yield Region(body, 0, True)
        return
    line = 0
    for start, end in itertools.pairwise(starts):
        text = body[start:end]
        yield Region(text, line, _wanted(text, words))
        line += text.count("\n")


def _document_starts(body: str) -> list[int] | None:
    """0, the offsets of the ``---`` lines, and the end; None when a line is a
    directive (``%``) or a document end (``...``): such a text is not split.
    One pass over the text, for the three kinds of line at once."""
    if body.startswith("%") or (body.startswith("...") and body[3:4] in _ENDS):
        return None
    starts = [0]
    for match in _MARKS.finditer(body):
        at = match.start() + 1
        if body[at] == "%":
            return None
        if body[at + 3 : at + 4] in _ENDS:
            if body[at] == ".":
                return None
            starts.append(at)
    starts.append(len(body))
    return starts


def _occurrences(text: str, words: Sequence[str]) -> Iterator[tuple[int, int]]:
    """Where a word stands as a whole name: no name character on either side."""
    for word in words:
        at = text.find(word)
        while at >= 0:
            end = at + len(word)
            if (at == 0 or text[at - 1] not in _NAME_CHARS) and (
                end == len(text) or text[end] not in _NAME_CHARS
            ):
                yield at, end
            at = text.find(word, at + 1)


def _wanted(text: str, prefilter: Prefilter) -> bool:
    for start, end in _occurrences(text, prefilter.words):
        if prefilter.strict:
            return True
        first = text.rfind("\n", 0, start) + 1
        last = text.find("\n", end)
        entry = _PLAIN_ENTRY.fullmatch(text, first, len(text) if last < 0 else last)
        if entry is None or entry.group(1) in REFERENCE_KEYS:
            return True
    return False


T = TypeVar("T", Change, Skip)


def shifted(records: Sequence[T], lines: int) -> list[T]:
    """Changes or skips of a region, with lines counted in the whole text."""
    if not lines:
        return list(records)
    return [
        dataclasses.replace(r, line=r.line + lines) if r.line else r
        for r in records
    ]
