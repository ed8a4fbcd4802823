"""The ``images`` entry promoter adds to a kustomize overlay that has none
(promoter.manifests.overlay decides where one is needed).

The entry is appended: an ``images:`` block at the end of the file, or an item
at the end of an existing ``images`` list, in the file's own sequence
indentation, line endings and quoting; no other byte changes, and the result is
re-parsed to prove that only the entry was added.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promoter.errors import BadYaml
from promoter.images import ImageRef
from promoter.manifests import held
from promoter.manifests.document import BOM
from promoter.manifests.nodes import compose_all, kind_of, scalar_items
from promoter.manifests.records import Change, FileEdit
from promoter.manifests.render import position, render

if TYPE_CHECKING:
    from promoter.manifests.overlay import Overlay


def entry_edit(root: Path, overlay: Overlay, name: str, ref: ImageRef) -> FileEdit:
    """The edit that appends an ``images`` entry for ``ref``, spelled ``name``, to
    ``overlay``; BadYaml when the file's layout gives no safe place for it."""
    text = overlay.text
    bom = BOM if text.startswith(BOM) else ""
    body = text[len(bom):]
    fields = [("name", name)] + [(k, v) for k, v in (("newTag", ref.tag), ("digest", ref.digest))
                                 if v]
    at, insert, index = _insertion(body, overlay.doc, fields)
    new_body = body[:at] + insert + body[at:]
    _prove(overlay.doc, new_body, fields)
    changes = []
    for key, value in fields[1:]:
        offset = at + insert.index(f"{key}: ") + len(key) + 2
        line, column = position(new_body, offset + (new_body[offset] in "'\""))
        note = f"images entry added for {name}: the overlay had none"
        changes.append(Change(overlay.file, line, column, f"images[{index}].{key}",
                              "kustomize-image", "", value, (note,)))
    before = text.encode("utf-8")
    return held.file_edit(overlay.file, root / overlay.file, before,
                          (bom + new_body).encode("utf-8"), changes)


def _insertion(body: str, doc: Any, fields: list[tuple[str, str]]) -> tuple[int, str, int]:
    """(offset, text, index of the new item) for the entry."""
    newline = "\r\n" if "\r\n" in body else "\n"
    if doc.flow_style:
        raise BadYaml("the kustomization is a flow mapping")
    images = scalar_items(doc).get("images")
    if images is None:
        return _new_block(body, doc, fields, newline)
    if kind_of(images) != "sequence":
        raise BadYaml("images is not a list", int(images.start_mark.line) + 1)
    if images.flow_style:
        return _flow_item(body, images, fields)
    return _block_item(body, images, fields, newline)


def _style(nodes: Iterable[Any]) -> str:
    """The quoting most of these scalars use: plain, single or double."""
    counts = {"plain": 0, "single": 0, "double": 0}
    for node in nodes:
        if kind_of(node) == "scalar" and node.style not in ("|", ">"):
            counts[{"'": "single", '"': "double"}.get(node.style or "", "plain")] += 1
    return max(counts, key=lambda k: (counts[k], k == "plain"))


def _scalar(value: str, style: str) -> str:
    if style == "plain":
        return render(value, "plain")
    quote = '"' if style == "double" else "'"
    return quote + render(value, style) + quote


def _flow_scalar(value: str, style: str) -> str:
    """A colon inside a flow collection is quoted: YAML 1.1 parsers reject it."""
    return _scalar(value, "double" if style == "plain" and ":" in value else style)


def _values(doc: Any) -> list[Any]:
    """The scalars whose quoting a new list should copy: list items (such as
    ``resources``) first, else the top-level values."""
    items = [i for _, v in doc.value if kind_of(v) == "sequence" for i in v.value]
    return items or [v for _, v in doc.value]


def _new_block(
    body: str, doc: Any, fields: list[tuple[str, str]], newline: str
) -> tuple[int, str, int]:
    style = _style(_values(doc))
    dash = _sequence_indent(body, doc)
    key_col = int(doc.value[0][0].start_mark.column)
    if key_col:
        raise BadYaml("the kustomization's keys are indented")
    lines = [f"{' ' * dash}{'- ' if i == 0 else '  '}{k}: {_scalar(v, style)}"
             for i, (k, v) in enumerate(fields)]
    block = newline.join(["images:", *lines])
    if body and not body.endswith("\n"):
        return len(body), newline + block, 0
    return len(body), block + newline, 0


def _sequence_indent(body: str, doc: Any) -> int:
    """How far the file indents block sequence items under their key (0 or 2...)."""
    for key, value in doc.value:
        if kind_of(value) == "sequence" and not value.flow_style and value.value:
            first = value.value[0]
            line_start = body.rfind("\n", 0, int(first.start_mark.index)) + 1
            dash = body.find("-", line_start, int(first.start_mark.index))
            if dash >= 0:
                return dash - line_start - int(key.start_mark.column)
    return 0


def _block_item(
    body: str, images: Any, fields: list[tuple[str, str]], newline: str
) -> tuple[int, str, int]:
    first, last = images.value[0], images.value[-1]
    if kind_of(first) != "mapping" or kind_of(last) != "mapping" or first.flow_style:
        raise BadYaml("the images list holds no block mappings", int(first.start_mark.line) + 1)
    key_col = int(first.value[0][0].start_mark.column)
    line_start = body.rfind("\n", 0, int(first.start_mark.index)) + 1
    dash = body.rfind("-", line_start, int(first.value[0][0].start_mark.index))
    if dash < 0:
        raise BadYaml("cannot find the images list's dash", int(first.start_mark.line) + 1)
    style = _style(v for _, v in first.value)
    end_node = last.value[-1][1]
    if kind_of(end_node) != "scalar" or end_node.style in ("|", ">"):
        raise BadYaml("the last images entry ends in a nested value", int(last.start_mark.line) + 1)
    lines = [f"{' ' * (dash - line_start)}- {fields[0][0]}: {_scalar(fields[0][1], style)}"]
    lines += [f"{' ' * key_col}{k}: {_scalar(v, style)}" for k, v in fields[1:]]
    end = body.find("\n", int(end_node.end_mark.index))
    if end < 0:
        return len(body), newline + newline.join(lines), len(images.value)
    return end + 1, newline.join(lines) + newline, len(images.value)


def _flow_item(body: str, images: Any, fields: list[tuple[str, str]]) -> tuple[int, str, int]:
    close = int(images.end_mark.index) - 1
    if body[close] != "]":
        raise BadYaml("cannot find the end of the images list", int(images.start_mark.line) + 1)
    style = _style(v for item in images.value if kind_of(item) == "mapping" for _, v in item.value)
    entry = "{" + ", ".join(f"{k}: {_flow_scalar(v, style)}" for k, v in fields) + "}"
    at = len(body[:close].rstrip(" "))
    return at, (", " if images.value else "") + entry, len(images.value)


def _plain(node: Any) -> Any:
    kind = kind_of(node)
    if kind == "scalar":
        return (str(node.tag), node.value)
    if kind == "sequence":
        return [_plain(item) for item in node.value]
    return [(_plain(k), _plain(v)) for k, v in node.value]


def _prove(old: Any, new_body: str, fields: list[tuple[str, str]]) -> None:
    """The new text parses to the old kustomization plus exactly the entry."""
    docs = compose_all(new_body)
    entry = [(("tag:yaml.org,2002:str", k), ("tag:yaml.org,2002:str", v)) for k, v in fields]
    want = _plain(old)
    images = next((i for i, (k, _) in enumerate(want) if k[1] == "images"), None)
    if images is None:
        want.append((("tag:yaml.org,2002:str", "images"), [entry]))
    else:
        want[images][1].append(entry)
    if len(docs) != 1 or _plain(docs[0]) != want:
        raise BadYaml("adding the images entry would change more than the entry")
