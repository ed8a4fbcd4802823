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
bombs, nesting deeper than depth.MAX_DEPTH, over MAX_BYTES, not a regular
file: a FIFO would block the read forever) are reported in ``skipped`` when
met while walking a directory, and are an InputError when named as a PATH.
Only regular files are opened, with O_NOFOLLOW | O_NONBLOCK, and checked
again after opening, so a file swapped for a FIFO or a symlink meanwhile is
refused rather than read.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from promoter.errors import BadYaml, ConflictError, InputError, NotRegular
from promoter.images import ImageRef
from promoter.manifests import follow, held, overlay, regions
from promoter.manifests.document import BOM, edit_text, found_line, locate
from promoter.manifests.locate import Ref
from promoter.manifests.records import Change, FileEdit, Found, Plan, Skip

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
    problem: str = ""  # why the file was not read (not a regular file)


def plan_update(
    root: Path, paths: Sequence[str], ref: ImageRef, *,
    keys: Sequence[str] = (), expect: str | None = None,
) -> Plan:
    """Plan giving every reference to ``ref.repository`` under ``paths`` the
    version of ``ref``. Pure: writes nothing."""
    edits: list[FileEdit] = []
    skipped: list[Skip] = []
    referenced: list[str] = []  # files holding a reference, edited or not
    needles = needles_for(ref.repository, keys)
    words = regions.Prefilter(tuple(needle.decode() for needle in needles), bool(keys))
    with collector_paused():
        for cand in candidates(root, paths, needles):
            try:
                edited = _edit_file(cand, ref, keys, expect, words)
            except BadYaml as exc:
                skipped.append(bad_file(cand, exc))
                referenced.append(cand.file)
                continue
            if edited.referenced:
                referenced.append(cand.file)
            skipped.extend(edited.skips)
            if edited.changes:
                after = edited.text.encode("utf-8")
                edits.append(held.file_edit(cand.file, cand.path, cand.data, after,
                                            edited.changes))
    from promoter.manifests import found as finding

    inherited: list[str] = []  # files of overlays' resources with a Flux ${var} for ref

    def finder(where: Sequence[str]) -> list[Found]:
        found, marked = finding.references(root, where, ref.repository, keys, 7)
        inherited.extend(marked)
        return found

    plan = overlay.add_entries(  # a kustomize overlay without an images entry gets one
        root, paths, ref, Plan(tuple(edits), tuple(skipped)), referenced, finder)
    pending = [s.file for s in plan.skipped if follow.FLUX_MARK in s.reason] + inherited
    if not pending:
        return plan
    from promoter.manifests import flux

    return flux.follow(root, paths, plan, pending, ref, finding.repository_files(root))


@dataclass
class _Edited:
    text: str
    changes: list[Change]
    skips: list[Skip]
    referenced: bool  # a reference was found, edited or not


def _edit_file(
    cand: Candidate, ref: ImageRef, keys: Sequence[str], expect: str | None,
    words: regions.Prefilter,
) -> _Edited:
    """The new text of one file, its changes and skips: only the documents
    holding a prefilter word are composed (regions.py)."""
    text = decode(cand)
    bom = BOM if text.startswith(BOM) else ""
    pieces = [bom]
    edited = _Edited("", [], [], False)
    for region in regions.split(text[len(bom):], words):
        if not region.wanted:
            pieces.append(region.text)
            continue
        with lines_from(region):
            located = locate(region.text, cand.file, ref.repository, keys)
            if expect is not None:
                _check_expect(cand.file, region, located.editable, expect, ref)
            result = edit_text(region.text, cand.file, ref, keys, located)
        pieces.append(result.text)
        edited.changes += regions.shifted(result.changes, region.line)
        edited.skips += regions.shifted(result.skips, region.line)
        edited.referenced = edited.referenced or bool(located.refs or result.skips)
    edited.text = "".join(pieces)
    return edited


@contextlib.contextmanager
def lines_from(region: regions.Region) -> Iterator[None]:
    """BadYaml raised inside ``region`` with the line counted in the file."""
    try:
        yield
    except BadYaml as exc:
        raise BadYaml(exc.reason, exc.line + region.line if exc.line else 0) from None


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while composing: node trees hold no cycles
    (reference counting frees them), and full collections over millions of
    live nodes took half of the time on large files."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def needles_for(repository: str, keys: Sequence[str]) -> tuple[bytes, ...]:
    words = [repository.rsplit("/", 1)[-1]]
    words += [key.rsplit(".", 1)[-1].split("[", 1)[0] for key in keys]
    return tuple(word.encode() for word in words if word)


def _check_expect(
    file: str, region: regions.Region, refs: Sequence[Ref], expect: str, new: ImageRef
) -> None:
    for ref in refs:
        current = ref.current
        if expect in (current.tag, current.digest, current.version):
            continue
        if current.version == new.version:
            continue  # already promoted: re-running is safe
        line = found_line(region.text, ref)[0] + region.line
        raise ConflictError(
            f"{file}:{line}: {ref.path} is {current.version or '(no tag)'!r}, not {expect!r}"
            "; someone changed it, re-check before promoting (nothing was written)"
        )


def bad_file(cand: Candidate, exc: BadYaml) -> Skip:
    where = f"{cand.file}:{exc.line}" if exc.line else cand.file
    if cand.explicit:
        raise InputError(
            f"{where}: {exc.reason}; fix the file or leave it out (nothing was written)"
        )
    return Skip(cand.file, exc.line, exc.reason)


def decode(cand: Candidate) -> str:
    if cand.problem:
        raise BadYaml(cand.problem)
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
    paths = paths or ["."]
    seen: set[str] | None = set() if len(paths) > 1 else None  # PATHs may overlap
    one = needles[0] if len(needles) == 1 else None  # the usual case, without a generator
    for given in paths:
        start = _inside(real_root, root / given, given)
        explicit = not start.is_dir()
        if not explicit:
            files: Iterator[str] = _walk(real_root, str(start))
        elif os.path.lexists(start):
            files = iter([str(start)])
        else:
            raise InputError(f"{given}: no such file or directory; check the PATH arguments")
        for path in files:
            if seen is not None:
                if path in seen:
                    continue
                seen.add(path)
            try:
                data = read_regular(path)
            except NotRegular as exc:
                yield Candidate(Path(path), _rel(path, real_root), explicit, b"", str(exc))
                continue
            if (one in data) if one is not None else any(n in data for n in needles):
                yield Candidate(Path(path), _rel(path, real_root), explicit, data)


def _rel(path: str, real_root: Path) -> str:
    return Path(path).relative_to(real_root).as_posix()


def _inside(real_root: Path, path: Path, given: str) -> Path:
    real = Path(os.path.realpath(path))
    if real != real_root and real_root not in real.parents:
        raise InputError(f"{given} leads outside {real_root}; give paths inside the tree")
    return real


_KINDS = {stat.S_IFIFO: "FIFO", stat.S_IFSOCK: "socket", stat.S_IFCHR: "character device",
          stat.S_IFBLK: "block device", stat.S_IFLNK: "symlink", stat.S_IFDIR: "directory"}


def read_regular(path: str | Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file, at most ``limit`` + 1 (one read of the size
    the file says it has, then small ones while it proves longer). Never blocks
    on a FIFO and never follows a final symlink."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        raise NotRegular("not a regular file (symlink); not read") from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            kind = _KINDS.get(stat.S_IFMT(status.st_mode), "special file")
            raise NotRegular(f"not a regular file ({kind}); not read")
        want = min(status.st_size, limit) + 1
        data = os.read(fd, want)
        if len(data) < want:  # the usual case: the whole file in one read
            return data
        chunks, total = [data], want  # longer than it said (growing, or /proc)
        while chunks[-1] and total <= limit:
            chunks.append(os.read(fd, CHUNK))
            total += len(chunks[-1])
    finally:
        os.close(fd)
    return b"".join(chunks)


def _walk(real_root: Path, top: str) -> Iterator[str]:
    """Manifest files under ``top``: a directory's files in name order, then its
    subdirectories in name order. Only names are kept for the directories still
    to visit (not 100,000 full paths for a wide directory)."""
    stack: list[tuple[str, list[str]]] = [("", [top])]
    while stack:
        parent, pending = stack[-1]
        if not pending:
            stack.pop()
            continue
        directory = os.path.join(parent, pending.pop())
        files, subdirs = _listing(real_root, directory)
        prefix = directory if directory.endswith(os.sep) else directory + os.sep
        for name in files:
            yield prefix + name
        if subdirs:
            stack.append((directory, subdirs[::-1]))


def _listing(real_root: Path, directory: str) -> tuple[list[str], list[str]]:
    """The manifest file names and the subdirectory names of ``directory``,
    sorted; a symlink leading out of the root is an InputError."""
    files, subdirs = [], []
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_symlink():
                _inside(real_root, Path(entry.path), entry.path)
            elif entry.is_dir():
                if entry.name != ".git":
                    subdirs.append(entry.name)
            elif entry.name.endswith(SUFFIXES) or entry.name in NAMES:
                files.append(entry.name)
    return sorted(files), sorted(subdirs)
