"""What the command modules share: logging setup, ``Name <email>`` parsing,
emitting a result or a failure in the chosen output format, and the cluster
flags of ``verify`` and ``promote --verify``.

Only click and the standard library at import time.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from promoter.cli import env_option, stacked
from promoter.errors import InputError, PromoterError

if TYPE_CHECKING:
    from promoter.git import Identity
    from promoter.promotion import Promotion

OUTPUT = click.Choice(["text", "json", "github", "gitlab"])
_IDENTITY = re.compile(r"^\s*(?P<name>[^<>]+?)\s*<(?P<email>[^<>\s]+)>\s*$")


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the ``sys.stderr`` of the moment (a test's capture replaces
    it), as logging's own last resort does."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def setup_logging(ctx: click.Context | None = None) -> None:
    """promoter's log output (``promoter.logs``): one handler on the root
    logger (once; not when a program that runs promoter inside it has set up
    logging) printing promoter's records at WARNING, with --verbose every
    record at DEBUG; ``warnings`` go to logging (``py.warnings``), so they are
    printed only with --verbose (a filter that turns one into an error, ``-W
    error`` or PYTHONWARNINGS, still does)."""
    from promoter import logs
    from promoter.http_safety import install_log_redaction

    verbose = bool(((ctx or click.get_current_context()).find_root().obj or {}).get("verbose"))
    install_log_redaction()
    logging.captureWarnings(True)
    root = logging.getLogger()
    found = next((h for h in root.handlers if isinstance(h, _Stderr)), None)
    if found is None and root.handlers:
        return
    if found is None:
        found = _Stderr()
        found.setFormatter(logging.Formatter(logs.FORMAT))
        root.addHandler(found)
    found.filters = [logs.Printed(verbose)]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)


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


def emit(result: Promotion, output: str, failure: PromoterError | None = None) -> None:
    """The record of ``result``; with ``failure``, of the run that failed after it."""
    from promoter.report import render

    click.echo(render(result.record(failure), output, os.environ, result.diff, result.notes))


CLUSTER = ("kubeconfig", "context", "argocd_server", "argocd_token", "argocd_ca", "sync",
           "refresh", "allow_paused")
_CLUSTER_OPTIONS = stacked(
    env_option("--kubeconfig", metavar="PATH", help="kubeconfig file (default: the usual)."),
    env_option("--context", metavar="NAME", help="kubeconfig context."),
    env_option("--argocd-server", metavar="URL", help="Read Applications from the Argo CD API."),
    env_option("--argocd-token", metavar="TOKEN", help="Argo CD API token."),
    env_option("--argocd-ca", metavar="PATH",
               help="CA bundle for the Argo CD API server (default: system store,"
                    " SSL_CERT_FILE)."),
    env_option("--sync", is_flag=True,
               help="Sync an OutOfSync Argo CD app (for apps without auto-sync)."),
    env_option("--refresh", is_flag=True, help="Ask Argo CD / Flux to reconcile now."),
    env_option("--allow-paused", is_flag=True,
               help="Accept an Argo Rollout paused indefinitely (timed pauses are followed)."),
)


def cluster_flags_given(ctx: click.Context) -> list[str]:
    """The cluster flags given on the command line; from the environment they
    may be set for every job of a pipeline, so they are not counted."""
    source = click.core.ParameterSource.COMMANDLINE
    return [f"--{name.replace('_', '-')}" for name in CLUSTER
            if ctx.get_parameter_source(name) is source]


def cluster_options(command: Callable[..., None]) -> Callable[..., None]:
    """The cluster flags ``verify`` and ``promote`` share; the command receives
    them as one ``cluster`` argument (promoter.verify.cluster.Cluster)."""

    @functools.wraps(command)
    def with_cluster(*args: Any, kubeconfig: str | None, context: str | None,
                     argocd_server: str | None, argocd_token: str | None,
                     argocd_ca: str | None, sync: bool, refresh: bool, allow_paused: bool,
                     **given: Any) -> None:
        from promoter.verify.cluster import Cluster

        command(*args, cluster=Cluster(
            kubeconfig=kubeconfig, context=context, argocd_server=argocd_server,
            argocd_token=argocd_token, argocd_ca=argocd_ca, sync=sync, refresh=refresh,
            allow_paused=allow_paused), **given)

    return _CLUSTER_OPTIONS(with_cluster)
