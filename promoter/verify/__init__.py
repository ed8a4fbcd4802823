"""Post-merge verification: prove from the cluster that the merged commit (or a
later commit containing it) is live and the workloads run the new image.

    targets = [parse_target("argocd-app", "argocd/api")]
    result = run(targets, VerifyRequest(revision=sha, ...))   # or raises

``run`` raises VerifyFailed (exit 6), VerifyTimeout (exit 5) -- both carry
``.result`` -- or AuthError (exit 3). ``kubernetes`` is imported only by
``promoter.verify.kube``, and only when a target needs the cluster.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from promoter.errors import InputError
from promoter.images import ImageRef
from promoter.retry import HEARTBEAT, VERIFY_SETTLE, VERIFY_TIMEOUT
from promoter.verify.kinds import KINDS
from promoter.verify.rules import COMMIT_SHA, Ancestry, Check, Expect, Obj, Resource, or_list
from promoter.verify.watch import (
    Clock,
    Progress,
    Source,
    VerifyResult,
    Watched,
    wait,
)
from promoter.verify.workloads import WORKLOADS

RELIST_SECONDS = 60.0
_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")


@dataclass(frozen=True)
class VerifyTarget:
    kind: str  # a key of KINDS: argocd-app | flux-kustomization | flux-helmrelease | workload
    namespace: str
    name: str
    workload_kind: str | None = None

    def __str__(self) -> str:
        what = f"{self.workload_kind}/" if self.workload_kind else ""
        return f"{self.kind} {what}{self.namespace}/{self.name}"

    def resource(self) -> Resource:
        kind = KINDS[self.kind]
        return kind.resource or WORKLOADS[self.workload_kind or ""].resource


@dataclass(frozen=True)
class VerifyRequest:
    revision: str
    image: ImageRef | None = None
    timeout: float = VERIFY_TIMEOUT
    settle: float = VERIFY_SETTLE
    kubeconfig: str | None = None
    context: str | None = None
    argocd_server: str | None = None
    argocd_token: str | None = None
    argocd_ca: str | None = None  # CA bundle for the Argo CD API server
    refresh: bool = False
    sync: bool = False  # Argo CD: request a sync of an OutOfSync app (auto-sync off)
    allow_paused: bool = False
    is_ancestor: Callable[[str, str], bool] | None = None  # (ancestor, descendant)
    repo_url: str | None = None  # the config repository's URL (multi-source Argo CD apps)
    limit: str = "--timeout"  # the setting of ``timeout``, as messages name it


def parse_target(kind: str, text: str) -> VerifyTarget:
    """``[NS/]NAME`` for Argo CD and Flux, ``KIND/NS/NAME`` for workloads."""
    if kind not in KINDS:
        raise InputError(f"unknown verify target kind {kind!r}; use one of {', '.join(KINDS)}")
    parts = text.strip().split("/")
    workload_kind = None
    if KINDS[kind].workload:
        aliases = {alias: name for name, entry in WORKLOADS.items() for alias in entry.aliases}
        if len(parts) != 3 or parts[0].lower() not in aliases:
            raise InputError(f"invalid --{kind} {text!r}: expected KIND/NAMESPACE/NAME with "
                             f"KIND {or_list(WORKLOADS)}")
        workload_kind = aliases[parts.pop(0).lower()]
    elif len(parts) == 1:
        parts.insert(0, KINDS[kind].namespace)
    if len(parts) != 2 or not all(_NAME.fullmatch(p) for p in parts):
        raise InputError(f"invalid --{kind} {text!r}: expected [NAMESPACE/]NAME of lowercase "
                         "letters, digits, '-' and '.'")
    return VerifyTarget(kind, parts[0], parts[1], workload_kind)


def _source(target: VerifyTarget, settings: VerifyRequest, api: Callable[[], object]) -> Source:
    relist = min(RELIST_SECONDS, max(settings.settle / 2, 1.0))  # a stall shows within settle
    if target.kind == "argocd-app" and settings.argocd_server:
        from promoter.verify.argocd_api import ArgoCDSource

        if not settings.argocd_token:
            raise InputError("--argocd-server needs --argocd-token (or PROMOTER_ARGOCD_TOKEN)")
        return ArgoCDSource(settings.argocd_server, settings.argocd_token, target.namespace,
                            target.name, refresh=settings.refresh, ca=settings.argocd_ca,
                            sync=settings.sync, relist=relist)
    from promoter.verify.kube import KubeSource, with_pods, with_workload_health

    refresh = KINDS[target.kind].refresh
    annotations = refresh() if settings.refresh and refresh else None
    enrich = (with_workload_health(api()) if target.kind == "argocd-app" else
              with_pods(api(), read_pods=settings.image is not None) if target.kind == "workload"
              else None)
    return KubeSource(api(), target.resource(), target.namespace, target.name, annotations,
                      relist=relist, sync=settings.sync and target.kind == "argocd-app",
                      enrich=enrich)


def _judge(kind: str, expect: Expect) -> Callable[[Obj], Check]:
    rule = KINDS[kind].judge
    return lambda obj: rule(obj, expect)


def run(targets: Sequence[VerifyTarget], settings: VerifyRequest, *, clock: Clock | None = None,
        progress: Progress | None = None, heartbeat: float = HEARTBEAT,
        start: float | None = None) -> VerifyResult:
    """Wait until every target is live at ``settings.revision``, at most
    ``settings.timeout`` seconds after ``start`` on ``clock`` (by default now:
    the CLI starts it before cloning --repo); see the module doc."""
    if not targets:
        raise InputError("nothing to verify; name at least one "
                         + or_list(f"--{kind}" for kind in KINDS))
    if not COMMIT_SHA.fullmatch(settings.revision):
        raise InputError(f"invalid --revision {settings.revision!r}: expected a commit SHA "
                         "(7 to 64 hex digits)")
    clock = clock or Clock()
    start = clock.now() if start is None else start  # the kubeconfig's load counts too
    expect = Expect(settings.revision, settings.image, settings.allow_paused,
                    _bounded(settings.is_ancestor, clock, start + settings.timeout,
                             settings.limit),
                    settings.repo_url,
                    appliers=tuple((t.kind, t.namespace, t.name) for t in targets
                                   if KINDS[t.kind].names_commit))

    @functools.cache
    def api() -> object:
        from promoter.verify.kube_connect import connect

        # the time left of --timeout (the clone of --repo may have used some)
        left = start + settings.timeout - clock.now()
        return connect(settings.kubeconfig, settings.context, max(left, 0.1),
                       settings.limit, settings.timeout)

    watched = [
        Watched(str(t), {"kind": t.kind, "workload_kind": t.workload_kind,
                         "namespace": t.namespace, "name": t.name},
                _source(t, settings, api), _judge(t.kind, expect))
        for t in targets
    ]
    return wait(watched, settings.timeout, settings.settle, clock, progress, heartbeat,
                start=start, limit=settings.limit)


def _bounded(ancestry: Ancestry | None, clock: Clock, deadline: float,
             limit: str) -> Ancestry | None:
    """A repository's ancestry with its git commands (fetches) bounded by the
    time left until ``deadline`` (set by ``limit``), so that none stretches the
    run past it."""
    from promoter.verify.ancestry import RepoAncestry

    if isinstance(ancestry, RepoAncestry):
        return ancestry.until(clock, deadline, limit)
    return ancestry


__all__ = ["VerifyRequest", "VerifyResult", "VerifyTarget", "parse_target", "run"]
