"""git plumbing on the bare repository behind a fake forge (the commits the
fake GitHub's createCommitOnBranch and the fake GitLab's Commits API make)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path


def git(bare: Path, *args: str, error: Callable[[str], Exception], stdin: bytes | None = None,
        env: dict[str, str] | None = None) -> str:
    """git's stdout (stripped); a failure raises ``error(stderr)``, the forge's own."""
    result = subprocess.run(["git", *args], cwd=bare, input=stdin, capture_output=True,
                            env={**os.environ, **(env or {})}, check=False)
    if result.returncode != 0:
        raise error(result.stderr.decode(errors="replace").strip())
    return result.stdout.decode().strip()


def head(bare: Path, branch: str) -> str | None:
    found = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
                           cwd=bare, capture_output=True, text=True, check=False)
    return found.stdout.strip() or None


def exists(bare: Path, rev: str) -> bool:
    """Whether ``rev`` (``sha^{commit}``, ``sha:path``) names an object."""
    return subprocess.run(["git", "cat-file", "-e", rev], cwd=bare, check=False,
                          capture_output=True).returncode == 0
