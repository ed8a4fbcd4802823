"""Follow a template expression to the value it stands for, where that value
is defined in the same file, and edit it there:

- Helm ``tpl``: ``tag: "{{ .Values.global.tag }}"`` in a values file is the
  value at ``global.tag`` of that file (only when no other place of the file
  uses ``.Values.global.tag``: editing a shared value would move other images);
- Argo CD ApplicationSet: ``'{{imageTag}}'`` (or ``{{ .imageTag }}``) in the
  template is the ``imageTag`` of the list generator's element (only when one
  element sets it; with several, one per generated Application, the element to
  edit is named with ``--key``).

The expression must be the whole version (the tag or digest value, or what
follows ``:`` / ``@`` in a full reference). Anything else, and a Flux
``${var}`` (defined in another file, see flux.py), stays a skip with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from promoter.manifests.nodes import kind_of, scalar_items, string_value
from promoter.manifests.refs import EXPRESSION, Ref, Slot

HELM_VALUE = re.compile(r"\{\{-?\s*\.Values\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*-?\}\}")
ARGO_VAR = re.compile(r"\{\{\s*\.?([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\}\}")
FLUX_VAR = re.compile(r"\$\{([A-Za-z_]\w*)(?::?[=-][^}]*)?\}")
FLUX_MARK = "is a Flux substitution"  # in the reason of a ${var} reference (flux.py follows it)


def within(ref: Ref, doc: Any, text: str) -> Ref:
    """``ref`` (which has ``template``) followed to its definition in ``doc``,
    or ``ref`` with ``reason`` set."""
    found = _expression(ref)
    if isinstance(found, str):
        return replace(ref, reason=found)
    slot, role, expr = found
    helm, argo = HELM_VALUE.fullmatch(expr), ARGO_VAR.fullmatch(expr)
    if helm:
        target = _helm_value(doc, helm.group(1), text)
    elif argo:
        target = _list_element(doc, argo.group(1))
    elif FLUX_VAR.fullmatch(expr):
        target = f"{expr} {FLUX_MARK}; its value is set where the Flux Kustomization is"
    else:
        target = f"{expr} is not a plain value reference"
    if isinstance(target, str):
        return replace(ref, reason=target)
    node, path = target
    value = string_value(node) or ""
    if EXPRESSION.search(value):
        return replace(ref, reason=f"{path}, which {expr} refers to, is itself an expression")
    current = ref.current.with_version(value or None, ref.current.digest) if role == "tag" else (
        ref.current.with_version(ref.current.tag, value or None))
    slots = tuple(Slot(node, role, path) if s is slot else s for s in ref.slots)
    return replace(ref, path=path, current=current, slots=slots, template="",
                   via=f"followed {expr} from {ref.path} to {path}")


def _expression(ref: Ref) -> tuple[Slot, str, str] | str:
    """The templated slot, the role of its expression, and the expression."""
    for slot in ref.slots:
        text = string_value(slot.node) or ""
        match = EXPRESSION.search(text)
        if match is None:
            continue
        if slot.role in ("tag", "digest"):
            return slot, slot.role, text.strip()
        name = ref.current.name
        for sep, role in ((":", "tag"), ("@", "digest")):
            if text.startswith(name + sep):
                return slot, role, text[len(name) + 1 :]
        return f"{ref.path}: the expression is not the whole version"
    return f"{ref.path}: no expression found"


def _helm_value(doc: Any, dotted: str, text: str) -> tuple[Any, str] | str:
    uses = len(re.findall(rf"\.Values\.{re.escape(dotted)}(?![\w.])", text))
    if uses > 1:
        return f"{dotted} is used by {uses} places of this file; change it there by hand"
    node: Any = doc
    for key in dotted.split("."):
        node = scalar_items(node).get(key) if kind_of(node) == "mapping" else None
        if node is None:
            return f"{dotted} is not set in this file (it may come from another values file)"
    if kind_of(node) != "scalar":
        return f"{dotted} is not a scalar"
    return node, dotted


def _list_element(doc: Any, dotted: str) -> tuple[Any, str] | str:
    items = scalar_items(doc) if kind_of(doc) == "mapping" else {}
    if string_value(items.get("kind")) != "ApplicationSet":
        return f"{dotted} is not defined in this file (not an ApplicationSet list element)"
    found = []
    for path, element in _elements(scalar_items(items.get("spec", doc)).get("generators"),
                                   "spec.generators"):
        node: Any = element
        for key in dotted.split("."):
            node = scalar_items(node).get(key) if kind_of(node) == "mapping" else None
        if node is not None and kind_of(node) == "scalar":
            found.append((node, f"{path}.{dotted}"))
    if len(found) == 1:
        return found[0]
    if not found:
        return f"{dotted} is not set by a list generator element in this file"
    return (f"{len(found)} list generator elements set {dotted} (one per Application); name"
            f" the one to edit with --key, e.g. {found[0][1]}")


def _elements(generators: Any, path: str) -> Iterator[tuple[str, Any]]:
    """``(path, element)`` of every list generator, also inside matrix/merge."""
    if generators is None or kind_of(generators) != "sequence":
        return
    for index, generator in enumerate(generators.value):
        if kind_of(generator) != "mapping":
            continue
        fields = scalar_items(generator)
        here = f"{path}[{index}]"
        listed = fields.get("list")
        elements = scalar_items(listed).get("elements") if listed is not None and kind_of(
            listed) == "mapping" else None
        if elements is not None and kind_of(elements) == "sequence":
            for n, element in enumerate(elements.value):
                yield f"{here}.list.elements[{n}]", element
        for nested in ("matrix", "merge"):
            inner = fields.get(nested)
            if inner is not None and kind_of(inner) == "mapping":
                yield from _elements(scalar_items(inner).get("generators"),
                                     f"{here}.{nested}.generators")
