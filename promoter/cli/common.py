"""What the command modules share: logging setup, ``Name <email>`` parsing and
emitting a result or a failure in the chosen output format.

Only click and the standard library at import time.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

import click

from promoter.errors import InputError

if TYPE_CHECKING:
    from promoter.git import Identity
    from promoter.promotion import Promotion

OUTPUT = click.Choice(["text", "json", "github", "gitlab"])
_IDENTITY = re.compile(r"^\s*(?P<name>[^<>]+?)\s*<(?P<email>[^<>\s]+)>\s*$")


def setup_logging(ctx: click.Context) -> None:
    verbose = bool((ctx.find_root().obj or {}).get("verbose"))
    import logging

    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="promoter: %(message)s")


def identity(value: str | None, option: str) -> Identity | None:
    if not value:
        return None
    match = _IDENTITY.match(value)
    if match is None:
        raise InputError(f"{option} {value!r} is not 'Name <email>'; fix the value")
    from promoter.git import Identity

    return Identity(match["name"], match["email"])


def emit_error(message: str, output: str) -> None:
    """In CI, a failure still sets the outputs / dotenv report and annotates;
    main() then prints the usual ``error:`` line and exits with the code."""
    from promoter import report_ci

    if output == "github":
        click.echo(report_ci.github_error(message, os.environ), nl=False)
    elif output == "gitlab":
        click.echo(report_ci.gitlab_error(message, os.environ), nl=False)


def emit(result: Promotion, output: str) -> None:
    from promoter.report import render

    click.echo(render(result.record(), output, os.environ, result.diff, result.notes))
