"""The verify kinds, registered once: everything promoter needs to follow,
judge and name a target of each kind (as Kargo registers each step once).

Adding a kind is one entry in ``KINDS`` (its rule is a pure function over the
object, like ``check_application``) and the field named by its ``config_key``
in ``promoter.config_environments.VerifySettings``; the CLI's ``verify`` command builds its
``--<kind>`` option from the entry. A workload kind (what ``--workload KIND/NS/NAME``
accepts) is one entry in ``promoter.verify.workloads.WORKLOADS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from promoter.verify.argocd import check_application
from promoter.verify.flux import check_flux
from promoter.verify.rules import Check, Expect, Obj, Resource
from promoter.verify.workloads import WORKLOADS, Workload, check_workload

Judge = Callable[[Obj, Expect], Check]


@dataclass(frozen=True)
class Kind:
    """One kind of verify target: ``--<key>`` on the command line and the
    record's ``kind`` are its key in ``KINDS``."""

    config_key: str  # environments.<env>.verify.<config_key> in .promoter.yaml
    judge: Judge  # the readiness rule
    resource: Resource | None  # what is listed and watched; None: the workload kind's
    metavar: str  # of its --<key> option in ``promoter verify --help``
    help: str  # of that option
    namespace: str = ""  # the default NS of [NS/]NAME; "" for workloads (KIND/NS/NAME)
    provider: str | None = None  # what serves the resource ("is Argo CD installed?")
    refresh: Callable[[], dict[str, str]] | None = None  # annotations: reconcile now
    names_commit: bool = False  # its object ties the run to the commit (Expect)

    @property
    def workload(self) -> bool:
        return self.resource is None


def _argocd_refresh() -> dict[str, str]:
    return {"argocd.argoproj.io/refresh": "normal"}


def _flux_refresh() -> dict[str, str]:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"reconcile.fluxcd.io/requestedAt": now}


KINDS: dict[str, Kind] = {
    "argocd-app": Kind(
        config_key="argocd_apps", judge=check_application,
        resource=Resource("argoproj.io", "v1alpha1", "applications"), metavar="[NS/]NAME",
        help="Argo CD Application (namespace argocd by default).", namespace="argocd",
        provider="Argo CD", refresh=_argocd_refresh, names_commit=True),
    "flux-kustomization": Kind(
        config_key="flux_kustomizations", judge=check_flux,
        resource=Resource("kustomize.toolkit.fluxcd.io", "v1", "kustomizations"),
        metavar="NS/NAME", help="Flux Kustomization.",
        namespace="flux-system", provider="Flux", refresh=_flux_refresh, names_commit=True),
    "flux-helmrelease": Kind(
        config_key="flux_helmreleases", judge=check_flux,
        resource=Resource("helm.toolkit.fluxcd.io", "v2", "helmreleases"),
        metavar="NS/NAME", help="Flux HelmRelease.",
        namespace="flux-system", provider="Flux", refresh=_flux_refresh),
    "workload": Kind(config_key="workloads", judge=check_workload, resource=None,
                     metavar="KIND/NS/NAME",
                     help="Deployment, StatefulSet, DaemonSet or Rollout."),
}


def provider(group: str, plural: str) -> str | None:
    """What installs the resource type ``plural.group`` (None: unknown or Kubernetes)."""
    entries: list[Kind | Workload] = [*KINDS.values(), *WORKLOADS.values()]
    for entry in entries:
        resource = entry.resource
        if resource is not None and (resource.group, resource.plural) == (group, plural):
            return entry.provider
    return None
