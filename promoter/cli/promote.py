"""``promoter promote``: the whole pipeline, from the command line.

Only click and light modules at import time; the pipeline loads inside the command.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING

import click

from promoter.cli import env_option
from promoter.cli.common import (
    OUTPUT,
    cluster_flags_given,
    cluster_options,
    emit,
    emit_error,
    identity,
    setup_logging,
)
from promoter.cli.strict import StrictCommand, failure_json
from promoter.errors import (
    InputError,
    Interrupted,
    InterruptedAfterPush,
    PromoterError,
    PromotionFailed,
)
from promoter.retry import PROMOTE_TIMEOUT

if TYPE_CHECKING:
    from promoter.forges import PullRequestSettings
    from promoter.registry.options import Options as RegistryOptions
    from promoter.verify.cluster import Cluster


def _mask(secret: str) -> None:
    """A secret promoter derived (an App installation token): hidden in the
    Actions log before anything could print it."""
    from promoter.report_ci import mask_now

    mask_now(secret, os.environ)


@click.command(cls=StrictCommand)
@env_option("--repo", required=True, help="Config repository: URL (https, ssh, file) or path.")
@env_option("--base", help="Base branch (default: the remote's default branch).")
@env_option("--app", help="App name from .promoter.yaml.")
@env_option("--env", help="Target environment from .promoter.yaml.")
@env_option("--image", help="New image reference, REPO:TAG, REPO@DIGEST or both.")
@env_option("--from", "from_env", help="Promote exactly what runs in this environment.")
@env_option("--path", multiple=True, help="File or directory to edit (repeatable).")
@env_option("--key", multiple=True, help="Explicit Helm key path (repeatable).")
@env_option("--forge", type=click.Choice(["local", "github", "gitlab"]),
            help="Where to open the pull request (default: inferred from --repo).")
@env_option("--direct/--no-direct", default=None, help="Push to the base branch, no PR.")
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
@env_option("--draft/--no-draft", default=None, help="Open the pull request as a draft.")
@env_option("--auto-merge/--no-auto-merge", default=None, help="Enable auto-merge.")
@env_option("--merge-method", type=click.Choice(["merge", "squash", "rebase"]))
@env_option("--delete-branch/--no-delete-branch", default=None,
            help="Delete the branch after the merge.")
@env_option("--api-url", help="Forge API URL (GitHub Enterprise, self-managed GitLab).")
@env_option("--app-id", help="GitHub App id (with --app-private-key).")
@env_option("--app-private-key", help="GitHub App private key (PEM text or file path).")
@env_option("--wait-merge", is_flag=True, help="Wait until the pull request is merged.")
@env_option("--timeout", default=f"{PROMOTE_TIMEOUT / 60:g}m", show_default=True,
            help="Time limit for waits.")
@env_option("--network-timeout",
            help="Time limit for each git command and forge request (default: --timeout,"
                 " at least 60s).")
@env_option("--verify", is_flag=True, help="After the merge, verify from the cluster.")
@cluster_options
@env_option("--force", is_flag=True,
            help="Rebuild the promoter branch even if it holds commits promoter did not make.")
@env_option("--allow-downgrade", is_flag=True, default=None,
            help="Allow writing an older version than the one in place.")
@env_option("--skip-uneditable", is_flag=True,
            help="Go on past target files that hold the image but cannot be edited.")
@env_option("--max-attempts", type=click.IntRange(1, 100), default=30, show_default=True,
            help="Push attempts when other pushes land first.")
@env_option("--registry/--no-registry", default=None,
            help="Check the image in its registry first (default; .promoter.yaml registry:).")
@env_option("--pin-digest/--no-pin-digest", default=None,
            help="Write TAG@DIGEST resolved from the registry.")
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
def promote(
    ctx: click.Context, /, *, repo: str, base: str | None, app: str | None, env: str | None,
    image: str | None, from_env: str | None, path: tuple[str, ...], key: tuple[str, ...],
    forge: str | None, direct: bool | None, branch: str | None, dry_run: bool, output: str,
    author: str | None, committer: str | None, message: str | None, signoff: bool,
    title: str | None, body: str | None, label: tuple[str, ...], reviewer: tuple[str, ...],
    assignee: tuple[str, ...], draft: bool | None, auto_merge: bool | None,
    merge_method: str | None, delete_branch: bool | None, api_url: str | None,
    app_id: str | None, app_private_key: str | None, wait_merge: bool, timeout: str,
    network_timeout: str | None, verify: bool, cluster: Cluster, force: bool,
    allow_downgrade: bool | None, skip_uneditable: bool, max_attempts: int,
    registry: bool | None, pin_digest: bool | None, insecure_registry: tuple[str, ...],
    registry_timeout: str, sign: str | None, require_verified: bool, record: bool,
    environment_url: str | None,
) -> None:
    """Promote an image into an environment: clone, edit, commit, push, open or
    update the pull request, and report."""
    setup_logging(ctx)
    from promoter.cli.progress import Progress
    from promoter.config import duration
    from promoter.promote import Request
    from promoter.promote import promote as run_promotion
    from promoter.retry import PUSH

    printer = Progress()
    try:
        if image and from_env:
            raise InputError("--image and --from exclude each other; give one")
        _check_templates(message, title)
        _check_together(app_id, app_private_key, dry_run, wait_merge, verify, record)
        _check_cluster(ctx, verify)
        wait_limit = _seconds(timeout, "--timeout", PROMOTE_TIMEOUT)
        network_limit = duration(network_timeout, "--network-timeout")
        request = Request(
            repo=repo, app=app, env=env, image=image, from_env=from_env, paths=path,
            keys=key, base=base, forge=forge, direct=direct, branch=branch, dry_run=dry_run,
            author=identity(author, "--author"),
            committer=identity(committer, "--committer"), message=message, signoff=signoff,
            pull_request=_pull_request(title, body, label, reviewer, assignee, draft,
                                       auto_merge, merge_method, delete_branch),
            api_url=api_url, app_id=app_id, app_private_key=app_private_key,
            wait_merge=wait_merge, verify=verify, cluster=cluster, timeout=wait_limit,
            network_timeout=network_limit, retry=replace(PUSH, attempts=max_attempts),
            registry=_registry(registry, pin_digest, insecure_registry, registry_timeout),
            force=force, allow_downgrade=allow_downgrade or None,
            skip_uneditable=skip_uneditable, sign=sign, require_verified=require_verified,
            record=record, environment_url=environment_url, progress=printer,
        )
        result = run_promotion(request, os.environ, mask=_mask)
    except PromotionFailed as failed:  # after the push: the record of what was done
        printer.done()
        emit(failed.result, output, failed)
        click.echo(f"error: {failed.message}", err=True)
        raise click.exceptions.Exit(failed.exit_code) from None
    except PromoterError as exc:
        printer.done()
        emit_error(exc.message, output)
        if output == "json":
            failure_json(exc.message, exc.exit_code, app=app, env=env, image=image, repo=repo)
        raise
    except InterruptedAfterPush as stop:  # the record of what was pushed; main() exits 1
        printer.done()
        emit(stop.result, output, PromoterError(stop.message))
        raise
    except Interrupted as stop:  # before the push: nothing was pushed
        printer.done()
        emit_error(stop.message, output)
        if output == "json":
            failure_json(stop.message, stop.exit_code, app=app, env=env, image=image, repo=repo)
        raise
    printer.done()
    emit(result, output)


def _pull_request(
    title: str | None, body: str | None, labels: tuple[str, ...], reviewers: tuple[str, ...],
    assignees: tuple[str, ...], draft: bool | None, auto_merge: bool | None,
    merge_method: str | None, delete_branch: bool | None,
) -> PullRequestSettings:
    """The pull request settings given on the command line (None: as configured)."""
    from promoter.forges import PullRequestSettings

    return PullRequestSettings(
        title=title, body=body, labels=labels, reviewers=reviewers, assignees=assignees,
        draft=draft, auto_merge=auto_merge, merge_method=merge_method,
        delete_branch=delete_branch,
    )


def _registry(check: bool | None, pin_digest: bool | None, insecure: tuple[str, ...],
              timeout: str) -> RegistryOptions:
    from promoter.registry.options import Options

    return Options(check=check, pin_digest=pin_digest, insecure=insecure,
                   timeout=_seconds(timeout, "--registry-timeout", 10.0))


def _seconds(text: str | None, option: str, default: float) -> float:
    from promoter.config import duration

    seconds = duration(text, option)
    return default if seconds is None else seconds


def _check_templates(message: str | None, title: str | None) -> None:
    """Refuse templates with unknown placeholders."""
    from promoter.template import FIELDS, check

    for option, template in (("--message", message), ("--title", title)):
        if template:
            check(template, FIELDS, option)


def _check_together(app_id: str | None, app_private_key: str | None, dry_run: bool,
                    wait_merge: bool, verify: bool, record: bool = False) -> None:
    """Refuse options that need each other, or would be ignored."""
    if bool(app_id) != bool(app_private_key):
        given = "--app-id" if app_id else "--app-private-key"
        raise InputError(f"{given} needs --app-id and --app-private-key together; give both")
    if dry_run and (wait_merge or verify or record):
        which = "--wait-merge" if wait_merge else "--verify" if verify else "--record"
        raise InputError(f"{which} has no effect with --dry-run (nothing is pushed); drop one")


def _check_cluster(ctx: click.Context, verify: bool) -> None:
    given = cluster_flags_given(ctx)
    if given and not verify:
        raise InputError(f"{given[0]} has no effect without --verify; add --verify or drop it")
