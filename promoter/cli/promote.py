"""``promoter promote``, ``status``, ``config validate`` and ``demo``."""

from __future__ import annotations

import click


@click.command()
def promote() -> None:
    """Run a whole promotion (not yet built)."""
    raise click.ClickException("not implemented yet")


@click.command()
def status() -> None:
    """Print the app x environment matrix (not yet built)."""
    raise click.ClickException("not implemented yet")


@click.group()
def config() -> None:
    """Work with .promoter.yaml."""


@click.command()
def demo() -> None:
    """Run a real promotion on the bundled example (not yet built)."""
    raise click.ClickException("not implemented yet")
