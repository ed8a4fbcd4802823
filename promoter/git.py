"""The git CLI for the local repository (its working tree and history): short
functions named for what they return, each one git command run through
``promoter.git_process.run`` (re-exported here with the session type ``Git``,
so callers say ``git.run``, ``git.Git``). The commands that talk to the remote
are in ``promoter.git_remote``, and what git's stderr means in
``promoter.git_errors``. No module but these two builds a git command line.

How every git process runs (a stripped environment, no prompt, configuration
only through ``GIT_CONFIG_*``, a time limit, secrets redacted from errors) is
said once, in ``promoter.git_process``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from promoter.git_process import Git as Git
from promoter.git_process import base_env as base_env
from promoter.git_process import failure as failure
from promoter.git_process import out as out
from promoter.git_process import redact as redact
from promoter.git_process import run as run
from promoter.git_process import with_config as with_config

# -- the working tree and its history ---------------------------------------------------


def sparse_set(git: Git, work: Path, directories: Sequence[str]) -> None:
    """Check out exactly ``directories`` (cone mode, sparse index; root files are
    always present); ``./`` (or ``.``) among them is the whole tree."""
    if {".", "./"} & set(directories):  # cone mode would ignore it
        run(git, ["sparse-checkout", "disable"], work)
        return
    run(git, ["sparse-checkout", "set", "--cone", "--sparse-index", "--",
              *sorted(set(directories))], work)


def object_types(git: Git, work: Path, rev: str, paths: Sequence[str]) -> dict[str, str | None]:
    """path -> ``tree``, ``blob`` or None (missing) at ``rev``, in one git process."""
    lines = "".join(f"{rev}:{path}\n" for path in paths).encode()
    result = run(git, ["cat-file", "--batch-check=%(objecttype)"], work, input=lines)
    answers = result.stdout.decode().splitlines()
    return {path: (None if answer.endswith("missing") else answer)
            for path, answer in zip(paths, answers, strict=True)}


def rev(git: Git, work: Path, name: str) -> str:
    return out(git, ["rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"], work)


def reset_hard(git: Git, work: Path, sha: str) -> None:
    run(git, ["reset", "--quiet", "--hard", sha], work)


def changed_blobs(git: Git, work: Path, old: str, new: str) -> dict[str, str]:
    """path -> new blob id for the files that differ between two commits
    (``-z``: paths come verbatim, never C-quoted)."""
    raw = run(git, ["diff-tree", "-r", "-z", "--no-renames", "--raw", old, new], work).stdout
    fields = raw.decode("utf-8", errors="surrogateescape").split("\0")
    blobs: dict[str, str] = {}
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        if meta.startswith(":"):
            blobs[path] = meta.split()[3]
    return blobs


def blob_id(data: bytes) -> str:
    """The git blob id of ``data`` (sha1 repositories)."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(frozen=True)
class Identity:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


def commit(
    git: Git, work: Path, files: Sequence[str], message: str,
    author: Identity, committer: Identity, signoff: bool = False,
) -> str:
    """Commit ``files`` with ``message``; the new commit's sha."""
    run(git, ["add", "--sparse", "--", *files], work)
    identity = {
        "GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email,
        "GIT_COMMITTER_NAME": committer.name, "GIT_COMMITTER_EMAIL": committer.email,
    }
    args = ["commit", "--quiet", "--no-verify", "--file=-", *(["--signoff"] if signoff else [])]
    run(git, args, work, env=identity, input=message.encode())
    return rev(git, work, "HEAD")


def is_shallow(git: Git, work: Path) -> bool:
    return out(git, ["rev-parse", "--is-shallow-repository"], work) == "true"


def current_branch(git: Git, work: Path) -> str:
    return out(git, ["symbolic-ref", "--short", "HEAD"], work)


def head(git: Git, work: Path) -> str | None:
    """The sha of HEAD, or None when the branch has no commits yet."""
    result = run(git, ["rev-parse", "--verify", "--quiet", "HEAD"], work, check=False)
    return result.stdout.decode().strip() if result.returncode == 0 else None


def first_parent(git: Git, work: Path, sha: str) -> str | None:
    """The first parent recorded in the commit object (a shallow graft hides it
    from ``rev-parse``), or None for a root commit."""
    for line in out(git, ["cat-file", "commit", sha], work).splitlines():
        if line.startswith("parent "):
            return line.split()[1]
        if not line:
            break
    return None


def commits(git: Git, work: Path, tip: str, exclude: str, trailer: str) -> list[list[str]]:
    """``[sha, "author <email>", subject, trailer value]`` of each commit reachable
    from ``tip`` but not from ``exclude``, newest first."""
    text = run(git, [
        "log", "-z", f"--format=%H%x00%an <%ae>%x00%s%x00%(trailers:key={trailer},valueonly)",
        tip, "--not", exclude, "--",
    ], work).stdout.decode(errors="replace")
    fields = text.split("\0")
    return [[fields[i].strip(), *fields[i + 1:i + 4]] for i in range(0, len(fields) - 3, 4)]


def trailer(git: Git, work: Path, sha: str, key: str) -> str | None:
    """The first ``key:`` trailer of commit ``sha``, or None."""
    found = out(git, ["log", "-1", f"--format=%(trailers:key={key},valueonly)", sha], work)
    return found.splitlines()[0].strip() if found else None


def is_ancestor(git: Git, work: Path, ancestor: str, descendant: str) -> bool | None:
    """Whether ``ancestor`` is ``descendant`` or one of its ancestors; None when
    either commit is not in the repository."""
    done = run(git, ["merge-base", "--is-ancestor", ancestor, descendant], work, check=False)
    return done.returncode == 0 if done.returncode in (0, 1) else None


def origin_url(git: Git, work: Path) -> str | None:
    done = run(git, ["remote", "get-url", "origin"], work, check=False)
    return (done.stdout.decode().strip() or None) if done.returncode == 0 else None


def init(git: Git, path: Path, *, bare: bool = False, origin: str | None = None) -> None:
    """A new repository at ``path`` on branch ``main``, with ``origin`` as its remote."""
    run(git, ["init", "--quiet", *(["--bare"] if bare else []), "--initial-branch=main",
              str(path)])
    if origin is not None:
        run(git, ["remote", "add", "origin", origin], path)


def branches(git: Git, repo: Path) -> list[tuple[str, str]]:
    """(name, subject of its head) of each branch."""
    text = out(git, ["for-each-ref", "--format=%(refname:short)%00%(subject)", "refs/heads"],
               repo)
    return [(name, subject) for name, _, subject in
            (line.partition("\0") for line in text.splitlines())]
