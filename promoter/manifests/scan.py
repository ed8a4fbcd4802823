"""Walk a tree fast and plan an update: a text prefilter, then parse only the
candidates.

The last path component of the repository (``api`` of ``ghcr.io/acme/api``)
appears verbatim in every spelling of a reference, so a file without it (as
bytes) is never parsed. Directories are walked for ``*.yaml``, ``*.yml``,
``*.json`` and files named ``Kustomization``, skipping ``.git``.

Symlinks: a PATH, or a symlink met while walking, that resolves outside the
root is an InputError. Symlinks that stay inside the tree are not followed
while walking (their targets are visited where they live, once); a PATH that
is such a symlink is used as its target.

Files that cannot be edited (invalid YAML or UTF-8, duplicate keys, alias
bombs, over MAX_BYTES) are reported in ``skipped`` when met while walking a
directory, and are an InputError when named as a PATH.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from promoter.errors import ConflictError, InputError
from promoter.images import ImageRef, normalise_repository
from promoter.manifests import flux, overlay
from promoter.manifests.document import BOM, edit_text, found_line, locate
from promoter.manifests.locate import Ref
from promoter.manifests.nodes import BadYaml
from promoter.manifests.records import FileEdit, Found, Plan, Skip

MAX_BYTES = 8 * 1024 * 1024
CHUNK = 64 * 1024
SUFFIXES = (".yaml", ".yml", ".json")
NAMES = frozenset({"Kustomization"})


@dataclass(frozen=True)
class Candidate:
    path: Path  # absolute
    file: str  # posix, relative to the root
    explicit: bool
    data: bytes


def plan_update(
    root: Path, paths: Sequence[str], ref: ImageRef, *,
    keys: Sequence[str] = (), expect: str | None = None,
) -> Plan:
    """Plan giving every reference to ``ref.repository`` under ``paths`` the
    version of ``ref``. Pure: writes nothing."""
    edits: list[FileEdit] = []
    skipped: list[Skip] = []
    referenced: list[str] = []  # files holding a reference, edited or not
    for cand in candidates(root, paths, _needles(ref.repository, keys)):
        try:
            text = _decode(cand)
            body = text[len(BOM):] if text.startswith(BOM) else text
            located = locate(body, cand.file, ref.repository, keys)
            if expect is not None:
                _check_expect(cand.file, body, located.editable, expect, ref)
            result = edit_text(text, cand.file, ref, keys, located)
        except BadYaml as exc:
            skipped.append(_bad(cand, exc))
            referenced.append(cand.file)
            continue
        if located.refs or result.skips:
            referenced.append(cand.file)
        skipped.extend(result.skips)
        if result.changes:
            after = result.text.encode("utf-8")
            edits.append(FileEdit(cand.file, cand.data, after, result.changes))
    plan = overlay.add_entries(  # a kustomize overlay without an images entry gets one
        root, paths, ref, Plan(tuple(edits), tuple(skipped)), referenced,
        lambda where: find_references(root, where, ref.repository, keys=keys),
    )
    return flux.follow(root, plan, ref, lambda needles: _tree_files(root, needles))


def _tree_files(root: Path, needles: Sequence[bytes]) -> Iterator[tuple[str, bytes]]:
    """(file, bytes) of every manifest of the tree holding a needle (for flux.py)."""
    try:
        for cand in candidates(root, ["."], needles):
            yield cand.file, cand.data
    except InputError:
        return  # a symlink out of the tree: the definitions beyond it are not read


def find_references(
    root: Path, paths: Sequence[str], repository: str, *, keys: Sequence[str] = (),
    depth: int = 8,
) -> list[Found]:
    """The current references to ``repository`` (normalised compare); for a
    kustomize overlay without any, those of its local resources (``depth``
    levels of overlays deep)."""
    repository = normalise_repository(repository)
    found: list[Found] = []
    substituted: list[str] = []
    for cand in candidates(root, paths, _needles(repository, keys)):
        try:
            text = _decode(cand)
            body = text[len(BOM):] if text.startswith(BOM) else text
            located = locate(body, cand.file, repository, keys)
        except BadYaml as exc:
            _bad(cand, exc)
            continue
        for r in located.editable:
            line, column = found_line(body, r)
            found.append(Found(cand.file, line, column, r.path, r.kind, r.current))
        if any(flux.MARK in r.reason for r in located.refs):
            substituted.append(cand.file)
    if substituted:  # Flux ${var}: the value where it is set
        found += flux.found(root, substituted, repository, lambda n: _tree_files(root, n))
    if depth > 0:
        found += overlay.inherited_refs(
            root, paths, found,
            lambda where: find_references(root, where, repository, keys=keys, depth=depth - 1),
        )
    return found


def _needles(repository: str, keys: Sequence[str]) -> tuple[bytes, ...]:
    words = [repository.rsplit("/", 1)[-1]]
    words += [key.rsplit(".", 1)[-1].split("[", 1)[0] for key in keys]
    return tuple(word.encode() for word in words if word)


def _check_expect(
    file: str, body: str, refs: Sequence[Ref], expect: str, new: ImageRef
) -> None:
    for ref in refs:
        current = ref.current
        if expect in (current.tag, current.digest, current.version):
            continue
        if current.version == new.version:
            continue  # already promoted: re-running is safe
        line, _ = found_line(body, ref)
        raise ConflictError(
            f"{file}:{line}: {ref.path} is {current.version or '(no tag)'!r}, not {expect!r}"
            "; someone changed it, re-check before promoting (nothing was written)"
        )


def _bad(cand: Candidate, exc: BadYaml) -> Skip:
    where = f"{cand.file}:{exc.line}" if exc.line else cand.file
    if cand.explicit:
        raise InputError(
            f"{where}: {exc.reason}; fix the file or leave it out (nothing was written)"
        )
    return Skip(cand.file, exc.line, exc.reason)


def _decode(cand: Candidate) -> str:
    if len(cand.data) > MAX_BYTES:
        raise BadYaml(f"file larger than {MAX_BYTES // (1024 * 1024)} MiB; not parsed")
    try:
        return cand.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = cand.data.count(b"\n", 0, exc.start) + 1
        raise BadYaml("not UTF-8 text", line) from None


def candidates(root: Path, paths: Sequence[str], needles: Sequence[bytes]) -> Iterator[Candidate]:
    """Files under ``paths`` whose bytes contain any of ``needles``."""
    real_root = Path(os.path.realpath(root))
    seen: set[str] = set()
    for given in paths or ["."]:
        start = _inside(real_root, root / given, given)
        if start.is_dir():
            files: Iterator[tuple[str, bool]] = ((f, False) for f in _walk(real_root, str(start)))
        elif start.is_file():
            files = iter([(str(start), True)])
        else:
            raise InputError(f"{given}: no such file or directory; check the PATH arguments")
        for path, explicit in files:
            if path in seen:
                continue
            seen.add(path)
            data = _read(path)
            if any(needle in data for needle in needles):
                rel = Path(path).relative_to(real_root).as_posix()
                yield Candidate(Path(path), rel, explicit, data)


def _inside(real_root: Path, path: Path, given: str) -> Path:
    real = Path(os.path.realpath(path))
    if real != real_root and real_root not in real.parents:
        raise InputError(f"{given} leads outside {real_root}; give paths inside the tree")
    return real


def _read(path: str) -> bytes:
    """The file's bytes, at most MAX_BYTES + 1 (small reads: no big buffers)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = [os.read(fd, CHUNK)]
        while len(chunks[-1]) == CHUNK and len(chunks) * CHUNK <= MAX_BYTES:
            chunks.append(os.read(fd, CHUNK))
    finally:
        os.close(fd)
    return b"".join(chunks) if len(chunks) > 1 else chunks[0]


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _walk(real_root: Path, top: str) -> Iterator[str]:
    stack = [top]
    while stack:
        directory = stack.pop()
        with os.scandir(directory) as entries:
            listed = sorted(entries, key=_name)
        subdirs = []
        for entry in listed:
            if entry.is_symlink():
                _inside(real_root, Path(entry.path), entry.path)
            elif entry.is_dir():
                if entry.name != ".git":
                    subdirs.append(entry.path)
            elif entry.name.endswith(SUFFIXES) or entry.name in NAMES:
                yield entry.path
        stack.extend(reversed(subdirs))
