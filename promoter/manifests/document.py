"""One file's text: locate the references, decide the edits, splice, prove."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from promoter import images
from promoter.errors import BadYaml, NotEditable
from promoter.images import ImageRef
from promoter.manifests import follow
from promoter.manifests.edit import (
    Assign,
    Splice,
    apply,
    assignments,
    changed,
    prove,
    splice_for,
)
from promoter.manifests.locate import Ref, refs_in, with_template
from promoter.manifests.nodes import (
    NULL_TAG,
    check_document,
    compose_all,
    kind_of,
    scalar_items,
    string_value,
    walk,
)
from promoter.manifests.records import Change, Skip
from promoter.manifests.render import position, span_of

BOM = "\ufeff"
COMPOSE = re.compile(r"(docker-)?compose(\.[\w-]+)?\.ya?ml")  # not Kubernetes: not edited
_TOKEN = re.compile(r"[^\s\"'`,;=()\[\]{}<>|]+")


class Located(NamedTuple):
    """The references in one text, with the alias pairs and skips met on the way."""

    refs: tuple[Ref, ...]
    aliases: tuple[tuple[str, str], ...]
    skips: tuple[Skip, ...]
    docs: tuple[Any, ...]

    @property
    def editable(self) -> tuple[Ref, ...]:
        """The references whose version is known (no template expression)."""
        return tuple(ref for ref in self.refs if not ref.template)


def locate(text: str, file: str, repository: str, keys: Sequence[str] = ()) -> Located:
    """Parse ``text`` (BOM removed) and find every reference to ``repository``."""
    docs = compose_all(text)
    refs: list[Ref] = []
    aliases: list[tuple[str, str]] = []
    skips: list[Skip] = []
    seen: set[int] = set()
    last = repository.rsplit("/", 1)[-1]
    compose = COMPOSE.fullmatch(file.rsplit("/", 1)[-1]) is not None
    for doc in docs:
        check_document(doc)
        for visit in walk(doc, aliases):
            node = visit.node
            kind = node.id
            if kind == "scalar":
                if node.style in ("|", ">") and last in str(node.value):
                    skips.extend(_block_refs(node, file, repository))
            elif kind == "mapping":
                for key, _ in node.value:
                    if key.value == "repository":
                        skips.extend(_untagged_helm(node, file, repository))
                        break
            for found in refs_in(visit, repository, keys):
                if compose and found.kind == "image-key":
                    continue
                ref = with_template(found)
                if ref.template:
                    ref = follow.within(ref, doc, text)
                ids = {id(slot.node) for slot in (*found.slots, *ref.slots)} - {id(None)}
                if not ids & seen:
                    refs.append(ref)
                seen |= ids
    return Located(tuple(refs), tuple(aliases), tuple(skips), tuple(docs))


def _untagged_helm(node: Any, file: str, repository: str) -> Iterator[Skip]:
    """A Helm values block naming the image's ``repository`` with no ``tag``,
    ``digest`` or ``sha`` key: nothing to edit, so reported, never silently passed."""
    if kind_of(node) != "mapping":
        return
    items = scalar_items(node)
    value = items.get("repository")
    if value is None or {"tag", "digest", "sha", "newTag", "newName"} & items.keys():
        return
    registry, name = string_value(items.get("registry")), string_value(value)
    ref = images.try_parse(f"{registry}/{name}" if registry and name else name or "")
    if ref is not None and ref.repository == repository and not (ref.tag or ref.digest):
        yield Skip(file, int(value.start_mark.line) + 1,
                   f"Helm image block with repository {name} has no tag key; not edited")


def _block_refs(node: Any, file: str, repository: str) -> Iterator[Skip]:
    value = str(node.value)
    lines: set[int] = set()
    for match in _TOKEN.finditer(value):
        ref = images.try_parse(match.group().rstrip(".:"))
        if ref is None or ref.repository != repository or not (ref.tag or ref.digest):
            continue
        line = int(node.start_mark.line) + 2 + value.count("\n", 0, match.start())
        if line not in lines:
            lines.add(line)
            yield Skip(file, line, f"reference {match.group()} inside a block scalar; not edited")


class Edited(NamedTuple):
    text: str
    changes: tuple[Change, ...]
    skips: tuple[Skip, ...]


def edit_text(
    text: str, file: str, new: ImageRef, keys: Sequence[str] = (),
    located: Located | None = None,
) -> Edited:
    """Give every reference to ``new.repository`` in ``text`` the new version."""
    bom = BOM if text.startswith(BOM) else ""
    body = text[len(bom):]
    found = located or locate(body, file, new.repository, keys)
    skips = list(found.skips)
    plans: list[tuple[str, Assign, Splice]] = []
    for ref in found.refs:
        if ref.template:
            skips.append(Skip(file, _line(ref), template_reason(ref)))
            continue
        try:
            plans.extend(
                (ref.kind, _via(a, ref), splice_for(body, a))
                for a in assignments(ref, new) if changed(a)
            )
        except NotEditable as exc:
            skips.append(Skip(file, _line(ref), str(exc)))
    if not plans:
        return Edited(text, (), tuple(skips))
    try:
        new_body = apply(body, [splice for _, _, splice in plans])
        prove(found.docs, new_body, [assign for _, assign, _ in plans], body)
    except (BadYaml, NotEditable) as exc:
        raise BadYaml(f"refusing to edit: {exc}", getattr(exc, "line", 0)) from None
    changes = []
    lead: dict[int, str] = {}  # text inserted earlier at the same offset
    for kind, assign, splice in plans:
        earlier = lead.get(splice.start, "")
        changes.append(_change(body, earlier, file, kind, assign, splice, found.aliases))
        lead[splice.start] = earlier + splice.text
    return Edited(bom + new_body, tuple(changes), tuple(skips))


def _via(assign: Assign, ref: Ref) -> Assign:
    return assign._replace(notes=(*assign.notes, ref.via)) if ref.via else assign


def template_reason(ref: Ref) -> str:
    why = f": {ref.reason}" if ref.reason else ""
    return (
        f"{ref.path} holds a template or substitution expression ({ref.template!r}){why};"
        " not edited: change the value where the expression gets it"
    )


def _line(ref: Ref) -> int:
    node = next((s.node for s in ref.slots if s.node is not None), ref.mapping)
    return int(node.start_mark.line) + 1 if node is not None else 0


def _change(
    body: str, earlier: str, file: str, kind: str, assign: Assign, splice: Splice,
    aliases: Sequence[tuple[str, str]],
) -> Change:
    """The record of one assignment; ``earlier`` is text inserted before it at
    the same offset. An added key reports the position of its value in the new
    text."""
    path = assign.slot.path
    old = ""
    if assign.mapping is not None:
        path = f"{path.rsplit('.', 1)[0]}.{assign.key}" if "." in path else assign.key
        extra = earlier + splice.text[: splice.text.index(": ") + 2]
        line, column = _after(body, splice.start, extra)
    else:
        line, column = _after(body, splice.start, earlier)
        if assign.node.tag != NULL_TAG:
            old = str(assign.node.value)
    notes = assign.notes + tuple(
        f"alias at {alias} follows this anchor"
        for anchor, alias in aliases
        if path == anchor or path.startswith((anchor + ".", anchor + "["))
    )
    return Change(file, line, column, path, kind, old, assign.value, notes)


def _after(body: str, start: int, extra: str) -> tuple[int, int]:
    """Position of the end of ``body[:start] + extra``, without building it."""
    line, column = position(body, start)
    if "\n" in extra:
        return line + extra.count("\n"), len(extra) - extra.rfind("\n")
    return line, column + len(extra)


def found_line(body: str, ref: Ref) -> tuple[int, int]:
    """Line and column of a reference's main value."""
    node = ref.slots[0].node if ref.slots and ref.slots[0].node is not None else None
    span = span_of(body, node) if node is not None else None
    if span is None:
        return _line(ref), 1
    return position(body, span.start)
