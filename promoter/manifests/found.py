"""Find the current references to an image (``status``, ``promote``'s checks):
the editable ones, those inherited by kustomize overlays without any, and
Flux substitutions followed to where the variable is set (flux.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from promoter.errors import BadYaml, InputError
from promoter.images import normalise_repository
from promoter.manifests import candidate, follow, overlay, regions, scan
from promoter.manifests.document import BOM, found_line, locate
from promoter.manifests.records import Found


def repository_files(root: Path) -> Callable[[Sequence[bytes]], Iterator[tuple[str, bytes]]]:
    """(file, bytes) of the tree's manifests holding a needle, for flux.py: one
    walk of the whole tree (only when a Flux substitution is to be followed)."""

    def files(needles: Sequence[bytes]) -> Iterator[tuple[str, bytes]]:
        try:
            for cand in scan.candidates(root, ["."], needles):
                if not cand.problem:
                    yield cand.file, cand.data
        except InputError:
            return  # a symlink out of the tree: the definitions beyond it are not read

    return files


def find_references(
    root: Path, paths: Sequence[str], repository: str, *, keys: Sequence[str] = (),
    depth: int = 8,
) -> list[Found]:
    """The current references to ``repository`` (normalised compare); for a
    kustomize overlay without any, those of its local resources (``depth``
    levels of overlays deep); a Flux ``${var}`` where the variable is set for
    ``paths``."""
    repository = normalise_repository(repository)
    found, substituted = references(root, paths, repository, keys, depth)
    if substituted:
        from promoter.manifests import flux

        found += flux.found(root, paths, substituted, repository, repository_files(root))
    return found


def substitutions(
    root: Path, paths: Sequence[str], repository: str, keys: Sequence[str] = ()
) -> list[str]:
    """The files under ``paths`` (or inherited by their overlays) whose
    reference to ``repository`` is a Flux ``${var}``."""
    return references(root, paths, normalise_repository(repository), keys, 8)[1]


def references(
    root: Path, paths: Sequence[str], repository: str, keys: Sequence[str], depth: int
) -> tuple[list[Found], list[str]]:
    """The editable references under ``paths`` (and inherited by overlays), and
    the files whose reference is a Flux substitution."""
    found: list[Found] = []
    substituted: list[str] = []
    needles = scan.needles_for(repository, keys)
    words = regions.Prefilter(tuple(needle.decode() for needle in needles), bool(keys))
    with scan.collector_paused(), contextlib.closing(scan.candidates(root, paths, needles)) as each:
        for cand in each:
            try:
                here, flux_marked = found_in(cand, repository, keys, words)
            except BadYaml as exc:
                candidate.bad_file(cand, exc)
                continue
            found += here
            if flux_marked:
                substituted.append(cand.file)
    if depth > 0:
        def finder(where: Sequence[str]) -> list[Found]:
            inner, marked = references(root, where, repository, keys, depth - 1)
            substituted.extend(marked)
            return inner

        found += overlay.inherited_refs(root, paths, found, finder)
    return found, list(dict.fromkeys(substituted))


def found_in(
    cand: candidate.Candidate, repository: str, keys: Sequence[str], words: regions.Prefilter
) -> tuple[list[Found], bool]:
    """The editable references of one file, and whether a Flux ``${var}`` stands
    for one."""
    text = candidate.decode(cand)
    found: list[Found] = []
    marked = False
    for region in regions.split(text[len(BOM):] if text.startswith(BOM) else text, words):
        if not region.wanted:
            continue
        with candidate.lines_from(region):
            located = locate(region.text, cand.file, repository, keys)
        for r in located.editable:
            line, column = found_line(region.text, r)
            found.append(Found(cand.file, line + region.line, column, r.path, r.kind, r.current))
        marked = marked or any(follow.FLUX_MARK in r.reason for r in located.refs)
    return found, marked
