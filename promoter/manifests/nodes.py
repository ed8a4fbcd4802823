"""YAML node trees: walk them, guard them (duplicate keys, alias bombs) and
read their values. Composing is composer.py's.

Aliases are never expanded: an alias is the anchored node object itself, so
every walk here remembers the nodes it has seen and visits each one once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from promoter.errors import BadYaml
from promoter.manifests.composer import (
    MAX_EXPANDED_NODES,
    MERGE_TAG,
    NULL_TAG,
    NULLS,
    STR_TAG,
    TAG_TEXTS,
    bad_yaml,
    compose_all,
)

__all__ = ["MERGE_TAG", "NULLS", "NULL_TAG", "STR_TAG", "bad_yaml", "compose_all"]


def kind_of(node: Any) -> str:
    """``scalar``, ``sequence`` or ``mapping``."""
    return str(node.id)


def tag_of(node: Any) -> str | None:
    """``node.tag`` without building the string for the resolver's own tags (a
    property and two calls in ruamel for every key of every mapping)."""
    text = TAG_TEXTS.get(id(node.ctag))
    return text if text is not None else node.tag


def line_of(node: Any) -> int:
    return int(node.start_mark.line) + 1


def check_document(doc: Any) -> None:
    """Refuse duplicate keys and alias bombs, visiting each node once."""
    seen: set[int] = set()
    shared = False
    stack = [doc]
    while stack:
        node = stack.pop()
        kind = node.id
        if kind == "mapping":
            _check_keys(node)
            children = [part for pair in node.value for part in pair if part.id != "scalar"]
        elif kind == "sequence":
            children = [child for child in node.value if child.id != "scalar"]
        else:
            continue  # a scalar document
        for child in children:
            if id(child) in seen:
                shared = True
            else:
                seen.add(id(child))
                stack.append(child)
    if shared:
        _check_expansion(doc)


def _check_expansion(doc: Any) -> None:
    """The node count with every alias expanded must stay under the limit."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(doc, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes and not done:
            continue
        children = _children(node, node.id)
        if not done:
            sizes[id(node)] = 0  # in progress: a recursive alias counts 0 here
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        total = 1 + sum(sizes.get(id(child), 1) for child in children)
        if total > MAX_EXPANDED_NODES:
            raise BadYaml(
                f"aliases expand to more than {MAX_EXPANDED_NODES} nodes (alias bomb?)",
                line_of(node),
            )
        sizes[id(node)] = total


def _children(node: Any, kind: str) -> list[Any]:
    if kind == "sequence":
        return list(node.value)
    if kind == "mapping":
        return [part for pair in node.value for part in pair]
    return []


def _check_keys(node: Any) -> None:
    names = [key.value for key, _ in node.value if key.id == "scalar"]
    if len(set(names)) == len(names):
        return  # no two keys with the same text: no duplicate, whatever their tags
    seen: set[tuple[str | None, str]] = set()
    for key, _ in node.value:
        if key.id != "scalar":
            continue
        tag = tag_of(key)
        if tag == MERGE_TAG:
            continue
        marker = (tag, key.value)
        if marker in seen:
            raise BadYaml(f"duplicate key {key.value!r}", line_of(key))
        seen.add(marker)


class Visit(NamedTuple):
    """One node reached by a walk: its key path, parent key and ancestors' keys."""

    node: Any
    path: str
    keys: tuple[str, ...]  # mapping keys from the root, sequence indices left out


_visit = tuple.__new__  # Visit(...) without the NamedTuple's Python-level __new__


def walk(doc: Any, aliases: list[tuple[str, str]]) -> Iterator[Visit]:
    """Depth-first, document order; each node once. A node reached again (an
    alias) is not descended; ``(first_path, alias_path)`` is appended to
    ``aliases``. ``status`` subtrees are never entered. (This runs for every
    node of every composed document: written for speed.)"""
    first: dict[int, str] = {}
    stack: list[Visit] = [_visit(Visit, (doc, "", ()))]
    pop, push = stack.pop, stack.append
    while stack:
        visit = pop()
        node, path, keys = visit
        if id(node) in first:
            aliases.append((first[id(node)], path))
            continue
        first[id(node)] = path
        yield visit
        kind = node.id
        if kind == "mapping":
            stack += _map_children(node, path + "." if path else "", keys)
        elif kind == "sequence":
            children = node.value
            for i in range(len(children) - 1, -1, -1):
                push(_visit(Visit, (children[i], f"{path}[{i}]", keys)))


def _map_children(node: Any, prefix: str, keys: tuple[str, ...]) -> list[Visit]:
    """The entries to visit, last first (a merge key, a non-scalar key and
    ``status`` are not)."""
    out = []
    for key, value in reversed(node.value):
        if key.id != "scalar":
            continue
        name = key.value
        if name == "status" or (
            (name == "<<" or id(key.ctag) not in TAG_TEXTS) and tag_of(key) == MERGE_TAG
        ):  # the resolver's merge tag is only ever on ``<<``; explicit tags are checked
            continue
        name = str(name)
        out.append(_visit(Visit, (value, prefix + name, (*keys, name))))
    return out


def scalar_items(node: Any) -> dict[str, Any]:
    """A mapping's scalar-keyed entries: key text -> value node."""
    return {
        str(key.value): value
        for key, value in node.value
        if key.id == "scalar" and tag_of(key) != MERGE_TAG
    }


def string_value(node: Any) -> str | None:
    """The value of a scalar node, or None for collections and nulls."""
    if node is None or node.id != "scalar" or tag_of(node) == NULL_TAG:
        return None
    return str(node.value)
