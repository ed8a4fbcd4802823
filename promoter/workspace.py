"""A promotion's clone: blobless, shallow and sparse, with only the paths it needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from promoter import git
from promoter.errors import InputError, PromoterError

REMOTE_BRANCH = "refs/remotes/origin/promoter-branch"


@dataclass(frozen=True)
class Workspace:
    git: git.Git
    url: str
    work: Path
    base: str
    head: str  # sha of the base branch as cloned


def open_clone(session: git.Git, url: str, dest: Path, base: str | None, shown: str) -> Workspace:
    """Clone ``base`` (default: the remote's default branch) of ``url`` into ``dest``."""
    try:
        git.clone(session, url, dest, base)
    except InputError as exc:
        if base is not None and f"remote branch {base} not found" in str(exc).lower():
            raise InputError(
                f"base branch {base!r} does not exist in {shown}; pass an existing --base"
            ) from None
        raise
    branch = base or git.out(session, ["symbolic-ref", "--short", "HEAD"], dest)
    head = git.run(session, ["rev-parse", "--verify", "--quiet", "HEAD"], dest, check=False)
    if head.returncode != 0:
        raise InputError(f"{shown} has no commits on {branch}; push an initial commit first")
    return Workspace(session, url, dest, branch, head.stdout.decode().strip())


def checkout_paths(
    ws: Workspace, paths: Sequence[str], what: str, *, skip_missing: bool = False
) -> None:
    """Widen the sparse checkout to ``paths`` (files or directories); a path
    missing on the base is an InputError, or skipped with ``skip_missing``."""
    directories = []
    for path, kind in git.object_types(ws.git, ws.work, "HEAD", paths).items():
        if kind is None and skip_missing:
            continue
        if kind is None:
            raise InputError(
                f"{what}: {path} does not exist on {ws.base}; fix the path or create it"
            )
        if kind == "tree":
            directories.append(path)
        elif str(PurePosixPath(path).parent) != ".":
            directories.append(str(PurePosixPath(path).parent))
    if directories:
        git.sparse_set(ws.git, ws.work, directories)


def fetch_branch(ws: Workspace, branch: str) -> str | None:
    """The sha of ``branch`` on the remote (fetched with its parent), or None."""
    try:
        git.run(ws.git, [
            "fetch", "--quiet", "--filter=blob:none", "--depth=2", "--no-tags", "origin",
            f"+refs/heads/{branch}:{REMOTE_BRANCH}",
        ], ws.work)
    except PromoterError as exc:
        if "couldn't find remote ref" in str(exc).lower():
            return None
        raise
    return git.rev(ws.git, ws.work, REMOTE_BRANCH)


def refresh_base(ws: Workspace) -> Workspace:
    """Fetch the base branch again and reset the work tree to it."""
    sha = git.fetch(ws.git, ws.work, ws.base, f"refs/remotes/origin/{ws.base}")
    git.reset_hard(ws.git, ws.work, sha)
    return Workspace(ws.git, ws.url, ws.work, ws.base, sha)


def same_change(ws: Workspace, existing: str, blobs: dict[str, str]) -> bool:
    """Whether commit ``existing`` changes exactly ``blobs`` (path -> new blob id)."""
    parent = git.parent(ws.git, ws.work, existing)
    if parent is None:
        return False
    return git.changed_blobs(ws.git, ws.work, parent, existing) == blobs
