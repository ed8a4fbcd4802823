"""The first stage after the clone: what to promote where. The request and
``.promoter.yaml`` become a ``Job``: the target (app, environment, paths, branch),
the image reference (checked in its registry), the identities, the source of
the promotion; the sparse clone is widened to the paths it needs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from promoter import config as cfg
from promoter import git, guards, plan, workspace
from promoter.errors import InputError
from promoter.images import ImageRef
from promoter.manifests import flux, overlay
from promoter.promotion import Job, Request
from promoter.registry import gate
from promoter.template import TARGET_FIELDS, check, fill


def prepare(request: Request, ws: workspace.Workspace, environ: Mapping[str, str]) -> Job:
    config = cfg.load(ws.work)
    target = _target(request, config)
    source = request.from_env
    if source is None and request.image is None and config is not None:
        source = config.environments[target.env].promote_from  # the configured default
    paths, what = plan.sparse_paths(config, target, source), f"paths of app {target.app}"
    workspace.checkout_paths(ws, cfg.sparse_roots(paths), f"{what} in {target.env}")
    overlay.widen(ws.work, cfg.expand(ws.work, paths), lambda wanted: workspace.checkout_paths(
        ws, wanted, f"resources of the kustomizations of app {target.app}", skip_missing=True))
    flux.widen(ws.work, cfg.expand(ws.work, paths), target.image, lambda wanted: (
        workspace.checkout_paths(ws, wanted, f"Flux definitions of app {target.app}")),
        target.keys)
    target = replace(target, paths=cfg.expand(ws.work, target.paths))
    if not target.paths:
        raise InputError(f"{what} in {target.env}: {', '.join(_patterns(config, target))}"
                         " matches nothing; fix the paths")
    if source and config is None:
        raise InputError(f"--from needs {cfg.FILE} in the repository; use --image")
    ref = (plan.from_env(ws.work, config, target, source) if source and config
           else plan.new_ref(target, request.image))
    ref, client = _registry(request, target, ref, source if source and config else None, environ)
    author = request.author or default_identity(environ)
    direct = target.direct if request.direct is None else request.direct
    guards.refuse_ignored(request, direct)
    if not direct and target.branch == ws.base:
        raise InputError(
            f"--branch {target.branch} is the base branch of {request.repo}; promoter never "
            f"force-pushes the base: use --direct to commit to {ws.base}, or another --branch"
        )
    return Job(request, ws, target, ref, direct, author, request.committer or author,
               plan.ci_run_from(environ), client)


def _registry(request: Request, target: cfg.Target, ref: ImageRef, source: str | None,
              environ: Mapping[str, str]) -> tuple[ImageRef, object]:
    """The registry step (promoter.registry.gate): exists, same digest, pinned."""
    return gate.checked(request.registry, ref, environ, check=target.registry.check,
                        pin=target.registry.pin_digest, where=f"environment {target.env}",
                        source=f"environment {source}" if source else None)


def _target(request: Request, config: cfg.Config | None) -> cfg.Target:
    """What to edit: from .promoter.yaml (with --path and --branch overrides) or flags."""
    if config is None:
        if not request.image:
            raise InputError(f"no {cfg.FILE} in the repository: pass --image and --path")
        target = plan.flags_target(request.image, request.paths, request.keys,
                                   request.app, request.env)
    else:
        if not request.app or not request.env:
            raise InputError(f"{cfg.FILE} found: pass --app and --env")
        target = cfg.resolve(config, request.app, request.env)
        if request.keys:
            target = replace(target, keys=(*target.keys, *request.keys))
        if request.paths:
            target = replace(target, paths=tuple(cfg.safe_path(p, "--path") for p in request.paths))
    if request.branch:
        template = check(request.branch, TARGET_FIELDS, "--branch")
        target = replace(target, branch=fill(template, {"app": target.app, "env": target.env}))
    return target


def _patterns(config: cfg.Config | None, target: cfg.Target) -> tuple[str, ...]:
    return cfg.resolve(config, target.app, target.env).paths if config else ()


def default_identity(environ: Mapping[str, str]) -> git.Identity:
    """Author from the CI: GITHUB_ACTOR, GITLAB_USER_NAME/EMAIL; else promoter."""
    actor = environ.get("GITHUB_ACTOR")
    if actor:
        prefix = f"{environ['GITHUB_ACTOR_ID']}+" if environ.get("GITHUB_ACTOR_ID") else ""
        return git.Identity(actor, f"{prefix}{actor}@users.noreply.github.com")
    if environ.get("GITLAB_USER_NAME") and environ.get("GITLAB_USER_EMAIL"):
        return git.Identity(environ["GITLAB_USER_NAME"], environ["GITLAB_USER_EMAIL"])
    return git.Identity("promoter", "promoter@localhost")
