"""A promotion's clone: blobless, shallow and sparse, with only the paths it needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from promoter import git, git_remote
from promoter.errors import InputError

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
        git_remote.clone(session, url, dest, base)
    except InputError as exc:
        if base is not None and f"remote branch {base} not found" in str(exc).lower():
            raise InputError(
                f"base branch {base!r} does not exist in {shown}; pass an existing --base"
            ) from None
        raise
    branch = base or git.current_branch(session, dest)
    head = git.head(session, dest)
    if head is None:
        raise InputError(f"{shown} has no commits on {branch}; push an initial commit first")
    return Workspace(session, url, dest, branch, head)


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


@dataclass(frozen=True)
class Commit:
    """A commit on a branch, as an error message names it."""

    sha: str
    author: str
    subject: str

    def __str__(self) -> str:
        return f"{self.sha[:12]} \"{self.subject}\" by {self.author}"


@dataclass(frozen=True)
class Branch:
    """A branch on the remote: its head, the head's first parent, and the
    commits since the base that promoter did not make (no ``Promoted-by`` trailer)."""

    name: str
    sha: str
    parent: str | None
    foreign: tuple[Commit, ...]


def fetch_branch(ws: Workspace, branch: str) -> Branch | None:
    """``branch`` on the remote with every commit it has that the base has not,
    or None when there is no such branch."""
    own = git_remote.fetch_own_commits(ws.git, ws.work, branch, ws.base, REMOTE_BRANCH)
    if own is None:
        return None
    sha = git.rev(ws.git, ws.work, REMOTE_BRANCH)
    parent = git.first_parent(ws.git, ws.work, sha)
    return Branch(branch, sha, parent, _foreign(ws, sha) if own else ())


def _foreign(ws: Workspace, sha: str) -> tuple[Commit, ...]:
    """Commits between the base and ``sha`` without promoter's trailer."""
    return tuple(Commit(commit, author, subject)
                 for commit, author, subject, trailer
                 in git.commits(ws.git, ws.work, sha, ws.head, "Promoted-by")
                 if not trailer.strip().startswith("promoter"))


def refresh_base(ws: Workspace) -> Workspace:
    """Fetch the base branch again and reset the work tree to it."""
    sha = git_remote.fetch(ws.git, ws.work, ws.base, f"refs/remotes/origin/{ws.base}")
    git.reset_hard(ws.git, ws.work, sha)
    return Workspace(ws.git, ws.url, ws.work, ws.base, sha)


def up_to_date(ws: Workspace, existing: Branch, blobs: dict[str, str]) -> bool:
    """Whether ``existing`` is exactly the current base plus a change to ``blobs``
    (path -> new blob id): one commit of promoter's, on this base head."""
    if existing.foreign or existing.parent != ws.head:
        return False
    return git.changed_blobs(ws.git, ws.work, ws.head, existing.sha) == blobs


def remote_head(ws: Workspace, branch: str) -> str | None:
    """The sha ``branch`` has on the remote now, or None when it does not exist."""
    return git_remote.remote_head(ws.git, ws.work, f"refs/heads/{branch}")


def image_trailer(ws: Workspace, sha: str) -> str | None:
    """The ``Image:`` trailer of commit ``sha`` (the reference promoter wrote)."""
    return git.trailer(ws.git, ws.work, sha, "Image")


def delete_branch(ws: Workspace, existing: Branch) -> None:
    """Delete ``existing`` on the remote, only if it still points where it did."""
    git_remote.delete_branch(ws.git, ws.work, existing.name, existing.sha)
