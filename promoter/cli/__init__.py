"""The command line. The ``promoter.cli`` package is the only place that
imports click; each command module imports its heavy work inside the command
function, so ``promoter --help`` stays fast.

Every option can also be given as a ``PROMOTER_<OPTION>`` environment variable
(``--app`` <- ``PROMOTER_APP``), which is how action.yml and the GitLab template
pass their inputs.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from promoter import __version__
from promoter.errors import EXIT_INPUT, Interrupted, PromoterError

# command name -> "module:attribute"; loaded only when the command runs or help lists it.
COMMANDS = {
    "update": "promoter.cli.update:update",
    "diff": "promoter.cli.update:diff",
    "promote": "promoter.cli.promote:promote",
    "status": "promoter.cli.status:status",
    "config": "promoter.cli.config:config",
    "demo": "promoter.cli.demo:demo",
    "verify": "promoter.cli.verify:verify",
}


# command name -> the first paragraph of its help, for ``promoter --help``'s list
# (so listing the commands imports none of them); tests/cli/test_help.py keeps
# it equal to each command's own help.
SUMMARIES = {
    "update": "Give every reference to REF's image under PATHs (default .) REF's tag"
              " and/or digest, changing only the bytes of the values.",
    "diff": "Show what ``update`` would change, as a unified diff (same as update"
            " --dry-run).",
    "promote": "Promote an image into an environment: clone, edit, commit, push, open"
               " or update the pull request, and report.",
    "status": "Print the app x environment matrix of the images the repository holds.",
    "config": "Work with .promoter.yaml.",
    "demo": "Run real promotions on the bundled example config repository (local bare"
            " remote, local forge; no network, no credentials).",
    "verify": "Verify that REVISION (or a later commit containing it) is live: Argo CD"
              " or Flux synced it, and the workloads rolled out and run --image.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's command list, from SUMMARIES: no command module is imported."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, click.Command(name, help=SUMMARIES[name]).get_short_help_str(limit))
                for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="promoter")
@click.option(
    "-v", "--verbose", is_flag=True, envvar="PROMOTER_VERBOSE",
    help="Show tracebacks and debug logs on stderr.",
)
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """promoter: write a new image into a GitOps config repository, open or
    update one pull request per app and environment, and verify from the
    cluster that the merged commit is live."""
    ctx.obj = {"verbose": verbose}


# whether main() runs promoter as its own process (not main(argv) or click's
# CliRunner inside another program): a command may then end it early (update.py)
PROCESS = {"own": False}


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning PromoterError into one line and an exit code."""
    PROCESS["own"] = argv is None
    verbose = "-v" in (argv or sys.argv[1:]) or "--verbose" in (argv or sys.argv[1:])
    previous = _interruptible()
    try:
        code = cli.main(args=argv, prog_name="promoter", standalone_mode=False)
        if isinstance(code, int) and code:  # click returns Exit's code when not standalone
            sys.exit(code)
    except (PromoterError, Interrupted) as exc:
        if verbose:
            _print_traceback()
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_INPUT if isinstance(exc, click.UsageError) else exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except ModuleNotFoundError as exc:
        from promoter.extras import missing_extra

        message = missing_extra(exc)
        if message is None:
            raise
        click.echo(f"error: {message}", err=True)
        sys.exit(EXIT_INPUT)
    finally:
        _restore(previous)
    sys.exit(0)


def _interruptible() -> dict[int, Any]:
    """SIGTERM and SIGINT raise Interrupted, so that context managers unwind and the
    temporary clone and any git process are removed (SIGTERM would kill outright).
    The handlers replaced, for ``_restore``."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    return {signum: signal.signal(signum, interrupt)
            for signum in (signal.SIGTERM, signal.SIGINT)}


def _restore(previous: dict[int, Any]) -> None:
    import signal

    for signum, handler in previous.items():
        signal.signal(signum, handler)


def _print_traceback() -> None:
    """The traceback for --verbose, with every secret the run used redacted (a
    chained SDK exception may quote a server that echoed one)."""
    import traceback

    from promoter.http_safety import redact

    click.echo(redact(traceback.format_exc()), err=True, nl=False)


F = TypeVar("F", bound=Callable[..., Any])


def env_option(name: str, *decls: str, **kwargs: Any) -> Callable[[F], F]:
    """``--name`` that also reads ``PROMOTER_NAME`` from the environment; a switch
    ``--name/--no-name`` reads the same variable."""
    var = "PROMOTER_" + name.partition("/")[0].lstrip("-").upper().replace("-", "_")
    decorator: Callable[[F], F] = click.option(name, *decls, envvar=var, show_envvar=True,
                                               **kwargs)
    return decorator


def stacked(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """One decorator for a list of options, listed as they appear in --help."""

    def apply(func: F) -> F:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply
