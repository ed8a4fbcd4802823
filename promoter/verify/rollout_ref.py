"""Argo Rollouts' ``spec.workloadRef``: a Rollout whose pod template is that of
a Deployment (or ReplicaSet) it references, in its own namespace. Pure functions.

What the controller does (argo-rollouts rollout/templateref.go, sync.go):
at each reconcile it reads the referenced object from its informer and uses
its ``spec.template`` (and ``spec.selector`` when the Rollout has none) in
memory, never writing them to the Rollout; with the status computed from that
template (``currentPodHash``, ``stableRS``, ``phase``) it writes the object's
``metadata.generation`` it resolved to ``status.workloadObservedGeneration``
(a string). It resolves an ``apps`` Deployment or ReplicaSet or a core
PodTemplate, nothing else (InvalidSpec), and refuses a ``spec.template``
with labels or annotations beside the reference. Its ReplicaSets and Pods are
the Rollout's (``rollouts-pod-template-hash``), not the Deployment's.

So a Rollout with a reference is judged by the Rollout rules only when
``status.workloadObservedGeneration`` is the referenced object's generation
as read after the Rollout: then its status describes that object's current
template. Anything else (no such field, another generation, the object
missing or not read) is waited for, never passed; the image is checked in
the referenced template. promoter follows a reference to an apps/v1
Deployment or ReplicaSet (not to a PodTemplate).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promoter.verify.pods import REFERENCED
from promoter.verify.rules import Check, Obj, condition, failed, waiting

RESOLVED = {("apps", "Deployment"), ("apps", "ReplicaSet"), ("", "PodTemplate")}  # by Argo
FOLLOWED = {("apps/v1", "Deployment"): "deployments",  # what promoter reads
            ("apps/v1", "ReplicaSet"): "replicasets"}


def reference(obj: Obj) -> Mapping[str, Any] | None:
    """The Rollout's ``spec.workloadRef``, None for a Rollout with its own template."""
    if obj.get("kind") != "Rollout":
        return None
    ref = (obj.get("spec") or {}).get("workloadRef")
    return ref if isinstance(ref, Mapping) else None


def followed(obj: Obj) -> tuple[str, str, str] | None:
    """(plural, namespace, name) of the apps/v1 object to read for ``obj``, None
    when there is none to read (no reference, or one ``reference_check`` fails)."""
    ref = reference(obj)
    if ref is None or _unfollowable(obj, ref) is not None:
        return None
    plural = FOLLOWED[str(ref.get("apiVersion")), str(ref.get("kind"))]
    return plural, str((obj.get("metadata") or {}).get("namespace") or ""), str(ref["name"])


def template_owner(obj: Obj) -> Obj:
    """The object whose ``spec.template`` the workload's Pods are made from."""
    if reference(obj) is not None and isinstance(obj.get(REFERENCED), Mapping):
        return obj[REFERENCED]  # type: ignore[no-any-return]
    return obj


def _describe(ref: Mapping[str, Any]) -> str:
    api, kind, name = ref.get("apiVersion"), ref.get("kind"), ref.get("name")
    words = " ".join(str(w) for w in (api, kind, name) if w)
    return f"spec.workloadRef {words}" + ("" if api else " (no apiVersion)")


def _unfollowable(obj: Obj, ref: Mapping[str, Any]) -> Check | None:
    """Failed for a reference promoter cannot follow or Argo Rollouts refuses."""
    api, kind = str(ref.get("apiVersion") or ""), str(ref.get("kind") or "")
    group = api.rpartition("/")[0] if "/" in api else ""
    if not ref.get("name"):
        return failed("spec.workloadRef names no object (no name); the Rollout cannot roll out")
    template = ((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}
    if template.get("labels") or template.get("annotations"):  # Argo's EmptyTemplate()
        return failed("spec.template has labels or annotations beside spec.workloadRef, which "
                      "Argo Rollouts refuses (template must be empty for workload reference "
                      "rollout); remove spec.template")
    if (api, kind) in FOLLOWED:
        return None
    if not api or (group, kind) not in RESOLVED or (group == "apps" and api != "apps/v1"):
        return failed(f"{_describe(ref)}, which Argo Rollouts does not resolve (it resolves an "
                      "apps/v1 Deployment or ReplicaSet, or a v1 PodTemplate): the Rollout "
                      "cannot roll out")
    return failed(f"cannot verify {_describe(ref)}: promoter verifies a workloadRef to an "
                  "apps/v1 Deployment or ReplicaSet")


def reference_check(obj: Obj) -> Check | None:
    """None when ``obj`` has no reference, or when the controller reports it
    rolled out the referenced object's current generation (the Rollout
    rules then judge its status); else why not (waiting or failed)."""
    ref = reference(obj)
    if ref is None:
        return None
    bad = _unfollowable(obj, ref)
    if bad is not None:
        return bad
    namespace = (obj.get("metadata") or {}).get("namespace")
    name = f"{ref['kind']} {namespace}/{ref['name']}"
    what = f"{name} referenced by spec.workloadRef"
    if REFERENCED not in obj:
        return waiting(f"{what} not read; its template is not observed")
    workload = obj[REFERENCED]
    if workload is None:
        return waiting(f"{what} not found yet")
    return _observed(obj, workload, name)


def _observed(obj: Obj, workload: Obj, name: str) -> Check | None:
    """None when ``status.workloadObservedGeneration`` is ``workload``'s generation."""
    what = f"{name} referenced by spec.workloadRef"
    meta = workload.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return waiting(f"{what} is being deleted (deletionTimestamp "
                       f"{meta['deletionTimestamp']}); its template is not there to roll out")
    generation = int(meta.get("generation") or 0)
    seen = str((obj.get("status") or {}).get("workloadObservedGeneration") or "")
    if generation < 1:
        reason = f"{what} has no metadata.generation; nothing ties the Rollout's status to it"
    elif not seen.isdigit():
        odd = f" (only {seen!r})" if seen else ""
        reason = (f"the rollout controller reports no status.workloadObservedGeneration{odd}: "
                  f"which template of {what} it rolled out is not observed")
    elif int(seen) != generation:
        reason = (f"Waiting for the rollout controller to observe {name} generation "
                  f"{generation} (status.workloadObservedGeneration is {seen})")
    else:
        return None
    invalid = condition(obj, "InvalidSpec") or {}
    if invalid.get("status") == "True" and invalid.get("message"):
        reason += f"; the controller reports InvalidSpec: {invalid['message']}"
    return waiting(reason)
