"""``promoter update`` and ``promoter diff``: edit a working tree in place."""

from __future__ import annotations

import click


@click.command()
def update() -> None:
    """Set a new tag or digest on every reference to an image (not yet built)."""
    raise click.ClickException("not implemented yet")


@click.command()
def diff() -> None:
    """Show what ``update`` would change (not yet built)."""
    raise click.ClickException("not implemented yet")
