"""``promoter demo``: real promotions on the bundled example config repository,
through a local bare git remote and the local forge. No network, no credentials."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path

from promoter import git, report
from promoter.promote import Promotion, Request, promote

DEMO_IDENTITY = git.Identity("promoter demo", "demo@promoter.invalid")


def example_dir() -> Path:
    """The bundled example repository (package data ``promoter/example``)."""
    return Path(str(resources.files("promoter") / "example"))


def make_remote(root: Path) -> Path:
    """Copy the example to ``root/config``, commit it, push it to ``root/remote.git``."""
    work, bare = root / "config", root / "remote.git"
    shutil.copytree(example_dir(), work)
    session = git.session(bare.as_uri(), None)
    identity = {
        "GIT_AUTHOR_NAME": DEMO_IDENTITY.name, "GIT_AUTHOR_EMAIL": DEMO_IDENTITY.email,
        "GIT_COMMITTER_NAME": DEMO_IDENTITY.name, "GIT_COMMITTER_EMAIL": DEMO_IDENTITY.email,
    }
    git.run(session, ["init", "--quiet", "--bare", "--initial-branch=main", str(bare)])
    git.run(session, ["init", "--quiet", "--initial-branch=main"], work)
    git.run(session, ["add", "--all"], work)
    git.run(session, ["commit", "--quiet", "--no-verify", "-m", "example config"], work,
            env=identity)
    git.run(session, ["push", "--quiet", str(bare), "HEAD:refs/heads/main"], work)
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
    text = git.out(git.Git(), ["for-each-ref", "--format=  %(refname:short)  %(subject)",
                               "refs/heads"], bare)
    return text if text.startswith("  ") else "  " + text
