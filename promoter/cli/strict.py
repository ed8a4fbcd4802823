"""The ``promote`` command's parsing rules: a single-value option given twice
is refused (click would keep the last one silently), and with ``--output
json`` a run that fails, even in parsing, still prints one record."""

from __future__ import annotations

import os

import click

from promoter.errors import InputError


def failure_json(message: str, code: int, *, app: str | None = None, env: str | None = None,
                 image: str | None = None, repo: str | None = None) -> None:
    """``--output json``: a failed run still prints one record."""
    import json

    from promoter.promotion import failure_record

    record = failure_record(app, env, image, repo, message, code)
    click.echo(json.dumps(record, indent=2))


def wanted_output(args: list[str]) -> str | None:
    """The ``--output`` of a command line click could not parse (else
    $PROMOTER_OUTPUT), or None."""
    for i, arg in enumerate(args):
        if arg == "--output" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--output="):
            return arg.partition("=")[2]
    return os.environ.get("PROMOTER_OUTPUT")


def _wants_json(args: list[str]) -> bool:
    return wanted_output(args) == "json"


class StrictCommand(click.Command):
    """A command that refuses a single-value option given twice (click would
    keep the last one silently) and, with ``--output json``, prints a failed
    record for a usage error too."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = list(args)  # click's parser consumes ``args``
        try:
            _refuse_repeats(self, given)
            return super().parse_args(ctx, args)
        except (click.UsageError, InputError) as exc:
            if _wants_json(given):
                message = exc.message if isinstance(exc, InputError) else exc.format_message()
                failure_json(message, 2)
            raise


def _refuse_repeats(command: click.Command, args: list[str]) -> None:
    names: dict[str, click.Option] = {}
    for param in command.params:
        if isinstance(param, click.Option) and not param.multiple:
            for name in (*param.opts, *param.secondary_opts):
                names[name] = param
    seen: dict[str, str] = {}
    tokens = iter(args)
    for token in tokens:
        if token == "--":
            break
        name = token.partition("=")[0]
        option = names.get(name)
        if option is None:
            continue
        if option.name in seen:
            raise InputError(f"{name} given twice (also as {seen[option.name]}); "
                             "give it once, the last one would not silently win")
        seen[str(option.name)] = name
        if not option.is_flag and "=" not in token:
            next(tokens, None)
