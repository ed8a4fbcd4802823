"""``promoter verify``: prove from the cluster that a commit is live."""

from __future__ import annotations

import click


@click.command()
def verify() -> None:
    """Verify a merged commit is live (not yet built)."""
    raise click.ClickException("not implemented yet")
