"""``promoter status``: the app x environment matrix of the images a config
repository holds."""

from __future__ import annotations

import os

import click

from promoter.cli import env_option
from promoter.cli.common import setup_logging


@click.command()
@env_option("--repo", default=".", show_default=True, help="Config repository: URL or path.")
@env_option("--base", help="Branch to read (default: the working tree, or the default branch).")
@env_option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@env_option("--network-timeout", default="5m", show_default=True,
            help="Give up on a git command against the remote after this long.")
@env_option("--deployments", is_flag=True,
            help="Add the newest deployment promoter recorded per app and environment.")
@env_option("--forge", type=click.Choice(["github", "gitlab"]),
            help="With --deployments: where they are recorded (default: inferred).")
@env_option("--api-url", help="Forge API URL (GitHub Enterprise, self-managed GitLab).")
@click.pass_context
def status(ctx: click.Context, repo: str, base: str | None, output: str, deployments: bool,
           forge: str | None, api_url: str | None, network_timeout: str) -> None:
    """Print the app x environment matrix of the images the repository holds."""
    setup_logging(ctx)
    import json

    from promoter import status as status_mod
    from promoter.config import duration
    from promoter.report import status_text

    limit = duration(network_timeout, "--network-timeout")
    with status_mod.tree(repo, base, os.environ, limit) as root:
        matrix = status_mod.matrix(root)
        pairs = [(t.app, t.env, t.image) for t in status_mod.targets(status_mod.require(root))]
    text = json.dumps(matrix, indent=2) if output == "json" else status_text(matrix)
    if deployments:
        from promoter.deployments import latest_text, status_records

        found = status_records(repo, forge, api_url, pairs, os.environ)
        matrix["deployments"] = found
        text = (json.dumps(matrix, indent=2) if output == "json"
                else f"{text}\n\n{latest_text(found)}")
    click.echo(text)
