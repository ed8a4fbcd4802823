"""One registry of verify kinds (promoter.verify.kinds.KINDS) and of workload
kinds (promoter.verify.workloads.WORKLOADS): everything else reads them."""

from __future__ import annotations

from dataclasses import fields

import pytest

from promoter import config
from promoter.config_environments import VerifySettings
from promoter.errors import InputError
from promoter.verify import parse_target
from promoter.verify.kinds import KINDS, provider
from promoter.verify.kube import not_served
from promoter.verify.pipeline import targets_from
from promoter.verify.workloads import WORKLOADS


def test_every_kind_has_its_config_field_and_key() -> None:
    lists = {f.name for f in fields(VerifySettings)} - {"timeout", "settle"}
    assert lists == {kind.config_key for kind in KINDS.values()}
    parsed = config.parse({"environments": {"prod": {"paths": ["p"], "verify": {
        kind.config_key: [f"{{app}}-{name}"] for name, kind in KINDS.items()}}}, "apps": {}})
    assert {getattr(parsed.environments["prod"].verify, kind.config_key)
            for kind in KINDS.values()} == {(f"{{app}}-{name}",) for name in KINDS}


def test_config_names_become_targets_of_their_kind() -> None:
    spec = VerifySettings(argocd_apps=("{app}-{env}",), flux_kustomizations=("ns/{app}",),
                          flux_helmreleases=("{env}",),
                          workloads=("deploy/{env}/{app}", "ro/{env}/{app}-canary"))
    assert [str(t) for t in targets_from(spec, "api", "prod")] == [
        "argocd-app argocd/api-prod", "flux-kustomization ns/api",
        "flux-helmrelease flux-system/prod", "workload Deployment/prod/api",
        "workload Rollout/prod/api-canary"]


@pytest.mark.parametrize(("kind", "text", "resource"), [
    ("argocd-app", "api", ("argoproj.io", "v1alpha1", "applications")),
    ("flux-kustomization", "apps", ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations")),
    ("flux-helmrelease", "apps/api", ("helm.toolkit.fluxcd.io", "v2", "helmreleases")),
    ("workload", "sts/db/pg", ("apps", "v1", "statefulsets")),
    ("workload", "DaemonSet/kube-system/agent", ("apps", "v1", "daemonsets")),
    ("workload", "rollout/prod/api", ("argoproj.io", "v1alpha1", "rollouts")),
])
def test_each_target_is_read_from_its_resource(kind: str, text: str,
                                               resource: tuple[str, str, str]) -> None:
    assert parse_target(kind, text).resource() == resource


def test_every_alias_of_a_workload_kind_parses_to_it() -> None:
    for name, workload in WORKLOADS.items():
        for alias in workload.aliases:
            assert parse_target("workload", f"{alias.upper()}/ns/x").workload_kind == name
    with pytest.raises(InputError, match=r"KIND Deployment, StatefulSet, DaemonSet or Rollout$"):
        parse_target("workload", "job/ns/x")
    with pytest.raises(InputError, match=r"use one of argocd-app, flux-kustomization, "
                                         r"flux-helmrelease, workload$"):
        parse_target("kargo-stage", "x")


def test_what_serves_each_resource_is_named_when_it_is_missing() -> None:
    assert provider("argoproj.io", "applications") == "Argo CD"
    assert provider("argoproj.io", "rollouts") == "Argo Rollouts"
    assert provider("helm.toolkit.fluxcd.io", "helmreleases") == "Flux"
    assert provider("apps", "deployments") is None
    assert "is Flux installed?" in not_served(KINDS["flux-kustomization"].resource
                                              or ("", "", "")).message
    assert "is its CRD installed?" in not_served(("example.com", "v1", "widgets")).message


def test_only_argo_cd_and_flux_are_asked_to_refresh() -> None:
    argocd, flux = KINDS["argocd-app"].refresh, KINDS["flux-helmrelease"].refresh
    assert argocd is not None and argocd() == {"argocd.argoproj.io/refresh": "normal"}
    assert flux is not None and list(flux()) == ["reconcile.fluxcd.io/requestedAt"]
    assert KINDS["workload"].refresh is None
