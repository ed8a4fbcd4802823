"""Factories for the objects the fake cluster serves: valid against the CRDs
(the fake refuses anything else), with the status a controller would write."""

from __future__ import annotations

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
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"project": "default", **sources,
                     "destination": {"server": "https://kubernetes.default.svc",
                                     "namespace": "prod"}},
            "status": status}


def _condition(kind: str, status: str, reason: str, message: str = "") -> dict[str, Any]:
    return {"type": kind, "status": status, "reason": reason, "message": message or reason,
            "lastTransitionTime": T0}


def flux(kind: str, applied: str | None, *, name: str = "api", namespace: str = "flux-system",
         ready: str = "True", reason: str = "ReconciliationSucceeded", stalled: bool = False,
         generation_lag: bool = False, attempted: str | None = None) -> dict[str, Any]:
    conditions = [_condition("Ready", ready, reason)]
    if stalled:
        conditions.append(_condition("Stalled", "True", "BuildFailed", "kustomize build failed"))
    status: dict[str, Any] = {"observedGeneration": 0 if generation_lag else 1,
                              "conditions": conditions}
    if applied:
        status["lastAppliedRevision"] = applied
    status["lastAttemptedRevision"] = attempted or applied or ""
    if kind == "Kustomization":
        api, spec = "kustomize.toolkit.fluxcd.io/v1", {
            "interval": "5m", "prune": True, "path": "./apps/api",
            "sourceRef": {"kind": "GitRepository", "name": "config"}}
    else:
        api, spec = "helm.toolkit.fluxcd.io/v2", {"interval": "5m", "chart": {"spec": {
            "chart": "./charts/api", "sourceRef": {"kind": "GitRepository", "name": "config"}}}}
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": namespace},
            "spec": spec, "status": status}


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
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": pod_spec(image)}},
            "status": status}


def rollout(image: str, *, name: str = "api", namespace: str = "prod", phase: str = "Healthy",
            stable: str = "abc123", current: str = "abc123",
            paused: bool = False) -> dict[str, Any]:
    status: dict[str, Any] = {"observedGeneration": "1", "phase": phase,
                              "stableRS": stable, "currentPodHash": current}
    if paused:
        status["pauseConditions"] = [{"reason": "CanaryPauseStep", "startTime": T0}]
        status["message"] = "CanaryPauseStep"
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                     "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": pod_spec(image)}},
            "status": status}


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
