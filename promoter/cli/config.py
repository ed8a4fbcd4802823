"""``promoter config validate``: check a repository's .promoter.yaml."""

from __future__ import annotations

import os

import click

from promoter.cli import env_option
from promoter.cli.common import setup_logging
from promoter.errors import InputError


@click.group()
def config() -> None:
    """Work with .promoter.yaml."""


@config.command()
@env_option("--repo", default=".", show_default=True, help="Config repository: URL or path.")
@env_option("--base", help="Branch to check (default: the working tree, or the default branch).")
@env_option("--network-timeout", default="5m", show_default=True,
            help="Give up on a git command against the remote after this long.")
@click.pass_context
def validate(ctx: click.Context, repo: str, base: str | None, network_timeout: str) -> None:
    """Check .promoter.yaml: keys, promote_from cycles, placeholders, paths."""
    setup_logging(ctx)
    from promoter import config as cfg
    from promoter import status as status_mod

    limit = cfg.duration(network_timeout, "--network-timeout")
    with status_mod.tree(repo, base, os.environ, limit) as root:
        config = status_mod.require(root)  # bad shape raises
        found = status_mod.problems(root)
    for problem in found[1:]:
        click.echo(f"error: {problem}", err=True)
    if found:
        raise InputError(found[0].removeprefix("error: "))
    click.echo(f".promoter.yaml is valid: {len(config.environments)} environments, "
               f"{len(config.apps)} apps")
