"""``promoter promote``: the whole pipeline, from the command line.

Only click and light modules at import time; the pipeline loads inside the command.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from promoter.cli import env_option
from promoter.cli.common import OUTPUT, emit, emit_error, identity, setup_logging
from promoter.cli.strict import StrictCommand, failure_json
from promoter.errors import InputError, PromoterError

F = TypeVar("F", bound=Callable[..., Any])


def _switch(name: str, **kwargs: Any) -> Callable[[F], F]:
    """``--name/--no-name`` (default None: "as configured"), also from PROMOTER_NAME."""
    var = "PROMOTER_" + name.upper().replace("-", "_")
    decorator: Callable[[F], F] = click.option(
        f"--{name}/--no-{name}", envvar=var, show_envvar=True, **kwargs
    )
    return decorator


@click.command(cls=StrictCommand)
@env_option("--repo", required=True, help="Config repository: URL (https, ssh, file) or path.")
@env_option("--base", help="Base branch (default: the remote's default branch).")
@env_option("--app", help="App name from .promoter.yaml.")
@env_option("--env", help="Target environment from .promoter.yaml.")
@env_option("--image", help="New image reference, REPO:TAG, REPO@DIGEST or both.")
@env_option("--from", help="Promote exactly what runs in this environment.")
@env_option("--path", multiple=True, help="File or directory to edit (repeatable).")
@env_option("--key", multiple=True, help="Explicit Helm key path (repeatable).")
@env_option("--forge", type=click.Choice(["local", "github", "gitlab"]),
            help="Where to open the pull request (default: inferred from --repo).")
@_switch("direct", default=None, help="Push to the base branch, no PR.")
@env_option("--branch", help="Branch template, {app} {env} (default: promoter/{env}/{app}).")
@env_option("--dry-run", is_flag=True, help="Clone and plan; print the diff; push nothing.")
@env_option("--output", type=OUTPUT, default="text", show_default=True)
@env_option("--author", help="Commit author 'Name <email>' (default from the CI).")
@env_option("--committer", help="Commit committer 'Name <email>' (default: the author).")
@env_option("--message", help="Commit message template: {app} {env} {old} {new} {image}.")
@env_option("--signoff", is_flag=True, help="Add a Signed-off-by trailer.")
@env_option("--title", help="Pull request title template.")
@env_option("--body", help="Text above the generated pull request body.")
@env_option("--label", multiple=True, help="Pull request label (repeatable).")
@env_option("--reviewer", multiple=True, help="Reviewer (repeatable).")
@env_option("--assignee", multiple=True, help="Assignee (repeatable).")
@_switch("draft", default=None, help="Open the pull request as a draft.")
@_switch("auto-merge", default=None, help="Enable auto-merge.")
@env_option("--merge-method", type=click.Choice(["merge", "squash", "rebase"]))
@_switch("delete-branch", default=None,
            help="Delete the branch after the merge.")
@env_option("--api-url", help="Forge API URL (GitHub Enterprise, self-managed GitLab).")
@env_option("--app-id", help="GitHub App id (with --app-private-key).")
@env_option("--app-private-key", help="GitHub App private key (PEM text or file path).")
@env_option("--wait-merge", is_flag=True, help="Wait until the pull request is merged.")
@env_option("--timeout", default="30m", show_default=True, help="Time limit for waits.")
@env_option("--network-timeout",
            help="Time limit for each git command and forge request (default: --timeout,"
                 " at least 60s).")
@env_option("--verify", is_flag=True, help="After the merge, verify from the cluster.")
@env_option("--force", is_flag=True,
            help="Rebuild the promoter branch even if it holds commits promoter did not make.")
@env_option("--allow-downgrade", is_flag=True, default=None,
            help="Allow writing an older version than the one in place.")
@env_option("--skip-uneditable", is_flag=True,
            help="Go on past target files that hold the image but cannot be edited.")
@env_option("--max-attempts", type=click.IntRange(1, 100), default=30, show_default=True,
            help="Push attempts when other pushes land first.")
@_switch("registry", default=None,
         help="Check the image in its registry first (default; .promoter.yaml registry:).")
@_switch("pin-digest", default=None, help="Write TAG@DIGEST resolved from the registry.")
@env_option("--insecure-registry", multiple=True, metavar="HOST[:PORT]",
            help="Registry to speak plain HTTP to (in-cluster; repeatable).")
@env_option("--registry-timeout", default="10s", show_default=True,
            help="Time limit of each registry request.")
@env_option("--sign", type=click.Choice(["gpg", "ssh", "github", "gitlab"]),
            help="Sign the commit: gpg/ssh with PROMOTER_SIGNING_KEY; github/gitlab: the"
            " forge makes it.")
@env_option("--require-verified", is_flag=True,
            help="With --from: refuse unless that environment's commit was verified.")
@env_option("--record", is_flag=True,
            help="Record a deployment and, after --verify, the commit status promoter/ENV.")
@env_option("--environment-url", help="URL shown on the deployment record.")
@click.pass_context
def promote(ctx: click.Context, /, **options: Any) -> None:
    """Promote an image into an environment: clone, edit, commit, push, open or
    update the pull request, and report."""
    setup_logging(ctx)
    from promoter.promote import promote as run_promotion

    try:
        result = run_promotion(_request(options), os.environ)
    except PromoterError as exc:
        emit_error(exc.message, options["output"])
        if options["output"] == "json":
            failure_json(options, exc.message, exc.exit_code)
        raise
    emit(result, options["output"])
    if result.exit_code:
        click.echo(f"error: {result.error}", err=True)
        raise click.exceptions.Exit(result.exit_code)


def _request(options: dict[str, Any]) -> Any:
    from promoter.config import duration
    from promoter.promote import PullRequestOptions, Request
    from promoter.retry import PushRetry

    if options["image"] and options["from"]:
        raise InputError("--image and --from exclude each other; give one")
    _check_options(options)
    timeout = duration(options["timeout"], "--timeout")
    network = duration(options["network_timeout"], "--network-timeout")
    return Request(
        repo=options["repo"], app=options["app"], env=options["env"],
        image=options["image"], from_env=options["from"],
        paths=tuple(options["path"]), keys=tuple(options["key"]), base=options["base"],
        forge=options["forge"], direct=options["direct"], branch=options["branch"],
        dry_run=options["dry_run"],
        author=identity(options["author"], "--author"),
        committer=identity(options["committer"], "--committer"),
        message=options["message"], signoff=options["signoff"],
        pull_request=PullRequestOptions(
            title=options["title"], body=options["body"], labels=tuple(options["label"]),
            reviewers=tuple(options["reviewer"]), assignees=tuple(options["assignee"]),
            draft=options["draft"], auto_merge=options["auto_merge"],
            merge_method=options["merge_method"], delete_branch=options["delete_branch"],
        ),
        api_url=options["api_url"], app_id=options["app_id"],
        app_private_key=options["app_private_key"],
        wait_merge=options["wait_merge"], verify=options["verify"],
        timeout=1800.0 if timeout is None else timeout, network_timeout=network,
        retry=PushRetry(attempts=options["max_attempts"]),
        registry=_registry_options(options),
        force=options["force"], allow_downgrade=options["allow_downgrade"] or None,
        skip_uneditable=options["skip_uneditable"],
        sign=options["sign"], require_verified=options["require_verified"],
        record=options["record"], environment_url=options["environment_url"],
    )


def _registry_options(options: dict[str, Any]) -> Any:
    from promoter.config import duration
    from promoter.registry.options import Options

    timeout = duration(options["registry_timeout"], "--registry-timeout")
    return Options(check=options["registry"], pin_digest=options["pin_digest"],
                   insecure=tuple(options["insecure_registry"]),
                   timeout=10.0 if timeout is None else timeout)


def _check_options(options: dict[str, Any]) -> None:
    """Refuse options that would be ignored, and templates with unknown placeholders."""
    from promoter.template import FIELDS, check

    for option in ("message", "title"):
        if options[option]:
            check(options[option], FIELDS, f"--{option}")
    if bool(options["app_id"]) != bool(options["app_private_key"]):
        given = "--app-id" if options["app_id"] else "--app-private-key"
        raise InputError(f"{given} needs --app-id and --app-private-key together; give both")
    if options["dry_run"] and (options["wait_merge"] or options["verify"]):
        which = "--wait-merge" if options["wait_merge"] else "--verify"
        raise InputError(f"{which} has no effect with --dry-run (nothing is pushed); drop one")
