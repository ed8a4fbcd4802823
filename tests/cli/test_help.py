"""``promoter --help`` lists the commands from a table (promoter.cli.SUMMARIES)
without importing them; the list must be what click would print from the
commands themselves, and no command module may load for it."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from promoter.cli import COMMANDS, SUMMARIES, cli


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_summary_is_the_first_paragraph_of_the_commands_help(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None and command.help is not None
    first = " ".join(click.Command(name, help=command.help).get_short_help_str(10**6).split())
    assert " ".join(SUMMARIES[name].split()) == first


def test_help_lists_what_click_would_list() -> None:
    ours = CliRunner().invoke(cli, ["--help"], terminal_width=80, prog_name="promoter").output

    class Eager(click.Group):  # click's own listing, from the imported commands
        pass

    eager = Eager(name=cli.name, params=cli.params, help=cli.help,
                  context_settings=cli.context_settings)
    for name in COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        assert command is not None
        eager.add_command(command, name)
    theirs = CliRunner().invoke(eager, ["--help"], terminal_width=80,
                                prog_name="promoter").output
    assert "Commands:" in ours and ours == theirs


def test_help_imports_no_command_module() -> None:
    code = ("import sys; from promoter.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('promoter.cli.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip().splitlines()[-1] == "[]"
