"""Walk a tree fast and plan an update: a text prefilter, then parse only candidates.

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
refused rather than read (reading.py).

The first directory with SPLIT_AT subdirectories or more shares them with a
child process where that is safe (forked.py): this process takes them from
the first, the child from the last, until they meet. The child tells which of
its paths are worth reading and, when planning an update, the plan of each
candidate among them (planned.py); this process reads those again itself and
plans any file whose bytes are not those the child planned from, so the
candidates, their order, the plan, the skips and the errors are a serial
walk's.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
from collections.abc import Generator, Iterable, Iterator, Sequence
from pathlib import Path

from promoter.errors import InputError, NotRegular
from promoter.images import ImageRef
from promoter.manifests import follow, forked, overlay, planned, regions
from promoter.manifests.candidate import Candidate
from promoter.manifests.reading import read_regular
from promoter.manifests.records import FileEdit, Found, Plan, Skip

__all__ = ["Candidate", "candidates", "plan_update", "read_regular"]
SPLIT_AT = 128  # a directory with this many subdirectories shares them with a child (forked.py)
SUFFIXES = (".yaml", ".yml", ".json")
NAMES = frozenset({"Kustomization"})


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
    plan_one = functools.partial(planned.plan_one, ref=ref, keys=keys, expect=expect,
                                 words=words)
    planner = planned.Planner(plan_one)  # the forked walk's child plans its share with it
    with collector_paused(), contextlib.closing(
            candidates(root, paths, needles, planner)) as found:
        for cand in found:
            outcome = planner.take(cand) or plan_one(cand)
            if outcome.bad is not None:
                skipped.append(outcome.bad)
                referenced.append(cand.file)
                continue
            if outcome.referenced:
                referenced.append(cand.file)
            skipped.extend(outcome.skips)
            if outcome.edit is not None:
                edits.append(outcome.edit)
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


def candidates(
    root: Path, paths: Sequence[str], needles: Sequence[bytes],
    planner: planned.Planner | None = None,
) -> Generator[Candidate, None, None]:
    """Files under ``paths`` whose bytes contain any of ``needles``. With
    ``planner``, a forked walk's child also plans its candidates and leaves
    the outcomes in ``planner.answers``, for ``planner.take``."""
    real_root = Path(os.path.realpath(root))
    paths = paths or ["."]
    seen: set[str] | None = set() if len(paths) > 1 else None  # PATHs may overlap
    for given in paths:
        start = _inside(real_root, root / given, given)
        if start.is_dir():
            walked = _walk(real_root, str(start), tuple(needles), planner)
            with contextlib.closing(walked):
                yield from _read_each(walked, real_root, False, needles, seen)
        elif os.path.lexists(start):
            yield from _read_each([str(start)], real_root, True, needles, seen)
        else:
            raise InputError(f"{given}: no such file or directory; check the PATH arguments")


def _read_each(
    files: Iterable[str], real_root: Path, explicit: bool, needles: Sequence[bytes],
    seen: set[str] | None,
) -> Iterator[Candidate]:
    one = needles[0] if len(needles) == 1 else None  # the usual case, without a generator
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
        except OSError as exc:  # permission denied, an I/O error: reported like a bad file
            reason = f"cannot read it ({exc.strerror or exc}); not read"
            yield Candidate(Path(path), _rel(path, real_root), explicit, b"", reason)
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


def _walk(
    real_root: Path, top: str, needles: tuple[bytes, ...] | None = None,
    planner: planned.Planner | None = None,
) -> Generator[str, None, None]:
    """Manifest files under ``top``: a directory's files in name order, then its
    subdirectories in name order. Only names are kept for the directories still
    to visit (not 100,000 full paths for a wide directory). With ``needles``,
    the subdirectories of the first directory with SPLIT_AT of them or more are
    shared with a child process, this process taking them from the first and
    the child from the last (forked.py); the child passes on only the paths
    worth reading and, with ``planner``, the outcomes of the candidates it
    planned: the order, the plan and the errors stay the serial walk's."""
    stack: list[tuple[str, list[str | list[str] | forked.Share]]] = [("", [top])]
    shares: list[forked.Share] = []
    try:
        while stack:
            parent, pending = stack[-1]
            if not pending:
                stack.pop()
                continue
            item = pending.pop()
            if isinstance(item, forked.Share):
                index = item.next()
                if index is not None:  # the next subdirectory is this process's
                    pending += (item, item.names[index])
                else:
                    pending += reversed(_rest(item, planner))
                continue
            if isinstance(item, list):  # what the child found in one subdirectory
                yield from item
                continue
            directory = os.path.join(parent, item)
            files, subdirs = _listing(real_root, directory)
            prefix = directory if directory.endswith(os.sep) else directory + os.sep
            for name in files:
                yield prefix + name
            later: list[str | list[str] | forked.Share] = list(subdirs)
            if needles is not None and len(subdirs) >= SPLIT_AT:
                share = _share(real_root, directory, subdirs, needles, planner)
                if share is not None:
                    shares.append(share)
                    later = [share]
                    needles = None  # one child per walk
            if later:
                stack.append((directory, later[::-1]))
    finally:
        for share in shares:
            share.cancel()


def _rest(share: forked.Share, planner: planned.Planner | None) -> list[str | list[str]]:
    """The subdirectories this process did not take, in order: the child's
    paths for each it has answered for, the name (to walk here) of any other."""
    first, count = share.claims.front, len(share.names)
    answers = share.answers() if first < count else []
    share.cancel()
    outcomes: dict[str, planned.Planned] | None = {} if planner is not None else None
    groups: dict[int, list[str]] = {}
    for index, entries in answers or ():
        paths = planned.read_group(entries, outcomes) if index >= first else []
        if paths is None:  # a malformed answer: none of them is used
            groups, outcomes = {}, None
            break
        groups[index] = paths
    if planner is not None and outcomes:
        planner.answers.update(outcomes)
    return [groups.get(index, share.names[index]) for index in range(first, count)]


def _share(
    real_root: Path, directory: str, names: list[str], needles: tuple[bytes, ...],
    planner: planned.Planner | None,
) -> forked.Share | None:
    """A child taking ``names`` under ``directory`` from the last, answering
    for each it took with the paths worth reading in walk order, each
    candidate with its outcome where it planned one (planned.read_group)."""

    def work(claims: forked.Claims) -> Iterator[tuple[int, list[planned.Entry]]]:
        while (index := claims.there()) is not None:
            top = os.path.join(directory, names[index])
            entries = (_entry(real_root, path, needles, planner, claims)
                       for path in _walk(real_root, top))
            yield index, [entry for entry in entries if entry is not None]

    return forked.start(names, work)


def _entry(
    real_root: Path, path: str, needles: tuple[bytes, ...], planner: planned.Planner | None,
    claims: forked.Claims,
) -> planned.Entry | None:
    """What the child says of ``path``: nothing (no needle in it), the path
    (hand it on: a candidate, or a file that cannot be read and is reported),
    or the path and its outcome (a candidate it planned)."""
    try:
        data = read_regular(path)
    except (NotRegular, OSError):
        return path
    if not any(needle in data for needle in needles):
        return None
    if planner is None:
        return path
    claims.planning(True)
    try:
        outcome = planner.plan(Candidate(Path(path), _rel(path, real_root), False, data))
    except Exception:  # a conflict, an error: met again when this file is planned serially
        return path
    finally:
        claims.planning(False)
    return path, planned.to_wire(outcome, data)


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
