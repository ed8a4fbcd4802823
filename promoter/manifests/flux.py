"""Follow a Flux post-build substitution (``newTag: ${api_tag}``) to where the
variable is set, and edit it there: ``spec.postBuild.substitute.<var>`` of a
Flux Kustomization, or ``data`` / ``stringData`` of a ConfigMap or Secret it
names in ``substituteFrom``, when that lives in the repository as plain YAML.

Which Flux Kustomization: one that points at the app, i.e. whose
``spec.path`` holds the file with the reference, or is one of the app's PATHs,
inside one or holding one (so a ``${var}`` in a base shared by several
environments is set where the environment's overlay is applied);
``substitute`` before ``substituteFrom``, as Flux applies them. Without one,
the only definition in the repository. Several candidates, a definition that
is itself an expression, or none at all (the variable may come from the
cluster) stay a skip with the reason.

The definitions are searched in the whole tree, in one walk per plan, and only
when a substitution is to be followed. A sparse clone holds only the app's
paths: ``widen`` checks the whole tree out first when (and only when) the
app's references are Flux substitutions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from promoter.errors import BadYaml
from promoter.images import ImageRef
from promoter.manifests import held
from promoter.manifests.document import (
    BOM,
    Located,
    edit_text,
    found_line,
    locate,
    template_reason,
)
from promoter.manifests.follow import FLUX_MARK, FLUX_VAR
from promoter.manifests.nodes import compose_all, kind_of, scalar_items, string_value
from promoter.manifests.records import FileEdit, Found, Plan, Skip
from promoter.manifests.refs import EXPRESSION, Ref, Slot

Files = Callable[[Sequence[bytes]], Iterable[tuple[str, bytes]]]  # needles -> (file, data)


@dataclass(frozen=True)
class Definition:
    file: str
    path: str  # key path in the file
    node: Any
    docs: tuple[Any, ...]
    covers: str  # the spec.path of the Flux Kustomization that applies it
    order: int  # 0 substitute, 1 substituteFrom
    data: bytes  # the file's bytes


def follow(
    root: Path, paths: Sequence[str], plan: Plan, pending: Sequence[str], new: ImageRef,
    files: Files,
) -> Plan:
    """``plan`` (over ``paths``) with the Flux-substituted references of the
    files in ``pending`` followed to their definitions and edited there, where
    that can be done safely; skips for the others."""
    chosen, skips, definitions = _resolve(root, paths, pending, new.repository, files)
    skipped = [s for s in plan.skipped if FLUX_MARK not in s.reason] + skips
    edits = list(plan.edits)
    for file, refs in chosen.items():
        _add(root, edits, skipped, file, refs, new, definitions)
    return Plan(tuple(edits), tuple(skipped))


def widen(
    root: Path, paths: Sequence[str], repository: str, checkout: Callable[[list[str]], None],
    keys: Sequence[str] = (),
) -> bool:
    """For a sparse clone: when a reference to ``repository`` under ``paths``
    (or the resources of their overlays) is a Flux ``${var}``, call
    ``checkout(["./"])`` for the whole tree, and say so. The Flux Kustomization
    (or the ConfigMap) that sets it may live anywhere, and a blobless clone can
    search only the files it has; without a substitution nothing more is
    fetched."""
    from promoter.manifests.found import substitutions

    present = [p for p in paths if (root / p).exists()]  # status skips missing ones
    if not present or not substitutions(root, present, repository, keys):
        return False
    checkout(["./"])  # the root as git names it
    return True


def found(
    root: Path, paths: Sequence[str], pending: Sequence[str], repository: str, files: Files
) -> list[Found]:
    """The followed references of the files in ``pending``, at their definitions."""
    chosen, _, definitions = _resolve(root, paths, pending, repository, files)
    out = []
    for file, refs in chosen.items():
        body = next(d for ds in definitions.values() for d in ds if d.file == file).data.decode()
        for ref in refs:
            line, column = found_line(body.removeprefix(BOM), ref)
            out.append(Found(file, line, column, ref.path, ref.kind, ref.current))
    return out


def _resolve(
    root: Path, paths: Sequence[str], pending: Sequence[str], repository: str, files: Files
) -> tuple[dict[str, list[Ref]], list[Skip], dict[str, list[Definition]]]:
    """Definition file -> the followed refs; skips for the rest; the definitions."""
    wanted: dict[str, list[tuple[Ref, str]]] = {}
    for file in dict.fromkeys(pending):
        for ref, var in _flux_refs(root, file, repository):
            wanted.setdefault(var, []).append((ref, file))
    definitions = _definitions(files, list(wanted))
    chosen: dict[str, list[Ref]] = {}
    skips = []
    for var, uses in wanted.items():
        for ref, file in uses:
            choice = _choose(definitions.get(var, []), file, var, paths)
            if isinstance(choice, str):
                skips.append(Skip(file, _line(ref), template_reason(replace(ref, reason=choice))))
            else:
                chosen.setdefault(choice.file, []).append(_followed(ref, choice, var))
    return chosen, skips, definitions


def _flux_refs(root: Path, file: str, repository: str) -> Iterator[tuple[Ref, str]]:
    text = (root / file).read_bytes().decode("utf-8")
    located = locate(text.removeprefix(BOM), file, repository)
    for ref in located.refs:
        match = FLUX_VAR.search(ref.template) if ref.template and FLUX_MARK in ref.reason else None
        if match:
            yield ref, match.group(1)


def _definitions(files: Files, names: list[str]) -> dict[str, list[Definition]]:
    """var -> where Flux Kustomizations (and the ConfigMaps they name) set it."""
    out: dict[str, list[Definition]] = {}
    maps: dict[str, list[tuple[str, str, dict[str, Any], tuple[Any, ...], bytes]]] = {}
    kustomizations = []
    for file, data in files([b"substituteFrom", *(name.encode() for name in names)]):
        try:
            docs = tuple(compose_all(data.decode("utf-8").removeprefix(BOM)))
        except (BadYaml, UnicodeDecodeError):
            continue
        for index, doc in enumerate(docs):
            items = _items(doc)
            kind, api = string_value(items.get("kind")), string_value(items.get("apiVersion")) or ""
            prefix = f"[{index}]." if len(docs) > 1 else ""
            if kind == "Kustomization" and api.startswith("kustomize.toolkit.fluxcd.io/"):
                kustomizations.append((file, prefix, items, docs, data))
            elif kind in ("ConfigMap", "Secret"):
                name = string_value(_items(items.get("metadata")).get("name")) or ""
                maps.setdefault(name, []).append((file, prefix, items, docs, data))
    for file, prefix, items, docs, data in kustomizations:
        spec = _items(items.get("spec"))
        covers = _normal(string_value(spec.get("path")) or ".")
        post = _items(spec.get("postBuild"))
        for var, node in _items(post.get("substitute")).items():
            if var in names:
                path = f"{prefix}spec.postBuild.substitute.{var}"
                out.setdefault(var, []).append(Definition(file, path, node, docs, covers, 0, data))
        for source in _sequence(post.get("substituteFrom")):
            name = string_value(_items(source).get("name")) or ""
            for map_file, map_prefix, map_items, map_docs, map_data in maps.get(name, []):
                secret = string_value(map_items.get("kind")) == "Secret"
                for key in ("stringData",) if secret else ("data",):  # Secret data is base64
                    for var, node in _items(map_items.get(key)).items():
                        if var in names:
                            out.setdefault(var, []).append(Definition(
                                map_file, f"{map_prefix}{key}.{var}", node, map_docs, covers, 1,
                                map_data))
    return out


def _items(node: Any) -> dict[str, Any]:
    return scalar_items(node) if node is not None and kind_of(node) == "mapping" else {}


def _sequence(node: Any) -> list[Any]:
    if node is None or kind_of(node) != "sequence":
        return []
    return [item for item in node.value if kind_of(item) == "mapping"]


def _normal(path: str) -> str:
    return PurePosixPath(path.lstrip("/")).as_posix().removeprefix("./") or "."


def _choose(
    found: list[Definition], file: str, var: str, paths: Sequence[str]
) -> Definition | str:
    """The definition that applies to ``file`` as the app's ``paths`` deploy it:
    from a Flux Kustomization pointing at them (its path holds ``file``, or is
    one of ``paths``, inside one or holding one; substitute first), else the
    only one in the repository."""
    if not found:
        return (f"{var} is not set by a Flux Kustomization or a ConfigMap of this repository"
                " (it may come from the cluster); set it there")
    covering = [d for d in found if _inside(file, d.covers) or any(
        _inside(_normal(p), d.covers) or _inside(d.covers, _normal(p)) for p in paths)]
    if covering:
        best = min(d.order for d in covering)
        found = [d for d in covering if d.order == best]
    unique = {(d.file, d.path): d for d in found}
    if len(unique) != 1:
        where = ", ".join(f"{f}:{p}" for f, p in unique)
        return f"{var} is set in several places ({where}); change the right one by hand"
    definition = next(iter(unique.values()))
    if EXPRESSION.search(string_value(definition.node) or ""):
        return f"{definition.file}:{definition.path} is itself an expression"
    return definition


def _inside(file: str, directory: str) -> bool:
    return directory == "." or file == directory or file.startswith(directory + "/")


def _followed(ref: Ref, definition: Definition, var: str) -> Ref:
    text = string_value(next(s.node for s in ref.slots if s.role in ("tag", "digest", "full")))
    role = "digest" if text and "@${" in text else "tag"
    value = string_value(definition.node) or None
    current = ref.current.with_version(value, None) if role == "tag" else (
        ref.current.with_version(ref.current.tag, value))
    slot = Slot(definition.node, role, definition.path)
    via = f"followed ${{{var}}} from {ref.path} to {definition.file}:{definition.path}"
    return Ref("flux-substitute", definition.path, current, (slot,), via=via)


def _add(
    root: Path, edits: list[FileEdit], skipped: list[Skip], file: str, refs: list[Ref],
    new: ImageRef, definitions: dict[str, list[Definition]],
) -> None:
    """Edit the definitions in ``file`` (one FileEdit), unless the plan edits it already."""
    first = next(d for ds in definitions.values() for d in ds if d.file == file)
    unique = list({id(r.slots[0].node): r for r in refs}.values())
    if any(e.file == file for e in edits):
        skipped.extend(Skip(file, _line(r), f"{r.path}: the file is edited already; change"
                            " it by hand") for r in unique)
        return
    located = Located(tuple(unique), (), (), first.docs)
    try:
        result = edit_text(first.data.decode("utf-8"), file, new, (), located)
    except BadYaml as exc:
        skipped.append(Skip(file, exc.line, exc.reason))
        return
    skipped.extend(result.skips)
    if result.changes:
        edits.append(held.file_edit(file, root / file, first.data, result.text.encode("utf-8"),
                                    result.changes))


def _line(ref: Ref) -> int:
    node = ref.slots[0].node
    return int(node.start_mark.line) + 1 if node is not None else 0
