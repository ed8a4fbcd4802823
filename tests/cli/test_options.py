"""``env_option``: every option, switches included, also reads PROMOTER_<OPTION>."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from promoter.cli import COMMANDS, cli, env_option, stacked
from promoter.cli.common import CLUSTER, cluster_flags_given, cluster_options


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


def test_promote_takes_the_cluster_flags_of_verify() -> None:
    ctx = click.Context(cli)
    declared = {}
    for name in ("verify", "promote"):
        command = cli.get_command(ctx, name)
        assert command is not None
        declared[name] = {p.name: p.to_info_dict() for p in command.params if p.name in CLUSTER}
    assert list(declared["verify"]) == list(declared["promote"]) == list(CLUSTER)
    assert declared["verify"] == declared["promote"]


@click.command()
@cluster_options
@click.pass_context
def cluster_given(ctx: click.Context, cluster: object) -> None:
    click.echo(f"{cluster_flags_given(ctx)} {cluster!r}")


def test_cluster_flags_from_the_command_line_count_and_the_environment_does_not() -> None:
    result = CliRunner().invoke(cluster_given, ["--context", "prod", "--sync"],
                                env={"PROMOTER_KUBECONFIG": "/k", "PROMOTER_REFRESH": "1",
                                     "PROMOTER_ARGOCD_TOKEN": "s3cret"})
    assert result.exit_code == 0, result.output
    assert result.output.startswith("['--context', '--sync'] Cluster(kubeconfig='/k', "
                                    "context='prod', argocd_server=None, argocd_ca=None, "
                                    "sync=True, refresh=True, allow_paused=False)")
    assert "s3cret" not in result.output
