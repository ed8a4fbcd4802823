"""Config repositories for tests: the bundled example pushed to a bare remote,
and read-only looks into a bare repository."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from support.gitserver import seed_bare

EXAMPLE = Path(__file__).resolve().parents[2] / "promoter" / "example"


def example_copy(dest: Path) -> Path:
    """A copy of promoter/example at ``dest`` (a plain directory, no git)."""
    shutil.copytree(EXAMPLE, dest, symlinks=True)
    return dest


def bare_from(tree: Path, bare: Path, branch: str = "main") -> Path:
    """A bare repository at ``bare`` whose ``branch`` holds ``tree`` as one commit."""
    git(bare.parent, "init", "--bare", "-q", "-b", branch, str(bare))
    seed_bare(bare, tree, branch)
    return bare


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {result.stderr}")
    return result.stdout.strip()


def show(bare: Path, ref: str, path: str) -> str:
    """The content of ``path`` at ``ref`` in ``bare``."""
    return git(bare, "show", f"{ref}:{path}")


def heads(bare: Path) -> dict[str, str]:
    """branch name -> sha."""
    text = git(bare, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads")
    return dict(line.split(" ", 1) for line in text.splitlines())


def count(bare: Path, ref: str) -> int:
    return int(git(bare, "rev-list", "--count", ref))


def message(bare: Path, ref: str) -> str:
    return git(bare, "log", "-1", "--format=%B", ref)
