"""What a reference is: the scalars (slots) that hold it, what it says now, and
whether a template expression makes it read-only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from promoter import images
from promoter.images import ImageRef
from promoter.manifests.nodes import string_value

EXPRESSION = re.compile(r"\{\{|\$\{|\$\(")  # {{ ... }}, ${var}, $(VAR)


@dataclass(frozen=True)
class Slot:
    """A scalar that holds part of a reference. ``role``: full | tag | digest | sha."""

    node: Any
    role: str
    path: str
    prefix: str = ""  # kept verbatim before the reference (``name=`` of Argo CD)


@dataclass(frozen=True)
class Ref:
    """One reference: where it is, what it says now, and its editable slots.
    ``mapping`` is set where a missing ``newTag`` / ``digest`` may be added."""

    kind: str
    path: str
    current: ImageRef
    slots: tuple[Slot, ...]
    mapping: Any = None
    template: str = ""  # a slot's text holding a template expression: never edited
    reason: str = ""  # why the expression could not be followed (with ``template``)
    via: str = ""  # how a followed expression led here (a note for the change)

    def slot(self, *roles: str) -> Slot | None:
        return next((s for s in self.slots if s.role in roles), None)


def full_refs(kind: str, node: Any, path: str, repository: str) -> Iterator[Ref]:
    """A scalar holding a whole reference; one with a template expression
    (``x/api:{{ .Values.tag }}``) is a Ref with ``template`` set."""
    text = string_value(node) or ""
    ref = images.try_parse(text)
    if ref is not None and ref.repository == repository:
        yield Ref(kind, path, ref, (Slot(node, "full", path),))
        return
    match = EXPRESSION.search(text) if ref is None else None
    if match:
        name = images.try_parse(text[: match.start()].rstrip(":@"))
        if name is not None and name.repository == repository:
            slot = Slot(node, "full", path)
            yield Ref(kind, path, name.with_version(None, None), (slot,), template=text)


def with_template(ref: Ref) -> Ref:
    """``ref`` with ``template`` set when one of its slots holds an expression."""
    if ref.template:
        return ref
    for slot in ref.slots:
        text = string_value(slot.node) or ""
        if EXPRESSION.search(text):
            return replace(ref, template=text)
    return ref
