"""Fixtures for an Argo Rollout with ``spec.workloadRef``: the Rollout as the
controller writes it (no pod template of its own; the generation of the
referenced Deployment it resolved in ``status.workloadObservedGeneration``,
a string, and in the ``rollout.argoproj.io/workload-generation`` annotation),
the Deployment it references, and the Pods of its ReplicaSets (labelled
``rollouts-pod-template-hash``, not the Deployment's ``pod-template-hash``).
Valid against the vendored CRD and schemas (``checked``)."""

from __future__ import annotations

from typing import Any

import verify_objects as o

OLD_HASH = "5c8d7f9b4"  # the pod hash of the Deployment's generation 1 template
NEW_HASH = "6f7b9c8d5"  # ... of its generation 2 template
GENERATION = "rollout.argoproj.io/workload-generation"


def reference(kind: str = "Deployment", api_version: str | None = "apps/v1",
              name: str | None = "api", scale_down: str | None = "onsuccess") -> dict[str, Any]:
    ref = {"apiVersion": api_version, "kind": kind, "name": name, "scaleDown": scale_down}
    return {k: v for k, v in ref.items() if v is not None}


def ref_rollout(*, seen: str | None = "2", phase: str = "Healthy", stable: str = NEW_HASH,
                current: str = NEW_HASH, ref: dict[str, Any] | None = None,
                selector: bool = True, template: dict[str, Any] | None = None,
                name: str = "api", namespace: str = "prod") -> dict[str, Any]:
    """A canary Rollout whose pod template is the Deployment ``api``'s;
    ``seen``: the Deployment generation the controller resolved (None: no
    status.workloadObservedGeneration); ``template``: a spec.template beside
    the reference (which the controller refuses when it has labels)."""
    status: dict[str, Any] = {"observedGeneration": "1", "phase": phase, "stableRS": stable,
                              "currentPodHash": current, "currentStepIndex": 2}
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if seen is not None:
        status["workloadObservedGeneration"] = seen
        meta["annotations"] = {GENERATION: seen}
    if phase == "Degraded":
        status["message"] = "ProgressDeadlineExceeded: ReplicaSet \"api-6f7b9c8d5\" has " \
                            "timed out progressing."
    spec: dict[str, Any] = {
        "replicas": 2, "workloadRef": ref or reference(),
        "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {"duration": "10s"}}]}}}
    if selector:
        spec["selector"] = {"matchLabels": {"app": name}}
    if template is not None:
        spec["template"] = template
    return o.checked({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                      "metadata": meta, "spec": spec, "status": status})


def referenced(image: str, generation: int | None = 2, *, replicas: int = 0,
               name: str = "api") -> dict[str, Any]:
    """The Deployment a Rollout references (scaled to 0 by ``scaleDown:
    onsuccess`` by default), with the ``metadata.generation`` the API server
    gave it (pure-rule tests; the fake cluster sets its own)."""
    deployment = o.deployment(image, name=name, replicas=replicas, updated=replicas,
                              available=replicas, observed=generation or 1)
    if generation is not None:
        deployment["metadata"]["generation"] = generation
    return deployment


def referenced_replicaset(image: str, generation: int | None = 2) -> dict[str, Any]:
    """A ReplicaSet of its own (no owner) that a Rollout references."""
    labels = {"app": "api"}
    meta: dict[str, Any] = {"name": "api", "namespace": "prod"}
    if generation is not None:
        meta["generation"] = generation
    return o.checked({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta,
                      "spec": {"replicas": 0, "selector": {"matchLabels": labels},
                               "template": {"metadata": {"labels": labels},
                                            "spec": o.pod_spec(image)}},
                      "status": {"replicas": 0, "observedGeneration": generation or 1}})


def rollout_pods(image: str, pod_hash: str = NEW_HASH, **pod_args: Any) -> list[dict[str, Any]]:
    """The Pods of the Rollout's ReplicaSet of ``pod_hash``."""
    labels = {"app": "api", "rollouts-pod-template-hash": pod_hash}
    return [o.pod(f"api-{pod_hash}-{n}", labels, image, **pod_args) for n in range(2)]


def deployment_pods(image: str) -> list[dict[str, Any]]:
    """The Deployment's own Pods (``scaleDown: never`` keeps them running)."""
    labels = {"app": "api", "pod-template-hash": o.POD_HASH}
    return [o.pod(f"api-{o.POD_HASH}-{n}", labels, image) for n in range(2)]
