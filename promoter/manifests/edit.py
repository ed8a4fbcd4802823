"""Decide the new value of each slot of a reference, splice the new texts into
the original string (last span first), re-parse, and prove that exactly the
intended values changed. Never re-serialise."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from promoter.errors import BadYaml, NotEditable
from promoter.images import ImageRef
from promoter.manifests.locate import Ref, Slot
from promoter.manifests.nodes import (
    STR_TAG,
    compose_all,
    kind_of,
    line_of,
    string_value,
    tag_of,
)
from promoter.manifests.render import needs_quotes, render, span_of

STALE = "stale digest {} removed: the new reference gives only a tag"
STALE_TAG = "stale tag {} removed: the new reference gives only a digest"


class Assign(NamedTuple):
    """One scalar gets a new value; or, with ``mapping``, a key is added to it."""

    node: Any
    value: str
    slot: Slot
    notes: tuple[str, ...] = ()
    mapping: Any = None
    key: str = ""


def assignments(ref: Ref, new: ImageRef) -> list[Assign]:
    """What to write for ``ref`` so that it says ``new``'s version."""
    full = ref.slot("full")
    if full is not None:
        return _full(ref, full, new)
    return _split(ref, new)


def _full(ref: Ref, slot: Slot, new: ImageRef) -> list[Assign]:
    value = slot.prefix + ref.current.name + _suffix(new.tag, new.digest)
    return [Assign(slot.node, value, slot, _stale(ref.current, new))]


def _stale(current: ImageRef, new: ImageRef) -> tuple[str, ...]:
    """Notes for the part of the current reference that the new one drops."""
    if current.digest and not new.digest:
        return (STALE.format(current.digest),)
    if current.tag and not new.tag:
        return (STALE_TAG.format(current.tag),)
    return ()


def _suffix(tag: str | None, digest: str | None) -> str:
    return (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def _split(ref: Ref, new: ImageRef) -> list[Assign]:
    """Tag and digest in their own slots. A part the new reference lacks is
    stale and emptied (``tag: ""``, ``newTag: ""``, ``digest: ""``)."""
    tag_slot, digest_slot = ref.slot("tag"), ref.slot("digest", "sha")
    notes = _stale(ref.current, new)
    if new.tag is None:
        return _digest_only(ref, tag_slot, digest_slot, new, notes)
    tag_value = new.tag
    if new.digest and digest_slot is None and ref.mapping is None:
        tag_value += f"@{new.digest}"
    out = [_set_or_add(ref, tag_slot, "newTag", tag_value, notes)]
    if digest_slot is not None:
        if new.digest or string_value(digest_slot.node):
            out.append(Assign(digest_slot.node, _digest_text(new.digest, digest_slot), digest_slot))
    elif new.digest and ref.mapping is not None:
        out.append(_set_or_add(ref, None, "digest", new.digest, ()))
    return out


def _digest_only(
    ref: Ref, tag_slot: Slot | None, digest_slot: Slot | None, new: ImageRef,
    notes: tuple[str, ...],
) -> list[Assign]:
    assert new.digest is not None
    if digest_slot is None and ref.mapping is None:
        raise NotEditable(
            f"{ref.path}: no digest key beside the tag, so {new.digest} could only be"
            f" written as tag@digest, keeping a stale tag; promote tag@digest,"
            " or add a digest key"
        )
    out = []
    if tag_slot is not None and string_value(tag_slot.node):
        out.append(Assign(tag_slot.node, "", tag_slot, notes))
        notes = ()
    text = _digest_text(new.digest, digest_slot) if digest_slot else new.digest
    out.append(_set_or_add(ref, digest_slot, "digest", text, notes))
    return out


def _digest_text(digest: str | None, slot: Slot) -> str:
    if not digest:
        return ""
    return digest.partition(":")[2] if slot.role == "sha" else digest


def _set_or_add(
    ref: Ref, slot: Slot | None, key: str, value: str, notes: tuple[str, ...]
) -> Assign:
    if slot is not None:
        return Assign(slot.node, value, slot, notes)
    if ref.mapping is None:
        raise NotEditable(f"{ref.path}: no {'tag' if key == 'newTag' else key} key to set")
    return Assign(None, value, Slot(None, key, ref.path), notes, ref.mapping, key)


def changed(assign: Assign) -> bool:
    return assign.mapping is not None or string_value(assign.node) != assign.value or (
        assign.node.tag != STR_TAG
    )


class Splice(NamedTuple):
    start: int
    end: int
    text: str


def splice_for(text: str, assign: Assign) -> Splice:
    """The text replacement that performs ``assign``."""
    if assign.mapping is not None:
        return _insertion(text, assign)
    span = span_of(text, assign.node)
    if span is None:
        raise NotEditable(f"{assign.slot.path}: value is a block scalar")
    rendered = render(assign.value, span.style)
    if span.start == span.end and span.style == "plain" and text[span.start - 1] == ":":
        rendered = " " + rendered  # an empty (null) value right after its key
    return Splice(span.start, span.end, rendered)


def _insertion(text: str, assign: Assign) -> Splice:
    mapping = assign.mapping
    value = f'"{assign.value}"' if needs_quotes(assign.value) or _quoted(mapping) else assign.value
    if mapping.flow_style:
        close = int(mapping.end_mark.index) - 1
        if text[close] != "}":
            raise NotEditable(f"{assign.slot.path}: cannot add {assign.key}")
        before = text[:close].rstrip(" ")
        return Splice(len(before), len(before), f", {assign.key}: {value}")
    last = mapping.value[-1][1]
    if kind_of(last) != "scalar" or last.style in ("|", ">"):
        raise NotEditable(f"{assign.slot.path}: cannot add {assign.key} after a nested value")
    indent = " " * int(mapping.value[0][0].start_mark.column)
    end = text.find("\n", int(last.end_mark.index))
    if end < 0:
        newline = "\r\n" if "\r\n" in text else "\n"
        return Splice(len(text), len(text), f"{newline}{indent}{assign.key}: {value}")
    newline = "\r\n" if text[end - 1 : end] == "\r" else "\n"
    return Splice(end + 1, end + 1, f"{indent}{assign.key}: {value}{newline}")


def _quoted(mapping: Any) -> bool:
    first = mapping.value[0][1]
    return kind_of(first) == "scalar" and first.style == '"'


def apply(text: str, splices: Sequence[Splice]) -> str:
    """Splice replacements into ``text``, last first; spans must not overlap."""
    indexed = sorted(enumerate(splices), key=lambda p: (p[1].start, p[1].end, p[0]), reverse=True)
    ordered = [splice for _, splice in indexed]
    for later, earlier in itertools.pairwise(ordered):
        if earlier.end > later.start:
            raise NotEditable("two edits overlap")
    pieces: list[str] = []
    end = len(text)
    for splice in ordered:  # last first: collect the pieces backwards, join once
        pieces += (text[splice.end : end], splice.text)
        end = splice.start
    pieces.append(text[:end])
    return "".join(reversed(pieces))


def prove(
    old_docs: Sequence[Any], new_text: str, assigns: Sequence[Assign], old_text: str | None = None
) -> None:
    """Re-parse ``new_text``; exactly the assigned values may differ. With
    ``old_text`` (the text of ``old_docs``) and no ``*`` in either text, neither
    tree can hold an alias, and the pairing skips the check that a node shared
    in one tree is shared alike in the other."""
    new_docs = compose_all(new_text)
    shared = old_text is None or "*" in old_text or "*" in new_text
    values = {id(a.node): a.value for a in assigns if a.mapping is None}
    added: dict[int, list[Assign]] = {}
    for assign in assigns:
        if assign.mapping is not None:
            added.setdefault(id(assign.mapping), []).append(assign)
    if len(new_docs) != len(old_docs):
        raise BadYaml("the edit changed the number of documents")
    pairs: dict[int, int] = {}
    stack = list(zip(old_docs, new_docs, strict=True))
    pop = stack.pop
    while stack:
        old, new = pop()
        if shared:
            if id(old) in pairs:
                if pairs[id(old)] != id(new):
                    raise BadYaml("the edit changed an alias")
                continue
            pairs[id(old)] = id(new)
        if (old.id == "scalar" and new.id == "scalar" and old.ctag is new.ctag
                and old.value == new.value and id(old) not in values):
            continue  # the usual pair, equal (what _pair would find, without the call)
        children = _pair(old, new, values, added)
        if shared:
            stack.extend(children)
        else:  # the same test as above, without a round through the stack
            stack += [(o, n) for o, n in children
                      if not (o.id == "scalar" and n.id == "scalar" and o.ctag is n.ctag
                              and o.value == n.value and id(o) not in values)]


def _pair(
    old: Any, new: Any, values: dict[int, str], added: dict[int, list[Assign]]
) -> list[Any] | Iterator[tuple[Any, Any]]:
    kind = old.id
    if kind != new.id or (old.ctag is not new.ctag and old.tag != new.tag
                          and id(old) not in values):
        raise BadYaml("the edit changed the structure", line_of(new))
    if kind == "scalar":
        want = values.get(id(old), old.value)
        if new.value != want or (id(old) in values and tag_of(new) != STR_TAG):
            raise BadYaml(f"the edit changed a value to {new.value!r}", line_of(new))
        return []
    if kind == "sequence":
        olds, news = old.value, new.value
    else:
        olds = [p for pair in old.value for p in pair]
        news = [p for pair in new.value for p in pair]
        extra = added.get(id(old), [])
        if extra:
            tail = news[len(news) - 2 * len(extra) :]
            got = [(k.value, v.value, v.tag) for k, v in zip(tail[::2], tail[1::2], strict=True)]
            if got != [(a.key, a.value, STR_TAG) for a in extra]:
                raise BadYaml("the added key is not what was intended", line_of(new))
            news = news[: len(news) - 2 * len(extra)]
    if len(olds) != len(news):
        raise BadYaml("the edit changed the structure", line_of(new))
    return zip(olds, news, strict=True)
