"""``promoter demo``: real promotions on the bundled example config repository,
through a local bare git remote and the local forge. No network, no credentials."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path

from promoter import git, git_remote, report
from promoter.promote import Promotion, Request, promote

DEMO_IDENTITY = git.Identity("promoter demo", "demo@promoter.invalid")


def example_dir() -> Path:
    """The bundled example repository (package data ``promoter/example``)."""
    return Path(str(resources.files("promoter") / "example"))


def make_remote(root: Path) -> Path:
    """Copy the example to ``root/config``, commit it, push it to ``root/remote.git``."""
    work, bare = root / "config", root / "remote.git"
    shutil.copytree(example_dir(), work)
    session = git_remote.session(bare.as_uri(), None)
    git.init(session, bare, bare=True)
    git.init(session, work, origin=bare.as_uri())
    sha = git.commit(session, work, ["."], "example config", DEMO_IDENTITY, DEMO_IDENTITY)
    git_remote.push(session, work, sha, "main", None)
    return bare


def steps(bare: Path) -> list[tuple[str, Request]]:
    repo = str(bare)
    return [
        (f"promoter promote --repo {repo} --app api --env staging "
         "--image ghcr.io/acme/api:1.5.0 --direct",
         Request(repo=repo, app="api", env="staging", image="ghcr.io/acme/api:1.5.0",
                 direct=True, author=DEMO_IDENTITY)),
        (f"promoter promote --repo {repo} --app api --env production --from staging",
         Request(repo=repo, app="api", env="production", from_env="staging",
                 author=DEMO_IDENTITY)),
        (f"promoter promote --repo {repo} --app api --env production --from staging"
         "   # again: nothing to do",
         Request(repo=repo, app="api", env="production", from_env="staging",
                 author=DEMO_IDENTITY)),
    ]


def run(environ: Mapping[str, str], echo: Callable[[str], None], keep: bool = False) -> None:
    """Build the remote, run the demo steps, print each result and diff."""
    root = Path(tempfile.mkdtemp(prefix="promoter-demo-"))
    try:
        bare = make_remote(root)
        echo(f"example config repository pushed to the local bare remote {bare}\n")
        for command, request in steps(bare):
            echo(f"$ {command}")
            result: Promotion = promote(request, environ)
            echo(report.render(result.record(), "text", environ, result.diff, result.notes) + "\n")
        echo(f"branches on the remote:\n{_branches(bare)}")
    finally:
        if keep:
            echo(f"\nkept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def _branches(bare: Path) -> str:
    return "\n".join(f"  {name}  {subject}" for name, subject in git.branches(git.Git(), bare))
