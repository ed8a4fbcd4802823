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


# What git says when --shallow-exclude leaves no commit to fetch, i.e. the branch is
# all on the base: over file:// and protocol v0/v1, and over smart HTTP (v2).
NOTHING_OF_ITS_OWN = ("no commits selected for shallow", "error processing shallow info")


def fetch_branch(ws: Workspace, branch: str) -> Branch | None:
    """``branch`` on the remote with every commit it has that the base has not
    (``--shallow-exclude``), or None when there is no such branch."""
    try:
        git.run(ws.git, [
            "fetch", "--quiet", "--filter=blob:none", "--no-tags",
            f"--shallow-exclude=refs/heads/{ws.base}", "origin",
            f"+refs/heads/{branch}:{REMOTE_BRANCH}",
        ], ws.work)
    except PromoterError as exc:
        low = str(exc).lower()
        if "couldn't find remote ref" in low:
            return None
        if not any(sign in low for sign in NOTHING_OF_ITS_OWN):
            raise
        git.run(ws.git, [  # the branch is all on the base: nothing of its own
            "fetch", "--quiet", "--filter=blob:none", "--depth=1", "--no-tags", "origin",
            f"+refs/heads/{branch}:{REMOTE_BRANCH}",
        ], ws.work)
        sha = git.rev(ws.git, ws.work, REMOTE_BRANCH)
        return Branch(branch, sha, _first_parent(ws, sha), ())
    sha = git.rev(ws.git, ws.work, REMOTE_BRANCH)
    return Branch(branch, sha, _first_parent(ws, sha), _foreign(ws, sha))


def _first_parent(ws: Workspace, sha: str) -> str | None:
    """The first parent recorded in the commit object (a shallow graft hides it)."""
    raw = git.out(ws.git, ["cat-file", "commit", sha], ws.work)
    for line in raw.splitlines():
        if line.startswith("parent "):
            return line.split()[1]
        if not line:
            break
    return None


def _foreign(ws: Workspace, sha: str) -> tuple[Commit, ...]:
    """Commits between the base and ``sha`` without promoter's trailer."""
    text = git.run(ws.git, [
        "log", "-z", "--format=%H%x00%an <%ae>%x00%s%x00%(trailers:key=Promoted-by,valueonly)",
        sha, "--not", ws.head, "--",
    ], ws.work).stdout.decode(errors="replace")
    fields = text.split("\0")
    commits = []
    for i in range(0, len(fields) - 3, 4):
        commit, author, subject, trailer = fields[i:i + 4]
        if not trailer.strip().startswith("promoter"):
            commits.append(Commit(commit.strip(), author, subject))
    return tuple(commits)


def refresh_base(ws: Workspace) -> Workspace:
    """Fetch the base branch again and reset the work tree to it."""
    sha = git.fetch(ws.git, ws.work, ws.base, f"refs/remotes/origin/{ws.base}")
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
    out = git.out(ws.git, ["ls-remote", "origin", f"refs/heads/{branch}"], ws.work)
    return out.split()[0] if out else None


def image_trailer(ws: Workspace, sha: str) -> str | None:
    """The ``Image:`` trailer of commit ``sha`` (the reference promoter wrote)."""
    out = git.out(ws.git, ["log", "-1", "--format=%(trailers:key=Image,valueonly)", sha],
                  ws.work)
    return out.splitlines()[0].strip() if out else None


def delete_branch(ws: Workspace, existing: Branch) -> None:
    """Delete ``existing`` on the remote, only if it still points where it did."""
    ref = f"refs/heads/{existing.name}"
    git.run(ws.git, ["push", "--porcelain", "--no-verify",
                     f"--force-with-lease={ref}:{existing.sha}", "origin", f":{ref}"], ws.work)
