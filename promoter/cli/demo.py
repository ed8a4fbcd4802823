"""``promoter demo``: real promotions on the bundled example config repository."""

from __future__ import annotations

import os

import click

from promoter.cli.common import setup_logging


@click.command()
@click.option("--keep", is_flag=True, help="Keep the temporary repositories and print where.")
@click.pass_context
def demo(ctx: click.Context, keep: bool) -> None:
    """Run real promotions on the bundled example config repository (local bare
    remote, local forge; no network, no credentials)."""
    setup_logging(ctx)
    from promoter.demo import run

    run(os.environ, click.echo, keep=keep)
