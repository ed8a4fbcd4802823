"""Workload readiness (pure functions): kubectl's ``rollout status`` rules for
Deployment, StatefulSet and DaemonSet, ported as written in
kubectl/pkg/polymorphichelpers/rollout_status.go; Argo Rollouts' phase and
pod hashes (a Rollout's ``spec.workloadRef``: promoter.verify.rollout_ref);
and, for all of them, every container of the image's repository runs the
wanted image. Objects are dicts as the API server returns them
(defaulted), so an absent ``spec.replicas`` means the default, 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from promoter.images import ImageRef, try_parse
from promoter.verify.pods import PODS, pods_check
from promoter.verify.rollout_ref import reference_check, template_owner
from promoter.verify.rules import (
    Check,
    Expect,
    Obj,
    Resource,
    condition,
    deleting,
    failed,
    image_matches,
    or_list,
    ready,
    waiting,
)

Rule = Callable[[Obj, bool], Check]  # (object, allow_paused) -> rolled out?


def _meta(obj: Obj) -> tuple[Mapping[str, Any], Mapping[str, Any], int]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    generation = int((obj.get("metadata") or {}).get("generation") or 0)
    return spec, status, generation


def deployment_status(obj: Obj) -> Check:
    spec, status, generation = _meta(obj)
    name = (obj.get("metadata") or {}).get("name")
    if generation > int(status.get("observedGeneration") or 0):
        return waiting("Waiting for deployment spec update to be observed...")
    progressing = condition(obj, "Progressing") or {}
    if spec.get("paused"):
        return waiting(f'deployment "{name}" is paused (spec.paused): its rollout will not '
                       "finish until it is resumed (kubectl rollout resume)")
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return failed(f'deployment "{name}" exceeded its progress deadline')
    replicas = int(spec.get("replicas", 1))
    updated = int(status.get("updatedReplicas") or 0)
    if updated < replicas:
        return waiting(f'Waiting for deployment "{name}" rollout to finish: {updated} out of '
                       f"{replicas} new replicas have been updated...")
    total = int(status.get("replicas") or 0)
    if total > updated:
        return waiting(f'Waiting for deployment "{name}" rollout to finish: {total - updated} '
                       "old replicas are pending termination...")
    available = int(status.get("availableReplicas") or 0)
    if available < updated:
        return waiting(f'Waiting for deployment "{name}" rollout to finish: {available} of '
                       f"{updated} updated replicas are available...")
    return ready(f'deployment "{name}" successfully rolled out')


def statefulset_status(obj: Obj) -> Check:
    spec, status, generation = _meta(obj)
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return failed("rollout status is only available for RollingUpdate strategy type")
    observed = int(status.get("observedGeneration") or 0)
    if observed == 0 or generation > observed:
        return waiting("Waiting for statefulset spec update to be observed...")
    replicas = int(spec.get("replicas", 1))
    ready_replicas = int(status.get("readyReplicas") or 0)
    if ready_replicas < replicas:
        return waiting(f"Waiting for {replicas - ready_replicas} pods to be ready...")
    updated = int(status.get("updatedReplicas") or 0)
    rolling = strategy.get("rollingUpdate")
    if rolling is not None:
        partition = rolling.get("partition")
        if partition is not None and updated < replicas - int(partition):
            return waiting(f"Waiting for partitioned roll out to finish: {updated} out of "
                           f"{replicas - int(partition)} new pods have been updated...")
        return ready(f"partitioned roll out complete: {updated} new pods have been updated...")
    if status.get("updateRevision") != status.get("currentRevision"):
        return waiting(f"waiting for statefulset rolling update to complete {updated} pods at "
                       f"revision {status.get('updateRevision')}...")
    return ready(f"statefulset rolling update complete {status.get('currentReplicas', 0)} pods "
                 f"at revision {status.get('currentRevision')}...")


def daemonset_status(obj: Obj) -> Check:
    spec, status, generation = _meta(obj)
    name = (obj.get("metadata") or {}).get("name")
    if (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") != "RollingUpdate":
        return failed("rollout status is only available for RollingUpdate strategy type")
    if generation > int(status.get("observedGeneration") or 0):
        return waiting("Waiting for daemon set spec update to be observed...")
    desired = int(status.get("desiredNumberScheduled") or 0)
    updated = int(status.get("updatedNumberScheduled") or 0)
    if updated < desired:
        return waiting(f'Waiting for daemon set "{name}" rollout to finish: {updated} out of '
                       f"{desired} new pods have been updated...")
    available = int(status.get("numberAvailable") or 0)
    if available < desired:
        return waiting(f'Waiting for daemon set "{name}" rollout to finish: {available} of '
                       f"{desired} updated pods are available...")
    return ready(f'daemon set "{name}" successfully rolled out')


def _pause(spec: Mapping[str, Any], status: Mapping[str, Any]) -> str | None:
    """Why a paused Rollout stays paused until someone acts ("" when the pause
    is timed and ends by itself): a manual pause (``spec.paused``), a canary
    ``pause: {}`` step without a duration, a blue-green pause without
    ``autoPromotionSeconds``, an inconclusive analysis."""
    if spec.get("paused"):
        return "spec.paused is set"
    strategy = spec.get("strategy") or {}
    steps = (strategy.get("canary") or {}).get("steps") or []
    index = status.get("currentStepIndex")
    for cond in status.get("pauseConditions") or ():
        reason = cond.get("reason")
        if reason == "CanaryPauseStep" and isinstance(index, int) and index < len(steps):
            if (steps[index].get("pause") or {}).get("duration") is None:
                return f"step {index} is a pause without a duration"
        elif reason == "BlueGreenPause":
            if (strategy.get("blueGreen") or {}).get("autoPromotionSeconds") is None:
                return "blue-green pause without autoPromotionSeconds"
        else:
            return f"paused: {reason}"
    return ""


def rollout_status(obj: Obj, allow_paused: bool = False) -> Check:
    """Argo Rollout: phase Healthy and stableRS == currentPodHash. A timed pause
    (``pause: {duration}``) is followed until the Rollout resumes; an indefinite
    pause fails, or passes with ``allow_paused``; aborted or Degraded fails."""
    spec, status, generation = _meta(obj)
    observed = str(status.get("observedGeneration") or "0")  # a string in Argo Rollouts
    if observed.isdigit() and generation > int(observed):
        return waiting("Waiting for rollout spec update to be observed...")
    phase = status.get("phase")
    message = status.get("message") or ""
    if status.get("abort"):
        return failed(f"aborted: {message or 'the update was aborted'}".strip())
    paused = phase == "Paused" or bool(spec.get("paused")) or bool(status.get("pauseConditions"))
    why = _pause(spec, status) if paused else None
    if why == "":
        return waiting(f"timed pause at step {status.get('currentStepIndex')}; it resumes by "
                       "itself")
    if why and allow_paused:
        return ready(f"paused indefinitely ({why}; allowed) at pod hash "
                     f"{status.get('currentPodHash')}")
    if why:
        return failed(f"paused indefinitely ({why}), waiting for promotion "
                      f"(kubectl argo rollouts promote) {message}".strip())
    if phase == "Degraded":
        return failed(f"Degraded: {message}".strip())
    if phase != "Healthy":
        return waiting(f"phase {phase or 'unknown'} {message}".strip())
    if status.get("stableRS") != status.get("currentPodHash"):
        return waiting(f"stable pod hash {status.get('stableRS')} != current "
                       f"{status.get('currentPodHash')}")
    return ready(f"rollout Healthy at pod hash {status.get('currentPodHash')}")


def containers(obj: Obj) -> list[Mapping[str, Any]]:
    """Containers and init containers of the object's pod template."""
    pod = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    return [*(pod.get("initContainers") or ()), *(pod.get("containers") or ())]


def of_repository(obj: Obj, want: ImageRef) -> list[Mapping[str, Any]]:
    """The pod template's containers (init containers too) of ``want``'s repository."""
    return [c for c in containers(obj)
            if (ref := try_parse(str(c.get("image", "")))) and ref.repository == want.repository]


def image_check(obj: Obj, want: ImageRef) -> Check | None:
    """None when every container of ``want``'s repository runs ``want``."""
    ours = of_repository(obj, want)
    if not ours:
        return waiting(f"no container runs {want.repository}")
    stale = [f"{c.get('name')}={c.get('image')}" for c in ours
             if not image_matches(want, str(c.get("image")))]
    if stale:
        return waiting(f"containers still run the old image ({', '.join(stale)}), want {want}")
    return None


@dataclass(frozen=True)
class Workload:
    """A kind ``--workload KIND/NS/NAME`` accepts (the table key is its ``kind``)."""

    resource: Resource
    aliases: tuple[str, ...]  # KIND as it may be typed, lower-case
    rule: Rule
    provider: str | None = None  # what serves the resource when Kubernetes does not


WORKLOADS: dict[str, Workload] = {
    "Deployment": Workload(Resource("apps", "v1", "deployments"), ("deployment", "deploy"),
                           lambda obj, _paused: deployment_status(obj)),
    "StatefulSet": Workload(Resource("apps", "v1", "statefulsets"), ("statefulset", "sts"),
                            lambda obj, _paused: statefulset_status(obj)),
    "DaemonSet": Workload(Resource("apps", "v1", "daemonsets"), ("daemonset", "ds"),
                          lambda obj, _paused: daemonset_status(obj)),
    "Rollout": Workload(Resource("argoproj.io", "v1alpha1", "rollouts"), ("rollout", "ro"),
                        rollout_status, "Argo Rollouts"),
}


def check_workload(obj: Obj, expect: Expect) -> Check:
    """Rolled out by kubectl's rules (or Argo Rollouts', for a Rollout with
    ``spec.workloadRef`` at the referenced Deployment's current generation:
    promoter.verify.rollout_ref) and running the image."""
    kind = str(obj.get("kind", ""))
    gone = deleting(obj)
    if gone is not None:
        return gone
    if kind not in WORKLOADS:
        return failed(f"cannot verify kind {kind!r}; use {or_list(WORKLOADS)}")
    referenced = reference_check(obj)  # a Rollout's spec.workloadRef: observed, current
    if referenced is not None:
        return referenced
    rolled = WORKLOADS[kind].rule(obj, expect.allow_paused)
    if rolled.state == "failed" or expect.image is None:
        return rolled
    owner = template_owner(obj)  # the object, or the Deployment its workloadRef names
    template = image_check(owner, expect.image)
    if template is not None or rolled.state != "ready" or PODS not in obj:
        return template or rolled
    names = [str(c.get("name")) for c in of_repository(owner, expect.image)]
    return pods_check(list(obj[PODS]), expect.image, names) or rolled


def workload_health(obj: Obj) -> dict[str, str]:
    """Argo CD-style health of a workload, from kubectl's rules (for Argo CD 3.x
    apps whose resources carry no health)."""
    check = check_workload(obj, Expect(""))
    status = {"ready": "Healthy", "failed": "Degraded"}.get(check.state, "Progressing")
    return {"status": status, "message": check.reason}
