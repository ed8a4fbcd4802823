"""``promoter verify``: prove from the cluster that a merged commit is live."""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from promoter.cli import env_option, stacked
from promoter.cli.common import cluster_options, setup_logging
from promoter.retry import VERIFY_SETTLE, VERIFY_TIMEOUT, Clock
from promoter.verify.kinds import KINDS

if TYPE_CHECKING:
    from promoter.verify.cluster import Cluster


F = TypeVar("F", bound=Callable[..., None])
CLOCK = Clock()  # the verification's time (a test's clock replaces it)


def reported(command: F) -> F:
    """A failure before the verdict's record (a bad target, an unreadable
    kubeconfig, a clone or fetch that fails or times out, a signal) still prints
    the failed record / sets the CI outputs and dotenv report, as for
    ``promote``; the verdict's own failure has its record (``emit``)."""
    from promoter.errors import Interrupted, PromoterError

    @functools.wraps(command)
    def run(*args: Any, **given: Any) -> None:
        try:
            command(*args, **given)
        except (PromoterError, Interrupted) as exc:
            if getattr(exc, "result", None) is None:
                failed(exc.message, exc.exit_code, given["output"], given.get("revision"),
                       given.get("image"))
            raise

    return cast(F, run)


def failed(message: str, code: int, output: str | None, revision: str | None = None,
           image: str | None = None) -> None:
    """The record of a verify that failed before its verdict (``verify: null``),
    in ``output`` (text: nothing, main() prints the ``error:`` line)."""
    if output not in ("json", "github", "gitlab"):
        return
    from promoter.report import render

    record = {"schema": "promoter/v1", "revision": revision, "image": image,
              "operation": "failed", "verify": None, "error": message, "exit_code": code}
    click.echo(render(record, output, os.environ))
    sys.stdout.flush()


class VerifyCommand(click.Command):
    """With ``--output json|github|gitlab`` a usage error prints the failed record too."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        from promoter.cli.strict import wanted_output

        given = list(args)  # click's parser consumes ``args``
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            failed(exc.format_message(), 2, wanted_output(given))
            raise


def text(record: Mapping[str, Any]) -> str:
    verify = record["verify"]
    revision = verify.get("synced_revision") or "unknown"
    lines = [f"verify: {verify['status']} (revision {record['revision']}, synced {revision})"]
    for target in verify["targets"]:
        what = f"{target['workload_kind']}/" if target.get("workload_kind") else ""
        lines.append(f"  {target['kind']} {what}{target['namespace']}/{target['name']}: "
                     f"{target['status']}: {target['reason']}")
        lines += [f"    {resource}" for resource in target.get("resources") or ()]
    return "\n".join(lines)


@click.command(cls=VerifyCommand)
@stacked(*(env_option(f"--{key}", multiple=True, metavar=kind.metavar, help=kind.help)
           for key, kind in KINDS.items()))  # one repeatable option per verify kind
@env_option("--revision", required=True, metavar="SHA", help="The merged commit.")
@env_option("--repo", metavar="URL|PATH",
            help="Config repository: accept descendants of the merged commit, and pick"
                 " its source in multi-source Argo CD apps.")
@env_option("--image", metavar="REF", help="Image the workloads must run.")
@env_option("--timeout", default=f"{VERIFY_TIMEOUT / 60:g}m", show_default=True,
            help="Give up after this long.")
@env_option("--settle", default=f"{VERIFY_SETTLE:g}s", show_default=True,
            help="How long everything must stay ready.")
@cluster_options
@env_option("--output", type=click.Choice(["text", "json", "github", "gitlab"]),
            default="text", show_default=True)
@reported
def verify(revision: str, repo: str | None, image: str | None, timeout: str, settle: str,
           cluster: Cluster, output: str, **given: tuple[str, ...]) -> None:
    """Verify that REVISION (or a later commit containing it) is live: Argo CD or
    Flux synced it, and the workloads rolled out and run --image.

    Without --repo only an exact SHA match of the synced revision counts."""
    setup_logging()
    from promoter import config, images, remote
    from promoter.verify import parse_target

    if repo:  # promote's refusal of a URL with credentials, before any request
        remote.git_url(repo)

    targets = [parse_target(key, text) for key in KINDS
               for text in given[key.replace("-", "_")]]
    limit = config.duration(timeout, "--timeout") or 0.0
    start = CLOCK.now()  # the clone of --repo counts against --timeout
    with contextlib.ExitStack() as stack:
        ancestry = url = None
        if repo:
            from promoter.verify.ancestry import local_repo, repo_ancestry, repo_url, token_for

            # the clone and fetches of the ancestry checks: each bounded by the time
            # left of --timeout, with the token promote would use for the URL (scoped
            # to its origin)
            url = repo_url(repo)
            found = token_for(url, os.environ)
            path = stack.enter_context(local_repo(repo, limit, found,
                                                    (CLOCK, start + limit, "--timeout")))
            ancestry = repo_ancestry(path, timeout=limit, found=found)
        settings = cluster.settings(
            revision, image=images.parse_new(image) if image else None,
            timeout=limit,
            settle=config.duration(settle, "--settle") or 0.0, is_ancestor=ancestry,
            repo_url=url)
        record = {"schema": "promoter/v1", "revision": revision, "image": image,
                  "operation": "none", "verify": None}
        emit(record, targets, settings, output, start)


def emit(record: dict[str, Any], targets: list[Any], settings: Any, output: str,
         start: float) -> None:
    """Run (its deadline ``settings.timeout`` after ``start`` on CLOCK), print
    the record, and re-raise a failure for its exit code."""
    from promoter.cli.progress import Progress
    from promoter.errors import VerifyFailed, VerifyTimeout
    from promoter.report import render
    from promoter.verify import run

    printer = Progress()
    try:
        result = run(targets, settings, clock=CLOCK, progress=printer, start=start)
    except (VerifyFailed, VerifyTimeout) as exc:
        if exc.result is not None:  # the loop's verdict: print the record first
            record.update(operation="failed", verify=exc.result.as_dict(), error=exc.message,
                          exit_code=exc.exit_code)
            _finish(record, output, render, printer)
        raise
    record["verify"] = result.as_dict()
    _finish(record, output, render, printer)


def _finish(record: dict[str, Any], output: str, render: Any, printer: Any) -> None:
    printer.done()
    click.echo(text(record) if output == "text" else render(record, output, os.environ))
    sys.stdout.flush()
    # the verdict is out: spare the exit the collector's walk over the kubernetes
    # client's objects (about 0.4 s of interpreter shutdown otherwise)
    gc.freeze()
