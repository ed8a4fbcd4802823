"""A resource type the cluster does not serve (its CRD is not installed) fails
fast with exit 6; a missing object of a served type keeps waiting (a controller
may create it) and times out with exit 5 naming it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import verify_objects as o
from fakes.kube_server import FakeKube
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from promoter.cli import main
from promoter.errors import VerifyFailed, VerifyTimeout
from promoter.verify import VerifyRequest, parse_target, run

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"


def settings(kube: FakeKube, timeout: float, refresh: bool = False) -> VerifyRequest:
    return VerifyRequest(revision=SHA, timeout=timeout, settle=0.0, refresh=refresh,
                          kubeconfig=kube.kubeconfig())


@pytest.fixture
def no_rollouts(tmp_path: Path) -> Iterator[FakeKube]:
    server = FakeKube(tmp_path, missing=("rollouts",))
    yield server
    server.close()


def test_the_fake_does_not_serve_a_missing_crd(no_rollouts: FakeKube) -> None:
    configuration = client.Configuration()
    config.load_kube_config(config_file=no_rollouts.kubeconfig(),
                            client_configuration=configuration)
    with client.ApiClient(configuration) as api:
        found = client.CustomObjectsApi(api).get_api_resources("argoproj.io", "v1alpha1")
        assert [r.name for r in found.resources] == ["applications"]
        with pytest.raises(ApiException) as caught:
            client.CustomObjectsApi(api).list_namespaced_custom_object(
                "argoproj.io", "v1alpha1", "prod", "rollouts")
    assert caught.value.status == 404
    body = json.loads(caught.value.body)
    assert (body["kind"], body["reason"]) == ("Status", "NotFound")
    assert body["message"] == "the server could not find the requested resource"


@pytest.mark.parametrize(("missing", "kind", "text", "expected"), [
    ("rollouts", "workload", "Rollout/prod/api",
     "workload Rollout/prod/api: the cluster does not serve rollouts.argoproj.io/v1alpha1; "
     "is Argo Rollouts installed?"),
    ("kustomizations", "flux-kustomization", "flux-system/api",
     "flux-kustomization flux-system/api: the cluster does not serve "
     "kustomizations.kustomize.toolkit.fluxcd.io/v1; is Flux installed?"),
    ("helmreleases", "flux-helmrelease", "flux-system/api",
     "flux-helmrelease flux-system/api: the cluster does not serve "
     "helmreleases.helm.toolkit.fluxcd.io/v2; is Flux installed?"),
    ("applications", "argocd-app", "argocd/api",
     "argocd-app argocd/api: the cluster does not serve applications.argoproj.io/v1alpha1; "
     "is Argo CD installed?"),
])
def test_an_unserved_resource_type_fails_with_exit_6(
        tmp_path: Path, missing: str, kind: str, text: str, expected: str) -> None:
    kube = FakeKube(tmp_path, missing=(missing,))
    try:
        with pytest.raises(VerifyFailed) as caught:
            run([parse_target(kind, text)], settings(kube, timeout=30.0, refresh=True))
    finally:
        kube.close()
    assert caught.value.exit_code == 6
    assert expected in caught.value.message
    target = caught.value.result.targets[0]
    assert (caught.value.result.status, target["status"]) == ("failed", "failed")
    assert expected.endswith(target["reason"])


def test_an_unserved_type_fails_even_when_other_targets_wait(no_rollouts: FakeKube) -> None:
    targets = [parse_target("argocd-app", "argocd/nope"),
               parse_target("workload", "Rollout/prod/api")]
    with pytest.raises(VerifyFailed) as caught:
        run(targets, settings(no_rollouts, timeout=30.0))
    assert [t["status"] for t in caught.value.result.targets] == ["waiting", "failed"]
    assert "argocd-app" not in caught.value.message


def test_a_missing_object_of_a_served_type_waits_then_exits_5(kube: FakeKube) -> None:
    kube.apply(o.flux("Kustomization", f"main@sha1:{SHA}"))  # Flux is there, "nope" is not
    with pytest.raises(VerifyTimeout) as caught:
        run([parse_target("flux-kustomization", "flux-system/nope")], settings(kube, 1.0))
    assert caught.value.exit_code == 5
    assert "still missing: flux-kustomization flux-system/nope: not found yet" in \
        caught.value.message
    assert caught.value.result.targets[0]["status"] == "waiting"


def test_the_cli_exits_6_naming_the_missing_api(no_rollouts: FakeKube,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["verify", "--workload", "Rollout/prod/api", "--revision", SHA,
              "--timeout", "30s", "--kubeconfig", no_rollouts.kubeconfig()])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert exited.value.code == 6
    assert err.startswith("error: verification failed: workload Rollout/prod/api: the cluster "
                          "does not serve rollouts.argoproj.io/v1alpha1; is Argo Rollouts")
