"""``env_option``: every option, switches included, also reads PROMOTER_<OPTION>."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from promoter.cli import COMMANDS, cli, env_option, stacked


def all_options() -> list[tuple[str, click.Option]]:
    """(command, option) over every command (the group's --verbose and --version aside)."""
    ctx = click.Context(cli)
    found: list[tuple[str, click.Option]] = []
    todo = [(name, cli.get_command(ctx, name)) for name in COMMANDS]
    while todo:
        name, command = todo.pop()
        assert command is not None
        found += [(name, p) for p in command.params if isinstance(p, click.Option)]
        if isinstance(command, click.Group):
            todo += [(f"{name} {sub}", c) for sub, c in command.commands.items()]
    return found


@pytest.mark.parametrize(("where", "option"), all_options(),
                         ids=lambda value: getattr(value, "opts", [value])[-1])
def test_every_option_reads_its_promoter_variable(where: str, option: click.Option) -> None:
    if (where, option.name) == ("demo", "keep"):
        assert option.envvar is None  # the demo's only option is not a CI input
        return
    long = next(name for name in option.opts if name.startswith("--"))
    assert option.envvar == "PROMOTER_" + long[2:].upper().replace("-", "_")
    assert option.show_envvar


@click.command()
@stacked(
    env_option("--draft/--no-draft", default=None),
    env_option("--label", multiple=True),
)
def show(draft: bool | None, label: tuple[str, ...]) -> None:
    click.echo(f"{draft} {list(label)}")


@pytest.mark.parametrize(("args", "environ", "shown"), [
    ([], {}, "None []"),
    ([], {"PROMOTER_DRAFT": "false"}, "False []"),
    ([], {"PROMOTER_DRAFT": "true", "PROMOTER_LABEL": "a b"}, "True ['a', 'b']"),
    (["--no-draft"], {"PROMOTER_DRAFT": "true"}, "False []"),
])
def test_a_switch_reads_one_variable(args: list[str], environ: dict[str, str],
                                     shown: str) -> None:
    result = CliRunner().invoke(show, args, env=environ)
    assert (result.exit_code, result.output.strip()) == (0, shown)


def test_stacked_options_keep_their_order_in_help() -> None:
    names = [p.name for p in show.params]
    assert names == ["draft", "label"]
