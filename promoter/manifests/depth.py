"""Refuse deeply nested YAML before the C composer sees it.

ruamel.yaml's C composer recurses once per nesting level and overflows the C
stack (SIGSEGV, no message) somewhere past 20,000 levels of ``[[[...]]]`` or
``- - - ...``. Real manifests nest a few dozen levels, so anything deeper than
MAX_DEPTH is refused.

The cheap test is a bound that needs no parsing. A node's ancestors are block
collections, then flow collections. Each column holds at most two block
levels (a mapping and its indentless sequence), and a block collection starts
at a line's indentation or after compact ``- `` / ``? `` / ``: `` indicators
(two columns each): so when no line starts with PREFIX characters of
``[ \t?:-]``, block depth <= 2 * (PREFIX + 1). Each flow level needs a ``[``
or ``{`` (plus at most one implicit single-pair mapping): flow depth <= 2 *
(number of ``[`` and ``{``). Only a text whose bound exceeds MAX_DEPTH is
measured exactly, from libyaml's event stream (the C parser keeps its own
stack and does not recurse): about a quarter of the cost of composing.
"""

from __future__ import annotations

import re

MAX_DEPTH = 1000
PREFIX = 150
_BREAKS = "\r\n\x85\u2028\u2029"  # libyaml's line breaks
_LONG_PREFIX = re.compile(rf"[{_BREAKS}][ \t?:\-]{{{PREFIX}}}")
_BLOCK_BOUND = 2 * (PREFIX + 1) + 1


def too_deep(text: str) -> int | None:
    """The 1-based line where ``text`` nests deeper than MAX_DEPTH, or None."""
    flow = text.count("[") + text.count("{")
    long_prefix = _LONG_PREFIX.search("\n" + text[: PREFIX + 1])
    if _BLOCK_BOUND + 2 * flow <= MAX_DEPTH and not long_prefix and not _LONG_PREFIX.search(text):
        return None
    return _measured(text)


def _measured(text: str) -> int | None:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent

    depth = 0
    try:
        for event in YAML(typ="safe", pure=False).parse(text):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return int(event.start_mark.line) + 1
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except (YAMLError, ValueError):
        return None  # invalid YAML: the composer reports it, shallow as it got
    return None


MESSAGE = f"nesting deeper than {MAX_DEPTH} levels; not parsed"


def guard_depth(text: str, file: str) -> None:
    """Raise InputError (exit 2) naming ``file`` when ``text`` nests too deep."""
    from promoter.errors import InputError

    line = too_deep(text)
    if line is not None:
        raise InputError(f"{file}:{line}: {MESSAGE}; flatten the file")
