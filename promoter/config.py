"""``.promoter.yaml``: load, validate, resolve (app, env) -> Target.

Shape (see README, "Configuration"): ``environments`` (parsed by
promoter.config_environments: paths with ``{app}`` and ``{env}``,
``promote_from``, ``branch``, ``commit_message``, ``pull_request``, ``verify``,
``registry``, ``pin_digest``) and ``apps`` (``image``, optional ``paths``
and ``keys``). Every error names the file and the key:
``.promoter.yaml: environments.prod.promote_from: ...``.
The checks of single values live in promoter.config_check; the ones callers use
(``duration``, ``placeholders``, ``safe_path``, ``FILE``) are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promoter.config_check import (
    FILE,
    check_sources,
    duration,
    expand,
    fail,
    is_glob,
    mapping,
    names,
    path_templates,
    placeholders,
    safe_path,
    sparse_roots,
    string,
    strings,
)
from promoter.config_environments import (
    Environment,
    RegistrySettings,
    VerifySettings,
    environment,
)
from promoter.errors import InputError
from promoter.forges import PullRequestSettings
from promoter.images import parse as parse_image
from promoter.template import fill

__all__ = [
    "FILE", "App", "Config", "Target", "deployed", "duration", "expand", "load",
    "missing_paths", "parse", "placeholders", "resolve", "safe_path", "sparse_roots",
]

_TOP = {"version", "environments", "apps"}
_APP = {"image", "paths", "keys", "environments", "namespace"}


@dataclass(frozen=True)
class App:
    name: str
    image: str
    paths: tuple[str, ...] | None = None
    keys: tuple[str, ...] = ()
    environments: tuple[str, ...] | None = None  # None: every environment
    namespace: str | None = None  # fills {namespace} in paths


@dataclass(frozen=True)
class Config:
    environments: Mapping[str, Environment]
    apps: Mapping[str, App]


@dataclass(frozen=True)
class Target:
    """Everything a promotion of ``app`` into ``env`` needs from the config."""

    app: str
    env: str
    image: str  # repository, no tag
    paths: tuple[str, ...]
    keys: tuple[str, ...]
    branch: str
    commit_message: str
    direct: bool
    pull_request: PullRequestSettings  # every field set (PULL_REQUEST_DEFAULTS)
    verify: VerifySettings
    registry: RegistrySettings = field(default_factory=RegistrySettings)
    allow_downgrade: bool = False


def load(root: Path) -> Config | None:
    """The config at ``root/.promoter.yaml``, or None when there is none."""
    path = root / FILE
    if not path.is_file():
        return None
    return parse(_read_yaml(path))


def _read_yaml(path: Path) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    from promoter.manifests.depth import guard_depth

    try:
        text = path.read_text(encoding="utf-8")
        guard_depth(text, FILE)
        return YAML(typ="safe", pure=False).load(text)
    except (YAMLError, UnicodeDecodeError) as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{FILE}:{line} not valid YAML ({problem}); fix the syntax") from exc


def parse(data: Any) -> Config:
    top = mapping(data, "", _TOP)
    if top.get("version", 1) != 1:
        raise fail("version", f"unsupported version {top['version']!r}; use 1")
    envs = {str(name): environment(str(name), spec)
            for name, spec in mapping(top.get("environments"), "environments").items()}
    apps = {str(name): _app(str(name), spec)
            for name, spec in mapping(top.get("apps"), "apps").items()}
    check_sources({name: env.promote_from for name, env in envs.items()})
    for app in apps.values():
        for env in app.environments or ():
            if env not in envs:
                raise fail(f"apps.{app.name}.environments",
                           f"unknown environment {env!r}; use one of {names(envs)}")
    return Config(envs, apps)


def _app(name: str, spec: Any) -> App:
    key = f"apps.{name}"
    raw = mapping(spec, key, _APP)
    image = raw.get("image")
    if not isinstance(image, str) or not image:
        raise fail(f"{key}.image", "missing; give the image repository, e.g. ghcr.io/acme/api")
    ref = parse_image(image, f"{key}.image")
    if ref.tag or ref.digest:
        raise fail(f"{key}.image", f"{image!r} has a tag or digest; give the repository only")
    paths, envs = raw.get("paths"), raw.get("environments")
    return App(
        name=name,
        image=image,
        paths=None if paths is None else path_templates(paths, f"{key}.paths"),
        keys=strings(raw.get("keys"), f"{key}.keys"),
        environments=None if envs is None else strings(envs, f"{key}.environments"),
        namespace=string(raw.get("namespace"), f"{key}.namespace", "") or None,
    )


def deployed(config: Config, app: str, env: str) -> bool:
    """Whether ``app`` is promoted into ``env`` (``apps.<app>.environments``)."""
    listed = config.apps[app].environments
    return listed is None or env in listed


def resolve(config: Config, app: str, env: str) -> Target:
    """The target of promoting ``app`` into ``env``; InputError for unknown names."""
    if env not in config.environments:
        known = names(config.environments)
        raise InputError(f"unknown environment {env!r} (--env); {FILE} has {known}")
    if app not in config.apps:
        raise InputError(f"unknown app {app!r} (--app); {FILE} has {names(config.apps)}")
    environment, spec = config.environments[env], config.apps[app]
    if not deployed(config, app, env):
        raise InputError(f"app {app!r} is not in environment {env!r}: {FILE} apps.{app}"
                         f".environments lists {', '.join(spec.environments or ())}")
    templates = spec.paths if spec.paths is not None else environment.paths
    if not templates:
        raise fail(f"environments.{env}.paths", f"no paths for app {app!r}; add paths")
    values = {"app": app, "env": env}
    if any("{namespace}" in t for t in templates):
        if spec.namespace is None:
            raise fail(f"apps.{app}.namespace", "missing; the paths use {namespace}")
        values["namespace"] = spec.namespace
    return Target(
        app=app, env=env, image=spec.image,
        paths=tuple(safe_path(fill(t, values), f"environments.{env}.paths") for t in templates),
        keys=spec.keys,
        branch=fill(environment.branch, values),
        commit_message=environment.commit_message,
        direct=environment.direct,
        pull_request=environment.pull_request,
        verify=environment.verify,
        registry=environment.registry,
        allow_downgrade=environment.allow_downgrade,
    )


def missing_paths(config: Config, root: Path) -> list[str]:
    """What does not match the checked-out tree: paths that do not exist, globs
    that match nothing."""
    found = []
    for app in sorted(config.apps):
        for env in sorted(config.environments):
            if not deployed(config, app, env):
                continue
            for path in resolve(config, app, env).paths:
                if is_glob(path) and not expand(root, (path,)):
                    found.append(f"{FILE}: apps.{app} in environments.{env}: "
                                 f"path {path} matches nothing; create it or fix the paths")
                elif not is_glob(path) and not (root / path).exists():
                    found.append(f"{FILE}: apps.{app} in environments.{env}: "
                                 f"path {path} does not exist; create it or fix the paths")
    return found
