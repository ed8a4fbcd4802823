"""Scalar text: where a scalar's value sits in the source, and how to write a
new value in the old scalar's style without changing its type.

Quoting rule: a plain scalar stays plain unless the new text, written plain,
would read back as something other than a string under YAML 1.1 or 1.2 (Helm
and Kubernetes read YAML 1.1: ``1.10``, ``0.1``, ``yes``, ``010``, ``1:20``) or
is not valid plain text; then it is written in double quotes. So ``tag: 0.1``
updated to ``0.2`` becomes ``tag: "0.2"``: a tag is a string, and the original
float was a latent bug (``1.10`` would have deployed ``1.1``).
"""

from __future__ import annotations

import bisect
import itertools
import re
from functools import lru_cache
from typing import Any, NamedTuple

NON_STRING = re.compile(
    r"""(?x)^(?:
      ~|null|Null|NULL
    | y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
    | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])*               # int, 1.1 sexagesimal
    | [-+]?0[xob][0-9a-fA-F_]+                          # hex, octal, binary
    | [-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?  # float
    | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])*\.[0-9_]*       # 1.1 sexagesimal float
    | [-+]?[0-9]+(?:[eE][-+]?[0-9]+)                    # 1e3
    | [-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)
    | <<|=
    )$"""
)
_PLAIN_SAFE = re.compile(r"[A-Za-z0-9_./][A-Za-z0-9_./:@+=-]*")


class Span(NamedTuple):
    """Character offsets of a scalar's value text, inside any quotes."""

    start: int
    end: int
    style: str  # plain | single | double


def needs_quotes(value: str) -> bool:
    """Whether ``value`` written plain would not read back as this string."""
    return (
        _PLAIN_SAFE.fullmatch(value) is None
        or NON_STRING.match(value) is not None
        or value.endswith(":")
    )


def span_of(text: str, node: Any) -> Span | None:
    """The value span of a scalar node, skipping ``&anchor`` / ``!tag``
    properties; None for block scalars (``|``, ``>``)."""
    start, end = int(node.start_mark.index), int(node.end_mark.index)
    while start < end and text[start] in "&!":
        while start < end and text[start] not in " \t\r\n":
            start += 1
        while start < end and text[start] in " \t\r\n":
            start += 1
    style = node.style or ""
    if style in ("|", ">"):
        return None
    if style in ('"', "'"):
        if text[start] != style or text[end - 1] != style:
            return None
        return Span(start + 1, end - 1, "double" if style == '"' else "single")
    return Span(start, end, "plain")


def render(value: str, style: str) -> str:
    """The text for ``value`` in ``style``; the span's quotes stay where they are,
    so a plain scalar that must be quoted gets its quotes here."""
    if style == "single":
        return value.replace("'", "''")
    if style == "double" or needs_quotes(value):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return escaped if style == "double" else f'"{escaped}"'
    return value


def position(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column in characters) of ``index``. The line starts of
    the last few texts are kept, so many positions in one text cost a binary
    search each, not a count from offset 0."""
    starts = _line_starts(text)
    line = bisect.bisect_right(starts, index)
    return line, index - starts[line - 1] + 1


@lru_cache(maxsize=4)
def _line_starts(text: str) -> list[int]:
    return [0, *itertools.accumulate(len(line) + 1 for line in text.split("\n")[:-1])]
