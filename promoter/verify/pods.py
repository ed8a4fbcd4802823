"""The Pods of a workload's newest revision, and what their status shows: the
kubelet's report of each container it runs (``initContainerStatuses`` -- init
containers and native sidecars -- and ``containerStatuses``), the proof that
the new image runs beyond the pod template's word. A container whose status
no ready Pod reports was not observed, so it is not verified. Pure functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from promoter.images import ImageRef, try_parse
from promoter.verify.rules import Check, Obj, image_matches, waiting

PODS = "x-promoter-pods"  # key under which the source attaches the new revision's Pods
# ... and the object a Rollout's spec.workloadRef names (None: not found)
REFERENCED = "x-promoter-workload-ref"
TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"


def new_pods_labels(obj: Obj, replicasets: Callable[[], list[Obj]]) -> dict[str, str] | None:
    """The labels of the Pods of the workload's newest revision, None if unknown:
    Deployment -- its ReplicaSet of the same ``deployment.kubernetes.io/revision``
    (``pod-template-hash``); StatefulSet -- ``controller-revision-hash`` =
    ``status.updateRevision``; DaemonSet -- ``pod-template-generation`` = its
    template's generation (the annotation ``TEMPLATE_GENERATION``, which only a
    template change moves; ``metadata.generation`` without it);
    Rollout -- ``rollouts-pod-template-hash`` = ``status.currentPodHash``
    (and, like the controller, the selector of the Deployment its
    ``spec.workloadRef`` names when it has none of its own)."""
    status = obj.get("status") or {}
    generation = int((obj.get("metadata") or {}).get("generation") or 0)
    labels = dict(_selector(obj).get("matchLabels") or {})
    kind, meta = obj.get("kind"), obj.get("metadata") or {}
    if kind == "Deployment":
        key = "deployment.kubernetes.io/revision"
        revision = (meta.get("annotations") or {}).get(key)
        owned = [rs for rs in replicasets()
                 if any(ref.get("kind") == "Deployment" and ref.get("name") == meta.get("name")
                        for ref in (rs.get("metadata") or {}).get("ownerReferences") or ())
                 and ((rs.get("metadata") or {}).get("annotations") or {}).get(key) == revision]
        hashes = [((rs.get("metadata") or {}).get("labels") or {}).get("pod-template-hash")
                  for rs in owned]
        found = {"pod-template-hash": hashes[0]} if revision and hashes and hashes[0] else None
    elif kind == "StatefulSet" and status.get("updateRevision"):
        found = {"controller-revision-hash": str(status["updateRevision"])}
    elif kind == "DaemonSet":  # the template's generation, kept by the API server
        template = (meta.get("annotations") or {}).get(TEMPLATE_GENERATION) or generation
        found = {"pod-template-generation": str(template)}
    elif kind == "Rollout" and status.get("currentPodHash"):
        found = {"rollouts-pod-template-hash": str(status["currentPodHash"])}
    else:
        found = None
    return {**labels, **found} if found else None


def _selector(obj: Obj) -> Mapping[str, Any]:
    """The workload's ``spec.selector``; a Rollout without one has its referenced object's."""
    selector = (obj.get("spec") or {}).get("selector")
    ref = obj.get(REFERENCED)
    if not selector and obj.get("kind") == "Rollout" and isinstance(ref, Mapping):
        selector = (ref.get("spec") or {}).get("selector")
    return selector or {}


def _pod_ready(pod: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or ())


def _statuses(pod: Obj) -> list[Mapping[str, Any]]:
    """What the kubelet reports for the Pod's template containers: init
    containers (native sidecars among them) and containers. Ephemeral
    containers (``kubectl debug``) are no part of a template: not read."""
    status = pod.get("status") or {}
    return [*(status.get("initContainerStatuses") or ()), *(status.get("containerStatuses") or ())]


def _runs(status: Mapping[str, Any], want: ImageRef) -> bool:
    """Whether a container status shows ``want``: its ``imageID`` (the content
    that runs) when a digest is wanted, else its ``image``."""
    if want.digest:
        return str(status.get("imageID", "")).endswith(want.digest)
    return image_matches(want, str(status.get("image", "")))


def pods_check(pods: list[Obj], want: ImageRef, names: Sequence[str] = ()) -> Check | None:
    """None when every ready Pod of the new revision (at least one) shows ``want``
    in the status of each container ``names`` (the template's containers of
    ``want``'s repository) and of any other container reporting that repository.
    What no status shows was not observed: waiting, as for another image."""
    ready_pods = [p for p in pods if _pod_ready(p)]
    if not ready_pods:
        return waiting(f"no ready Pod of the new revision runs {want} yet")
    stale, unseen, seen = [], [], 0
    for pod in ready_pods:
        name = (pod.get("metadata") or {}).get("name")
        statuses = _statuses(pod)
        ours = [s for s in statuses if _ours(s, want, names)]
        seen += len(ours)
        unseen += [f"ready Pod {name} reports no status for container {c}" for c in names
                   if c not in {s.get("name") for s in statuses}]
        stale += [f"{name}/{s.get('name')}={s.get('image')} ({s.get('imageID') or 'no imageID'})"
                  for s in ours if not _runs(s, want)]
    if stale:
        return waiting(f"ready Pods run another image ({', '.join(stale)}), want {want}")
    if not seen:
        which = (f"template container {names[0]} runs it" if len(names) == 1 else
                 f"template containers {', '.join(names)} run it")
        return waiting(f"no status of a ready Pod of the new revision names {want.repository} "
                       f"({which}); not observed yet")
    if unseen:
        return waiting(f"{unseen[0]} (runs {want.repository}); not observed yet")
    return None


def _ours(status: Mapping[str, Any], want: ImageRef, names: Sequence[str]) -> bool:
    """A status of one of ``names``, or one reporting ``want``'s repository."""
    ref = try_parse(str(status.get("image", "")))
    return status.get("name") in names or (ref is not None and ref.repository == want.repository)
