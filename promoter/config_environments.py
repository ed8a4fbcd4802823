"""The ``environments:`` section of ``.promoter.yaml``: what promoting into one
environment means (paths, ``promote_from``, ``branch``, ``commit_message``,
``pull_request``, ``verify``, ``registry``, ``pin_digest``, ``allow_downgrade``),
its defaults, and its parser. Every error names the key
(``.promoter.yaml: environments.prod.promote_from: ...``); promoter.config
loads the file and resolves (app, env) into a Target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from promoter.config_check import (
    boolean,
    duration,
    fail,
    mapping,
    path_templates,
    placeholders,
    string,
    strings,
)
from promoter.forges import DEFAULTS as PULL_REQUEST_DEFAULTS
from promoter.forges import PullRequestSettings
from promoter.template import FIELDS, TARGET_FIELDS
from promoter.verify.kinds import KINDS

DEFAULT_BRANCH = "promoter/{env}/{app}"
DEFAULT_MESSAGE = "promote {app} to {env}: {old} -> {new}"

_ENV = {"paths", "promote_from", "branch", "commit_message", "pull_request", "verify",
        "registry", "pin_digest", "allow_downgrade"}
_PR = {"direct", "title", "body", "labels", "reviewers", "assignees", "draft", "auto_merge",
       "merge_method", "delete_branch"}
_VERIFY = {*(kind.config_key for kind in KINDS.values()), "timeout", "settle"}


@dataclass(frozen=True)
class VerifySettings:
    """``verify``: one field of target names per verify kind (named by its
    ``config_key`` in promoter.verify.kinds.KINDS), and the waits."""

    argocd_apps: tuple[str, ...] = ()
    flux_kustomizations: tuple[str, ...] = ()
    flux_helmreleases: tuple[str, ...] = ()
    workloads: tuple[str, ...] = ()
    timeout: float | None = None  # seconds
    settle: float | None = None  # seconds


@dataclass(frozen=True)
class RegistrySettings:
    """``registry`` (check the image exists; default true) and ``pin_digest``."""

    check: bool = True
    pin_digest: bool = False


@dataclass(frozen=True)
class Environment:
    name: str
    paths: tuple[str, ...]
    promote_from: str | None = None
    branch: str = DEFAULT_BRANCH
    commit_message: str = DEFAULT_MESSAGE
    direct: bool = False  # pull_request.direct: push to the base, no pull request
    pull_request: PullRequestSettings = PULL_REQUEST_DEFAULTS
    verify: VerifySettings = field(default_factory=VerifySettings)
    registry: RegistrySettings = field(default_factory=RegistrySettings)
    allow_downgrade: bool = False


def environment(name: str, spec: Any) -> Environment:
    """``environments.<name>``, checked."""
    key = f"environments.{name}"
    raw = mapping(spec, key, _ENV)
    paths = path_templates(raw.get("paths"), f"{key}.paths")
    source = raw.get("promote_from")
    if source is not None and not isinstance(source, str):
        raise fail(f"{key}.promote_from", f"expected an environment name, got {source!r}")
    branch = placeholders(string(raw.get("branch"), f"{key}.branch", DEFAULT_BRANCH),
                          TARGET_FIELDS, f"{key}.branch")
    message = placeholders(
        string(raw.get("commit_message"), f"{key}.commit_message", DEFAULT_MESSAGE),
        FIELDS, f"{key}.commit_message")
    direct, pull_request = _pull_request(raw.get("pull_request"), f"{key}.pull_request")
    return Environment(
        name=name,
        paths=paths,
        promote_from=source,
        branch=branch,
        commit_message=message,
        direct=direct,
        pull_request=pull_request,
        verify=_verify(raw.get("verify"), f"{key}.verify"),
        registry=RegistrySettings(
            check=raw.get("registry") is None or boolean(raw.get("registry"), f"{key}.registry"),
            pin_digest=boolean(raw.get("pin_digest"), f"{key}.pin_digest")),
        allow_downgrade=boolean(raw.get("allow_downgrade"), f"{key}.allow_downgrade"),
    )


def _pull_request(spec: Any, key: str) -> tuple[bool, PullRequestSettings]:
    """``direct`` and the settings of the pull request, every field set."""
    raw = mapping(spec, key, _PR)
    method = string(raw.get("merge_method"), f"{key}.merge_method", "merge")
    if method not in ("merge", "squash", "rebase"):
        raise fail(f"{key}.merge_method", f"{method!r} is not merge, squash or rebase")
    direct = boolean(raw.get("direct"), f"{key}.direct")
    return direct, PullRequestSettings(
        title=placeholders(string(raw.get("title"), f"{key}.title", ""), FIELDS, f"{key}.title"),
        body=string(raw.get("body"), f"{key}.body", ""),
        labels=strings(raw.get("labels"), f"{key}.labels"),
        reviewers=strings(raw.get("reviewers"), f"{key}.reviewers"),
        assignees=strings(raw.get("assignees"), f"{key}.assignees"),
        draft=boolean(raw.get("draft"), f"{key}.draft"),
        auto_merge=boolean(raw.get("auto_merge"), f"{key}.auto_merge"),
        merge_method=method,
        delete_branch=boolean(raw.get("delete_branch"), f"{key}.delete_branch"),
    )


def _verify(spec: Any, key: str) -> VerifySettings:
    raw = mapping(spec, key, _VERIFY)
    lists = {name: tuple(placeholders(v, TARGET_FIELDS, f"{key}.{name}")
                         for v in strings(raw.get(name), f"{key}.{name}"))
             for name in (kind.config_key for kind in KINDS.values())}
    return VerifySettings(
        **lists,
        timeout=duration(raw.get("timeout"), f"{key}.timeout"),
        settle=duration(raw.get("settle"), f"{key}.settle"),
    )
