"""A kustomize overlay without an ``images`` entry for the image gets one.

``kustomize edit set image`` and Kargo's kustomize-set-image add the entry; so
does promoter, on one condition that keeps it from writing entries that do
nothing: a PATH that is a kustomization (or a directory holding
``kustomization.yaml``, ``kustomization.yml`` or ``Kustomization``), under which
no file refers to the image, whose local ``resources`` / ``bases`` /
``components`` do, in a place kustomize's image transformer rewrites (a
container's ``image``, an ``images`` entry of the base, a JSON6902 patch).
The entry's ``name`` is the name as those resources spell it (kustomize
matches names verbatim). A remote resource or a Helm chart gives no
proof, so no entry is added there.

The entry is appended: an ``images:`` block at the end of the file, or an item
at the end of an existing ``images`` list, in the file's own sequence
indentation, line endings and quoting; no other byte changes, and the result is
re-parsed to prove that only the entry was added.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from promoter.errors import BadYaml, InputError
from promoter.images import ImageRef
from promoter.manifests import held
from promoter.manifests.document import BOM
from promoter.manifests.nodes import compose_all, kind_of, scalar_items, string_value
from promoter.manifests.records import Change, FileEdit, Found, Plan, Skip
from promoter.manifests.render import position, render

NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
RESOURCE_KEYS = ("resources", "bases", "components")
RENDERED = frozenset({"container-image", "kustomize-image", "json6902"})  # what images: rewrites
Finder = Callable[[Sequence[str]], list[Found]]


class Overlay(NamedTuple):
    """A kustomization named by a PATH: its file (relative to the root) and the
    local resource paths it builds on (relative to the root)."""

    file: str
    text: str
    doc: Any
    resources: tuple[str, ...]
    remote: bool


def overlays(root: Path, paths: Sequence[str]) -> list[Overlay]:
    """The kustomizations the PATHs name (directly or as their directory)."""
    out = []
    for given in paths:
        found = _kustomization_file(root / given)
        if found is None:
            continue
        text = found.read_bytes().decode("utf-8", errors="strict")
        rel = found.relative_to(root).as_posix()
        try:
            docs = compose_all(text[len(BOM):] if text.startswith(BOM) else text)
        except BadYaml:
            continue  # the scan reports it
        if len(docs) == 1 and kind_of(docs[0]) == "mapping":
            out.append(_overlay(root, rel, text, docs[0]))
    return out


def _kustomization_file(path: Path) -> Path | None:
    if path.is_file():
        return path if path.name in NAMES else None
    if path.is_dir():
        return next((path / n for n in NAMES if (path / n).is_file()), None)
    return None


def _overlay(root: Path, rel: str, text: str, doc: Any) -> Overlay:
    base = Path(rel).parent
    local: list[str] = []
    remote = False
    items = scalar_items(doc)
    for key in RESOURCE_KEYS:
        node = items.get(key)
        for item in node.value if node is not None and kind_of(node) == "sequence" else []:
            value = string_value(item) or ""
            if "://" in value or value.startswith(("github.com/", "git@")) or "?ref=" in value:
                remote = True
            elif value:
                local.append((base / value).as_posix())
    remote = remote or "helmCharts" in items
    return Overlay(rel, text, doc, tuple(posixpath.normpath(p) for p in local), remote)


def widen(root: Path, paths: Sequence[str], checkout: Callable[[list[str]], None]) -> None:
    """For a sparse clone: call ``checkout`` with ``paths`` plus the local
    resources of the kustomizations there, until no new one appears (bounded),
    so that an overlay's base can be read."""
    wanted = list(paths)
    for _ in range(8):
        more = [p for o in overlays(root, wanted) for p in o.resources
                if p not in wanted and not p.startswith("..")]
        if not more:
            return
        wanted += dict.fromkeys(more)
        checkout(wanted)


def inherited(overlay: Overlay, root: Path, finder: Finder) -> list[Found]:
    """The references in the overlay's local resources (what it renders when it
    has no entry of its own); empty when they lead outside the root."""
    present = [p for p in overlay.resources if (root / p).exists()]
    try:
        return finder(present) if present else []
    except InputError:
        return []


def inherited_refs(
    root: Path, paths: Sequence[str], found: Sequence[Found], finder: Finder
) -> list[Found]:
    """For each PATH's kustomization under which nothing was found, the
    references of its local resources."""
    out: list[Found] = []
    for overlay in overlays(root, paths):
        if not _holds(overlay, {f.file for f in found}):
            out.extend(inherited(overlay, root, finder))
    return out


def _holds(overlay: Overlay, files: set[str]) -> bool:
    top = Path(overlay.file).parent.as_posix()
    return any(f == overlay.file or top == "." or f.startswith(top + "/") for f in files)


def add_entries(
    root: Path, paths: Sequence[str], ref: ImageRef, plan: Plan,
    referenced: Iterable[str], finder: Finder,
) -> Plan:
    """``plan`` plus an ``images`` entry in each PATH's kustomization under which
    nothing refers to ``ref``'s repository but whose local resources do."""
    referenced = set(referenced) | {e.file for e in plan.edits}
    edits, skipped = list(plan.edits), list(plan.skipped)
    for overlay in overlays(root, paths):
        if _holds(overlay, referenced):
            continue
        spelled = [f.ref.name for f in inherited(overlay, root, finder) if f.kind in RENDERED]
        if not spelled:
            continue
        try:
            edits.append(_entry_edit(root, overlay, spelled[0], ref))
        except BadYaml as exc:
            skipped.append(Skip(overlay.file, exc.line, f"cannot add an images entry: {exc}"))
    return Plan(tuple(edits), tuple(skipped))


def _entry_edit(root: Path, overlay: Overlay, name: str, ref: ImageRef) -> FileEdit:
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
