"""Factories for the objects the fake cluster serves: valid against the CRDs
(the fake refuses anything else), with the status a controller would write."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

T0 = "2026-11-22T10:00:00Z"
T1 = "2026-11-22T10:00:05Z"
T2 = "2026-11-22T10:00:09Z"
OLD = "1111111111111111111111111111111111111111"
IMAGE = "ghcr.io/acme/api"


def application(revision: str | None = None, *, name: str = "api", namespace: str = "argocd",
                sync: str = "Synced", health: str = "Healthy", phase: str | None = "Succeeded",
                op_revision: str | None = None, finished: str | None = T1,
                reconciled: str | None = T2, revisions: list[str] | None = None,
                conditions: list[dict[str, Any]] | None = None,
                resources: list[dict[str, Any]] | None = None,
                repo_urls: list[str] | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"sync": {"status": sync}, "health": {"status": health}}
    if revisions is not None:
        status["sync"]["revisions"] = revisions
    elif revision:
        status["sync"]["revision"] = revision
    if reconciled:
        status["reconciledAt"] = reconciled
    if phase:
        rev = op_revision or revision or (revisions or [""])[0]
        op: dict[str, Any] = {"operation": {"sync": {"revision": rev}}, "phase": phase,
                              "startedAt": T0, "message": f"operation {phase.lower()}"}
        if phase not in ("Running", "Terminating"):
            op["finishedAt"] = finished
            op["syncResult"] = {"revision": rev, **({"revisions": revisions} if revisions else {})}
        status["operationState"] = op
    if conditions:
        status["conditions"] = conditions
    if resources:
        status["resources"] = resources
    urls = repo_urls or ["https://git.example/config"] * len(revisions or ())
    sources = ({"sources": [{"repoURL": url, "targetRevision": "main"} for url in urls]}
               if revisions else
               {"source": {"repoURL": "https://git.example/config", "targetRevision": "main"}})
    return checked({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                    "metadata": {"name": name, "namespace": namespace},
                    "spec": {"project": "default", **sources,
                             "destination": {"server": "https://kubernetes.default.svc",
                                             "namespace": "prod"}},
                    "status": status})


def _condition(kind: str, status: str, reason: str, message: str = "") -> dict[str, Any]:
    return {"type": kind, "status": status, "reason": reason, "message": message or reason,
            "lastTransitionTime": T0}


def flux(kind: str, applied: str | None, *, name: str = "api", namespace: str = "flux-system",
         ready: str = "True", reason: str = "ReconciliationSucceeded", stalled: bool = False,
         generation_lag: bool = False, attempted: str | None = None) -> dict[str, Any]:
    """A Kustomization (``applied``: its lastAppliedRevision) or a HelmRelease
    from a GitRepository chart with ``reconcileStrategy: Revision`` (``applied``:
    a revision whose commit becomes the chart version's build metadata)."""
    if kind == "HelmRelease":
        sha = (applied or "").rpartition("/")[2].rpartition(":")[2]
        tried = (attempted or "").rpartition("/")[2].rpartition(":")[2]
        return helmrelease(f"1.2.3+{sha[:12]}" if sha else None, name=name,
                           namespace=namespace, ready=ready, reason=reason, stalled=stalled,
                           generation_lag=generation_lag,
                           attempted=f"1.2.3+{tried[:12]}" if tried else None)
    conditions = [_condition("Ready", ready, reason)]
    if stalled:
        conditions.append(_condition("Stalled", "True", "BuildFailed", "kustomize build failed"))
    status: dict[str, Any] = {"observedGeneration": 0 if generation_lag else 1,
                              "conditions": conditions}
    if applied:
        status["lastAppliedRevision"] = applied
    status["lastAttemptedRevision"] = attempted or applied or ""
    spec = {"interval": "5m", "prune": True, "path": "./apps/api",
            "sourceRef": {"kind": "GitRepository", "name": "config"}}
    return checked({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": kind,
                    "metadata": {"name": name, "namespace": namespace},
                    "spec": spec, "status": status})


def oci_kustomization(origin: str | None) -> dict[str, Any]:
    """A Kustomization of an OCIRepository: Flux's revision is the artifact's
    digest; the commit is the artifact's origin revision (``flux push artifact
    --revision``, the OCI annotation org.opencontainers.image.revision)."""
    obj = flux("Kustomization", "latest@sha256:" + "d" * 64)
    obj["spec"]["sourceRef"] = {"kind": "OCIRepository", "name": "config"}
    if origin is not None:
        obj["status"]["lastAppliedOriginRevision"] = origin
    return checked(obj)


def helmrelease(chart_version: str | None, *, name: str = "api", namespace: str = "flux-system",
                ready: str = "True", reason: str = "UpgradeSucceeded", stalled: bool = False,
                generation_lag: bool = False, attempted: str | None = None,
                release: str = "deployed", source: str = "GitRepository",
                strategy: str | None = "Revision", chart_ref: str | None = None,
                config_digest: str = "sha256:" + "c" * 64,
                attempted_digest: str | None = None,
                deleting: bool = False) -> dict[str, Any]:
    """A helm.toolkit.fluxcd.io/v2 HelmRelease as helm-controller writes it: the
    release in ``status.history[0]``, ``lastAttemptedRevision`` (the chart
    version), the config digests, ``observedGeneration`` and Ready."""
    conditions = [_condition("Ready", ready, reason)]
    if stalled:
        conditions.append(_condition("Stalled", "True", "InstallFailed", "install retries "
                                     "exhausted"))
    status: dict[str, Any] = {"observedGeneration": 0 if generation_lag else 1,
                              "lastAttemptedGeneration": 0 if generation_lag else 1,
                              "conditions": conditions,
                              "lastAttemptedConfigDigest": attempted_digest or config_digest}
    if chart_version:
        status["history"] = [{
            "name": name, "namespace": "prod", "version": 3, "status": release,
            "chartName": "api", "chartVersion": chart_version, "appVersion": "2.0",
            "configDigest": config_digest, "digest": "sha256:" + "d" * 64,
            "firstDeployed": T0, "lastDeployed": T1}]
    if attempted or chart_version:
        status["lastAttemptedRevision"] = attempted or chart_version
    spec: dict[str, Any] = {"interval": "5m", "values": {"image": {"tag": "2.0"}}}
    if chart_ref:
        spec["chartRef"] = {"kind": chart_ref, "name": "api"}
    else:
        chart: dict[str, Any] = {"chart": "./charts/api" if source != "HelmRepository" else "api",
                                 "sourceRef": {"kind": source, "name": "config"}}
        if strategy:
            chart["reconcileStrategy"] = strategy
        spec["chart"] = {"spec": chart}
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if deleting:
        meta.update(deletionTimestamp=T2, finalizers=["finalizers.fluxcd.io"])
    return checked({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                    "metadata": meta, "spec": spec, "status": status})


def checked(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj``, after making sure its schema defines every field (a real API
    server would prune the rest): the pure-rule tests use these objects too."""
    from fakes import kube_api

    res = kube_api.resource_of_object(obj)
    dropped = kube_api.prune(res, copy.deepcopy(obj))
    assert not dropped, f"fixture has fields the {res.kind} schema lacks: {dropped}"
    return obj


def pod_spec(image: str) -> dict[str, Any]:
    return {"containers": [{"name": "api", "image": image},
                           {"name": "proxy", "image": "docker.io/library/envoy:1.30"}]}


def deployment(image: str, *, name: str = "api", namespace: str = "prod", replicas: int = 2,
               updated: int = 2, available: int = 2, total: int | None = None,
               observed: int = 1, deadline: bool = False) -> dict[str, Any]:
    status: dict[str, Any] = {
        "observedGeneration": observed, "replicas": total if total is not None else replicas,
        "updatedReplicas": updated, "availableReplicas": available, "readyReplicas": available}
    if deadline:
        status["conditions"] = [_condition("Progressing", "False", "ProgressDeadlineExceeded",
                                           'ReplicaSet "api-7d9" has timed out progressing.')]
    return checked({"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": name, "namespace": namespace},
                    "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                             "template": {"metadata": {"labels": {"app": name}},
                                          "spec": pod_spec(image)}},
                    "status": status})


def statefulset(image: str, *, name: str = "api", namespace: str = "prod", replicas: int = 2,
                ready: int = 2, updated: int = 2, revision: str = "api-2") -> dict[str, Any]:
    status = {"observedGeneration": 1, "replicas": replicas, "readyReplicas": ready,
              "updatedReplicas": updated, "currentReplicas": updated,
              "currentRevision": revision, "updateRevision": revision}
    return checked({"apiVersion": "apps/v1", "kind": "StatefulSet",
                    "metadata": {"name": name, "namespace": namespace},
                    "spec": {"replicas": replicas, "serviceName": name,
                             "selector": {"matchLabels": {"app": name}},
                             "template": {"metadata": {"labels": {"app": name}},
                                          "spec": pod_spec(image)}},
                    "status": status})


def daemonset(image: str, *, name: str = "api", namespace: str = "prod", desired: int = 3,
              updated: int = 3, available: int = 3) -> dict[str, Any]:
    status = {"observedGeneration": 1, "desiredNumberScheduled": desired,
              "currentNumberScheduled": desired, "numberMisscheduled": 0,
              "numberReady": available, "updatedNumberScheduled": updated,
              "numberAvailable": available}
    return checked({"apiVersion": "apps/v1", "kind": "DaemonSet",
                    "metadata": {"name": name, "namespace": namespace},
                    "spec": {"selector": {"matchLabels": {"app": name}},
                             "template": {"metadata": {"labels": {"app": name}},
                                          "spec": pod_spec(image)}},
                    "status": status})


def rollout(image: str, *, name: str = "api", namespace: str = "prod", phase: str = "Healthy",
            stable: str = "abc123", current: str = "abc123", paused: bool = False,
            step: int = 1, steps: list[dict[str, Any]] | None = None,
            aborted: bool = False) -> dict[str, Any]:
    """A canary Rollout; ``paused`` puts it at step ``step`` (by default the
    indefinite ``pause: {}``) as the controller does."""
    status: dict[str, Any] = {"observedGeneration": "1", "phase": phase,
                              "stableRS": stable, "currentPodHash": current,
                              "currentStepIndex": step}
    if paused:
        status["pauseConditions"] = [{"reason": "CanaryPauseStep", "startTime": T0}]
        status["message"] = "CanaryPauseStep"
    if aborted:
        status.update(abort=True, abortedAt=T1, phase="Degraded",
                      message="RolloutAborted: Rollout aborted update to revision 2")
    return checked({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                    "metadata": {"name": name, "namespace": namespace},
                    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                             "strategy": {"canary": {"steps": steps or [
                                 {"setWeight": 20}, {"pause": {}}]}},
                             "template": {"metadata": {"labels": {"app": name}},
                                          "spec": pod_spec(image)}},
                    "status": status})


def in_thread(step: Callable[[], Any]) -> threading.Thread:
    """Run a test controller's script beside the code under test."""
    errors: list[BaseException] = []

    def body() -> None:
        try:
            step()
        except BaseException as exc:  # surfaced by join_ok
            errors.append(exc)

    thread = threading.Thread(target=body, daemon=True)
    thread.errors = errors  # type: ignore[attr-defined]
    thread.start()
    return thread


def join_ok(thread: threading.Thread) -> None:
    thread.join(timeout=15)
    assert not thread.is_alive(), "controller script did not finish"
    errors = thread.errors  # type: ignore[attr-defined]
    if errors:
        raise errors[0]


POD_HASH = "7d9f8c6b5"
DIGEST = "sha256:" + "b" * 64


def replicaset(owner: str, *, revision: str = "2", pod_hash: str = POD_HASH,
               namespace: str = "prod", image: str = f"{IMAGE}:2.0") -> dict[str, Any]:
    labels = {"app": owner, "pod-template-hash": pod_hash}
    return checked({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": {"name": f"{owner}-{pod_hash}", "namespace": namespace,
                                 "labels": labels,
                                 "annotations": {"deployment.kubernetes.io/revision": revision},
                                 "ownerReferences": [{"apiVersion": "apps/v1",
                                                      "kind": "Deployment", "name": owner,
                                                      "uid": f"uid-{owner}",
                                                      "controller": True}]},
                    "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                             "template": {"metadata": {"labels": labels},
                                          "spec": pod_spec(image)}},
                    "status": {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2}})


def pod(name: str, labels: dict[str, str], image: str, *, namespace: str = "prod",
        ready: bool = True, image_id: str | None = None,
        running: str | None = None) -> dict[str, Any]:
    """A Pod as the kubelet reports it: ``running`` is the image in
    containerStatuses (default ``image``), ``image_id`` the resolved digest."""
    repo = image.split("@")[0].rsplit(":", 1)[0]
    statuses = [{"name": "api", "image": running or image, "ready": ready, "restartCount": 0,
                 "imageID": image_id or f"{repo}@{DIGEST}"},
                {"name": "proxy", "image": "docker.io/library/envoy:1.30", "ready": ready,
                 "restartCount": 0, "imageID": f"docker.io/library/envoy@{DIGEST}"}]
    return checked({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": name, "namespace": namespace, "labels": labels},
                    "spec": pod_spec(image),
                    "status": {"phase": "Running", "containerStatuses": statuses,
                               "conditions": [{"type": "Ready",
                                               "status": "True" if ready else "False"}]}})


def running(kube: Any, workload: dict[str, Any], image: str, **pod_args: Any) -> dict[str, Any]:
    """Apply ``workload`` with the ReplicaSet/Pods of its newest revision running
    ``image``, as the controllers would; returns the workload as stored."""
    kind, name = workload["kind"], workload["metadata"]["name"]
    namespace = workload["metadata"]["namespace"]
    labels = {"app": name}
    if kind == "Deployment":
        workload["metadata"].setdefault("annotations", {})[
            "deployment.kubernetes.io/revision"] = "2"
        kube.apply(replicaset(name, image=image, namespace=namespace))
        labels["pod-template-hash"] = POD_HASH
    elif kind == "StatefulSet":
        labels["controller-revision-hash"] = workload["status"]["updateRevision"]
    elif kind == "DaemonSet":
        labels["pod-template-generation"] = "1"
    else:
        labels["rollouts-pod-template-hash"] = workload["status"]["currentPodHash"]
    for n in range(2):
        kube.apply(pod(f"{name}-{n}", labels, image, namespace=namespace, **pod_args))
    return dict(kube.apply(checked(workload)))
