"""``.promoter.yaml``: load, validate, resolve (app, env) -> Target.

Shape (see README, "Configuration"): ``environments`` (paths with ``{app}`` and
``{env}``, ``promote_from``, ``branch``, ``commit_message``, ``pull_request``,
``verify``) and ``apps`` (``image``, optional ``paths`` and ``keys``). Every error
names the file and the key: ``.promoter.yaml: environments.prod.promote_from: ...``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from promoter.errors import InputError
from promoter.images import parse as parse_image

FILE = ".promoter.yaml"
DEFAULT_BRANCH = "promoter/{env}/{app}"
DEFAULT_MESSAGE = "promote {app} to {env}: {old} -> {new}"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}

_TOP = {"version", "environments", "apps"}
_ENV = {"paths", "promote_from", "branch", "commit_message", "pull_request", "verify"}
_PR = {"direct", "title", "body", "labels", "reviewers", "assignees", "draft", "auto_merge",
       "merge_method", "delete_branch"}
_VERIFY = {"argocd_apps", "flux_kustomizations", "flux_helmreleases", "workloads", "timeout",
           "settle"}
_APP = {"image", "paths", "keys"}


@dataclass(frozen=True)
class PullRequestSettings:
    direct: bool = False
    title: str = ""
    body: str = ""
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    draft: bool = False
    auto_merge: bool = False
    merge_method: str = "merge"
    delete_branch: bool = False


@dataclass(frozen=True)
class VerifySettings:
    argocd_apps: tuple[str, ...] = ()
    flux_kustomizations: tuple[str, ...] = ()
    flux_helmreleases: tuple[str, ...] = ()
    workloads: tuple[str, ...] = ()
    timeout: float | None = None  # seconds
    settle: float | None = None  # seconds


@dataclass(frozen=True)
class Environment:
    name: str
    paths: tuple[str, ...]
    promote_from: str | None = None
    branch: str = DEFAULT_BRANCH
    commit_message: str = DEFAULT_MESSAGE
    pull_request: PullRequestSettings = field(default_factory=PullRequestSettings)
    verify: VerifySettings = field(default_factory=VerifySettings)


@dataclass(frozen=True)
class App:
    name: str
    image: str
    paths: tuple[str, ...] | None = None
    keys: tuple[str, ...] = ()


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
    pull_request: PullRequestSettings
    verify: VerifySettings


def load(root: Path) -> Config | None:
    """The config at ``root/.promoter.yaml``, or None when there is none."""
    path = root / FILE
    if not path.is_file():
        return None
    return parse(_read_yaml(path))


def _read_yaml(path: Path) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe", pure=False).load(path.read_text(encoding="utf-8"))
    except (YAMLError, UnicodeDecodeError) as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{FILE}:{line} not valid YAML ({problem}); fix the syntax") from exc


def _fail(key: str, problem: str) -> InputError:
    return InputError(f"{FILE}: {key}: {problem}")


def _mapping(value: Any, key: str, allowed: set[str] | None = None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(key, f"expected a mapping, got {type(value).__name__}; fix the file")
    for name in value:
        if allowed is not None and name not in allowed:
            raise _fail(f"{key}.{name}" if key else str(name),
                        f"unknown key; expected one of {', '.join(sorted(allowed))}")
    return value


def _strings(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(key, "expected a list of non-empty strings; fix the file")
    return tuple(value)


def _string(value: Any, key: str, default: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        raise _fail(key, f"expected a string, got {value!r}; fix the file")
    return value


def _bool(value: Any, key: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _fail(key, f"expected true or false, got {value!r}; fix the file")
    return value


def duration(value: Any, key: str) -> float | None:
    """``10m``, ``30s``, ``1h``, ``500ms`` or a number of seconds."""
    if value is None:
        return None
    match = _DURATION.match(str(value).strip())
    if match is None or isinstance(value, bool):
        raise _fail(key, f"invalid duration {value!r}; use e.g. 30s, 10m or 1h")
    return float(match[1]) * _UNITS[match[2]]


def placeholders(template: str, allowed: Sequence[str], key: str) -> str:
    """Check that ``template`` uses only ``{name}`` placeholders from ``allowed``."""
    for name in _PLACEHOLDER.findall(template):
        if name not in allowed:
            raise _fail(key, f"unresolved placeholder {{{name}}}; use {_braced(allowed)}")
    return template


def _braced(names: Sequence[str]) -> str:
    return " ".join("{" + n + "}" for n in names)


def safe_path(path: str, key: str) -> str:
    """A repository-relative posix path that cannot escape the repository."""
    pure = PurePosixPath(path)
    depth = 0
    for part in pure.parts:
        depth += -1 if part == ".." else (0 if part == "." else 1)
        if depth < 0 or pure.is_absolute():
            raise _fail(key, f"path {path!r} leads outside the repository; use a relative path")
    return str(pure)


def parse(data: Any) -> Config:
    top = _mapping(data, "", _TOP)
    if top.get("version", 1) != 1:
        raise _fail("version", f"unsupported version {top['version']!r}; use 1")
    envs = {str(name): _environment(str(name), spec)
            for name, spec in _mapping(top.get("environments"), "environments").items()}
    apps = {str(name): _app(str(name), spec)
            for name, spec in _mapping(top.get("apps"), "apps").items()}
    config = Config(envs, apps)
    _check_cycles(config)
    return config


def _environment(name: str, spec: Any) -> Environment:
    key = f"environments.{name}"
    raw = _mapping(spec, key, _ENV)
    paths = tuple(placeholders(safe_path(p, f"{key}.paths"), ("app", "env"), f"{key}.paths")
                  for p in _strings(raw.get("paths"), f"{key}.paths"))
    source = raw.get("promote_from")
    if source is not None and not isinstance(source, str):
        raise _fail(f"{key}.promote_from", f"expected an environment name, got {source!r}")
    return Environment(
        name=name,
        paths=paths,
        promote_from=source,
        branch=placeholders(_string(raw.get("branch"), f"{key}.branch", DEFAULT_BRANCH),
                            ("app", "env"), f"{key}.branch"),
        commit_message=placeholders(
            _string(raw.get("commit_message"), f"{key}.commit_message", DEFAULT_MESSAGE),
            ("app", "env", "old", "new", "image"), f"{key}.commit_message"),
        pull_request=_pull_request(raw.get("pull_request"), f"{key}.pull_request"),
        verify=_verify(raw.get("verify"), f"{key}.verify"),
    )


def _pull_request(spec: Any, key: str) -> PullRequestSettings:
    raw = _mapping(spec, key, _PR)
    method = _string(raw.get("merge_method"), f"{key}.merge_method", "merge")
    if method not in ("merge", "squash", "rebase"):
        raise _fail(f"{key}.merge_method", f"{method!r} is not merge, squash or rebase")
    fields = ("app", "env", "old", "new", "image")
    return PullRequestSettings(
        direct=_bool(raw.get("direct"), f"{key}.direct"),
        title=placeholders(_string(raw.get("title"), f"{key}.title", ""), fields, f"{key}.title"),
        body=_string(raw.get("body"), f"{key}.body", ""),
        labels=_strings(raw.get("labels"), f"{key}.labels"),
        reviewers=_strings(raw.get("reviewers"), f"{key}.reviewers"),
        assignees=_strings(raw.get("assignees"), f"{key}.assignees"),
        draft=_bool(raw.get("draft"), f"{key}.draft"),
        auto_merge=_bool(raw.get("auto_merge"), f"{key}.auto_merge"),
        merge_method=method,
        delete_branch=_bool(raw.get("delete_branch"), f"{key}.delete_branch"),
    )


def _verify(spec: Any, key: str) -> VerifySettings:
    raw = _mapping(spec, key, _VERIFY)
    lists = {name: tuple(placeholders(v, ("app", "env"), f"{key}.{name}")
                         for v in _strings(raw.get(name), f"{key}.{name}"))
             for name in ("argocd_apps", "flux_kustomizations", "flux_helmreleases", "workloads")}
    return VerifySettings(
        **lists,
        timeout=duration(raw.get("timeout"), f"{key}.timeout"),
        settle=duration(raw.get("settle"), f"{key}.settle"),
    )


def _app(name: str, spec: Any) -> App:
    key = f"apps.{name}"
    raw = _mapping(spec, key, _APP)
    image = raw.get("image")
    if not isinstance(image, str) or not image:
        raise _fail(f"{key}.image", "missing; give the image repository, e.g. ghcr.io/acme/api")
    ref = parse_image(image, f"{key}.image")
    if ref.tag or ref.digest:
        raise _fail(f"{key}.image", f"{image!r} has a tag or digest; give the repository only")
    paths = raw.get("paths")
    return App(
        name=name,
        image=image,
        paths=None if paths is None else tuple(
            placeholders(safe_path(p, f"{key}.paths"), ("app", "env"), f"{key}.paths")
            for p in _strings(paths, f"{key}.paths")),
        keys=_strings(raw.get("keys"), f"{key}.keys"),
    )


def _check_cycles(config: Config) -> None:
    for name, env in config.environments.items():
        if env.promote_from is not None and env.promote_from not in config.environments:
            raise _fail(f"environments.{name}.promote_from",
                        f"unknown environment {env.promote_from!r}; use one of {_names(config)}")
        seen = [name]
        current = env.promote_from
        while current is not None:
            if current in seen:
                chain = " -> ".join([*seen, current])
                raise _fail(f"environments.{name}.promote_from",
                            f"cycle {chain}; break the chain of promote_from")
            seen.append(current)
            current = config.environments[current].promote_from


def _names(config: Config) -> str:
    return ", ".join(sorted(config.environments)) or "(none)"


def resolve(config: Config, app: str, env: str) -> Target:
    """The target of promoting ``app`` into ``env``; InputError for unknown names."""
    if env not in config.environments:
        raise InputError(f"unknown environment {env!r} (--env); {FILE} has {_names(config)}")
    if app not in config.apps:
        known = ", ".join(sorted(config.apps)) or "(none)"
        raise InputError(f"unknown app {app!r} (--app); {FILE} has {known}")
    environment, spec = config.environments[env], config.apps[app]
    templates = spec.paths if spec.paths is not None else environment.paths
    if not templates:
        raise _fail(f"environments.{env}.paths", f"no paths for app {app!r}; add paths")
    values = {"app": app, "env": env}
    return Target(
        app=app, env=env, image=spec.image,
        paths=tuple(safe_path(fill(t, values), f"environments.{env}.paths") for t in templates),
        keys=spec.keys,
        branch=fill(environment.branch, values),
        commit_message=environment.commit_message,
        pull_request=environment.pull_request,
        verify=environment.verify,
    )


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace ``{name}`` for each name in ``values``; other text is kept."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def problems(config: Config, root: Path) -> list[str]:
    """What does not match the checked-out tree: paths that do not exist."""
    found = []
    for app in sorted(config.apps):
        for env in sorted(config.environments):
            for path in resolve(config, app, env).paths:
                if not (root / path).exists():
                    found.append(f"{FILE}: apps.{app} in environments.{env}: "
                                 f"path {path} does not exist; create it or fix the paths")
    return found
