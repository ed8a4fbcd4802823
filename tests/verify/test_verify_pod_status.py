"""The Pod status check reads every status the kubelet reports for the pod
template's containers: ``initContainerStatuses`` (init containers and native
sidecars) as well as ``containerStatuses``; a repository no status of a ready
Pod names is not observed, so not verified. Against the fake cluster (Pod
fields from the kubernetes client's V1PodStatus / V1ContainerStatus models)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import verify_objects as o
from fakes.kube_server import FakeKube

from promoter.errors import VerifyTimeout
from promoter.images import parse
from promoter.verify import VerifyRequest, parse_target, run

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
DEPLOY = parse_target("workload", "Deployment/prod/api")
WANT = f"{o.IMAGE}:2.0"
OLD_IMAGE = f"{o.IMAGE}:1.0"
ENVOY = "docker.io/library/envoy:1.30"


def settings(kube: FakeKube, timeout: float = 20.0) -> VerifyRequest:
    return VerifyRequest(revision=SHA, timeout=timeout, settle=0.0,
                         kubeconfig=kube.kubeconfig(), image=parse(WANT))


def template(role: str) -> dict[str, Any]:
    """A pod spec whose container of the promoted repository is an init
    container (``init``), a native sidecar (``sidecar``: an init container with
    ``restartPolicy: Always``) or an ordinary container (``container``)."""
    ours: dict[str, Any] = {"name": "migrate", "image": WANT}
    if role == "sidecar":
        ours["restartPolicy"] = "Always"
    web = {"name": "web", "image": ENVOY}
    if role == "container":
        return {"containers": [ours, web]}
    return {"initContainers": [ours], "containers": [web]}


def status(name: str, image: str, *, init: bool = False, sidecar: bool = False) -> dict[str, Any]:
    """A container status as the kubelet writes it (a finished init container
    is terminated and not ready; a sidecar runs)."""
    repo = image.split("@")[0].rsplit(":", 1)[0]
    done = init and not sidecar
    state = ({"terminated": {"exitCode": 0, "reason": "Completed"}} if done else
             {"running": {"startedAt": o.T1}})
    return {"name": name, "image": image, "imageID": f"{repo}@{o.DIGEST}", "ready": not done,
            "started": not done, "restartCount": 0, "state": state}


def pod_status(role: str, ours: str | None) -> dict[str, Any]:
    """A ready Pod's status; ``ours`` is the image the kubelet reports for the
    promoted repository's container, None for no status of it at all."""
    main = [status("web", ENVOY)]
    init: list[dict[str, Any]] = []
    if ours is not None and role == "container":
        main.insert(0, status("migrate", ours))
    elif ours is not None:
        init.append(status("migrate", ours, init=True, sidecar=role == "sidecar"))
    found: dict[str, Any] = {"phase": "Running", "containerStatuses": main,
                             "conditions": [{"type": "Ready", "status": "True"}]}
    if init:
        found["initContainerStatuses"] = init
    return found


def rolled_out(kube: FakeKube, role: str, ours: str | None) -> None:
    """A Deployment rolled out by kubectl's rules, its template running WANT in
    the ``role`` container, its new ReplicaSet's ready Pods reporting ``ours``."""
    spec = template(role)
    deploy = o.deployment(WANT)
    deploy["spec"]["template"]["spec"] = copy.deepcopy(spec)
    deploy["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "2"}
    replicaset = o.replicaset("api")
    replicaset["spec"]["template"]["spec"] = copy.deepcopy(spec)
    kube.apply(o.checked(replicaset))
    labels = {"app": "api", "pod-template-hash": o.POD_HASH}
    for n in range(2):
        pod = o.pod(f"api-{n}", labels, WANT)
        pod["spec"] = copy.deepcopy(spec)
        pod["status"] = pod_status(role, ours)
        kube.apply(o.checked(pod))
    kube.apply(o.checked(deploy))


@pytest.mark.parametrize("role", ["init", "sidecar"])
def test_an_init_container_still_on_the_old_image_is_not_verified(kube: FakeKube,
                                                                  role: str) -> None:
    """The template names the new image, kubectl's rules say rolled out, but the
    Pods' initContainerStatuses report the old one: waiting, then timed out."""
    rolled_out(kube, role, OLD_IMAGE)
    with pytest.raises(VerifyTimeout, match=r"ready Pods run another image \(api-0/migrate="
                                            rf"{OLD_IMAGE}"):
        run([DEPLOY], settings(kube, timeout=1.5))


@pytest.mark.parametrize("role", ["init", "sidecar", "container"])
def test_init_containers_and_sidecars_on_the_new_image_verify(kube: FakeKube,
                                                              role: str) -> None:
    rolled_out(kube, role, WANT)
    result = run([DEPLOY], settings(kube))
    assert result.status == "verified"
    assert result.targets[0]["status"] == "ready"


@pytest.mark.parametrize("role", ["init", "sidecar", "container"])
def test_no_status_naming_the_repository_is_not_verified(kube: FakeKube, role: str) -> None:
    """Ready Pods whose statuses say nothing about the promoted repository:
    what they run was not observed, so the verdict waits (and times out)."""
    rolled_out(kube, role, None)
    with pytest.raises(VerifyTimeout) as caught:
        run([DEPLOY], settings(kube, timeout=1.5))
    reason = caught.value.result.targets[0]["reason"]
    assert caught.value.result.targets[0]["status"] == "waiting"
    assert reason == (f"no status of a ready Pod of the new revision names {o.IMAGE} "
                      "(template container migrate runs it); not observed yet")


def test_a_ready_pod_without_the_status_of_its_init_container_is_not_verified(
        kube: FakeKube) -> None:
    """One ready Pod reports the new image, the other no status for the init
    container: every ready Pod must show it."""
    rolled_out(kube, "init", WANT)
    pod = kube.get("pods", "prod", "api-1") or {}
    del pod["status"]["initContainerStatuses"]
    kube.apply(pod)
    with pytest.raises(VerifyTimeout, match="ready Pod api-1 reports no status for container "
                                            "migrate"):
        run([DEPLOY], settings(kube, timeout=1.5))


def test_daemonset_pods_are_found_by_their_template_generation(kube: FakeKube) -> None:
    """A DaemonSet's Pods carry ``pod-template-generation`` = the template's own
    generation (the API server keeps it in the ``deprecated.daemonset.template.
    generation`` annotation), which stays put when only the rest of the spec
    changes while ``metadata.generation`` moves on."""
    key = "deprecated.daemonset.template.generation"
    daemonset = o.daemonset(WANT)
    daemonset["metadata"]["annotations"] = {key: "1"}
    kube.apply(daemonset)  # generation 1, template generation 1
    daemonset["spec"]["updateStrategy"] = {"type": "RollingUpdate",
                                           "rollingUpdate": {"maxUnavailable": 2}}
    daemonset["status"]["observedGeneration"] = 2
    stored = kube.apply(o.checked(daemonset))  # generation 2, the template unchanged
    assert stored["metadata"]["generation"] == 2
    for n in range(2):
        kube.apply(o.pod(f"api-{n}", {"app": "api", "pod-template-generation": "1"}, WANT))
    target = parse_target("workload", "DaemonSet/prod/api")
    result = run([target], settings(kube, timeout=5.0))
    assert result.targets[0]["status"] == "ready"
