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

The entry's text and the proof that it adds nothing else are in
promoter.manifests.overlay_entry.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from promoter.errors import BadYaml, InputError
from promoter.images import ImageRef
from promoter.manifests.document import BOM
from promoter.manifests.nodes import compose_all, kind_of, scalar_items, string_value
from promoter.manifests.overlay_entry import entry_edit
from promoter.manifests.records import Found, Plan, Skip

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
            edits.append(entry_edit(root, overlay, spelled[0], ref))
        except BadYaml as exc:
            skipped.append(Skip(overlay.file, exc.line, f"cannot add an images entry: {exc}"))
    return Plan(tuple(edits), tuple(skipped))
