"""A HelmRelease whose chart names no commit passes only beside the target that
applied it: when the HelmRelease names its applier (kustomize-controller's
``kustomize.toolkit.fluxcd.io/name``/``namespace`` labels, Argo CD's
``argocd.argoproj.io/tracking-id`` annotation), that applier must be one of
the targets. A Kustomization that proves the commit but does not apply the
HelmRelease says nothing about it: the HelmRelease may still hold the old spec."""

from __future__ import annotations

from typing import Any

import pytest
import verify_objects as o
from fakes.kube_server import FakeKube

from promoter.errors import VerifyFailed
from promoter.verify import VerifyRequest, parse_target, run

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
FLUX_LABELS = {"kustomize.toolkit.fluxcd.io/name": "infra",
               "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
TRACKING = {"argocd.argoproj.io/tracking-id":
            "infra:helm.toolkit.fluxcd.io/HelmRelease:flux-system/api"}


def release(labels: dict[str, str] | None = None,
            annotations: dict[str, str] | None = None) -> dict[str, Any]:
    """A deployed HelmRelease from a HelmRepository chart (its version names no commit)."""
    found = o.helmrelease("1.2.3", source="HelmRepository", strategy=None)
    if labels:
        found["metadata"]["labels"] = labels
    if annotations:
        found["metadata"]["annotations"] = annotations
    return o.checked(found)


def verify(kube: FakeKube, *targets: tuple[str, str]) -> Any:
    request = VerifyRequest(revision=SHA, timeout=10.0, settle=0.0,
                            kubeconfig=kube.kubeconfig())
    return run([parse_target(kind, text) for kind, text in targets], request)


@pytest.mark.parametrize(("marks", "applier"), [
    ({"labels": FLUX_LABELS}, ("flux-kustomization", "flux-system/apps")),
    ({"annotations": TRACKING}, ("argocd-app", "argocd/apps")),
])
def test_beside_a_target_that_did_not_apply_it_is_not_verified(
        kube: FakeKube, marks: dict[str, Any], applier: tuple[str, str]) -> None:
    kube.apply(release(**marks))
    kube.apply(o.flux("Kustomization", f"main@sha1:{SHA}", name="apps"))
    kube.apply(o.application(SHA, name="apps"))
    with pytest.raises(VerifyFailed) as caught:
        verify(kube, applier, ("flux-helmrelease", "flux-system/api"))
    target = caught.value.result.targets[1]
    assert target["status"] == "failed"
    kind, name = (("flux-kustomization", "flux-system/infra") if "labels" in marks else
                  ("argocd-app", "infra"))
    assert target["reason"] == (
        f"chart 1.2.3 names no commit, and this HelmRelease was applied by {kind} {name}, "
        f"which is not a target here: add --{kind} {name}, so that the run proves the commit")


@pytest.mark.parametrize(("marks", "applier"), [
    ({"labels": FLUX_LABELS}, ("flux-kustomization", "flux-system/infra")),
    ({"annotations": TRACKING}, ("argocd-app", "argocd/infra")),
    ({}, ("flux-kustomization", "flux-system/infra")),  # names no applier: as before
])
def test_beside_the_target_that_applied_it_verifies(
        kube: FakeKube, marks: dict[str, Any], applier: tuple[str, str]) -> None:
    kube.apply(release(**marks))
    kube.apply(o.flux("Kustomization", f"main@sha1:{SHA}", name="infra"))
    kube.apply(o.application(SHA, name="infra"))
    result = verify(kube, applier, ("flux-helmrelease", "flux-system/api"))
    assert [t["status"] for t in result.targets] == ["ready", "ready"]
