"""The pure rules for an Argo Rollout with ``spec.workloadRef``: it passes only
when the controller reports (``status.workloadObservedGeneration``) that it
rolled out the referenced Deployment's current generation, by the Rollout
rules, with the Deployment's template and the Rollout's current Pods running
the image. Objects as the source attaches them (the Deployment under
``REFERENCED``, read after the Rollout; the Pods under ``PODS``)."""

from __future__ import annotations

from typing import Any

import pytest
import rollout_ref_objects as r
import verify_objects as o

from promoter.images import parse
from promoter.verify.pods import PODS, REFERENCED, new_pods_labels
from promoter.verify.rules import Expect
from promoter.verify.workloads import check_workload, workload_health

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
NEW = f"{o.IMAGE}:2.0"
WANT = Expect(SHA, parse(NEW))


def attached(rollout: dict[str, Any], deployment: dict[str, Any] | None,
             pods: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {**rollout, REFERENCED: deployment,
            PODS: r.rollout_pods(NEW) if pods is None else pods}


def test_observed_current_template_running_the_image_passes() -> None:
    check = check_workload(attached(r.ref_rollout(), r.referenced(NEW)), WANT)
    assert (check.state, check.reason) == ("ready", f"rollout Healthy at pod hash {r.NEW_HASH}")


def test_healthy_at_an_older_generation_of_the_deployment_waits() -> None:
    """The Deployment moved to generation 2 (the new image); the Rollout is
    still Healthy at what it resolved from generation 1: not this rollout."""
    rollout = r.ref_rollout(seen="1", stable=r.OLD_HASH, current=r.OLD_HASH)
    check = check_workload(attached(rollout, r.referenced(NEW)), WANT)
    assert check.state == "waiting"
    assert check.reason == ("Waiting for the rollout controller to observe Deployment prod/api "
                            "generation 2 (status.workloadObservedGeneration is 1)")


@pytest.mark.parametrize("expect", [WANT, Expect(SHA)], ids=["image", "no-image"])
def test_no_workload_observed_generation_never_passes(expect: Expect) -> None:
    """Without status.workloadObservedGeneration nothing says which template
    the Healthy phase is about: waiting, with or without --image."""
    check = check_workload(attached(r.ref_rollout(seen=None), r.referenced(NEW)), expect)
    assert check.state == "waiting"
    assert "reports no status.workloadObservedGeneration" in check.reason


def test_a_deployment_recreated_at_a_lower_generation_waits() -> None:
    rollout = r.ref_rollout(seen="5")
    check = check_workload(attached(rollout, r.referenced(NEW, generation=1)), WANT)
    assert check.state == "waiting"
    assert "generation 1 (status.workloadObservedGeneration is 5)" in check.reason


def test_a_deployment_without_generation_waits() -> None:
    rollout = r.ref_rollout(seen="0")
    check = check_workload(attached(rollout, r.referenced(NEW, generation=None)), WANT)
    assert check.state == "waiting"


def test_the_missing_deployment_is_waited_for_by_name() -> None:
    check = check_workload(attached(r.ref_rollout(phase="Degraded"), None), WANT)
    assert (check.state, check.reason) == (
        "waiting", "Deployment prod/api referenced by spec.workloadRef not found yet")


def test_a_deployment_not_read_is_not_observed() -> None:
    check = check_workload({**r.ref_rollout(), PODS: r.rollout_pods(NEW)}, WANT)
    assert check.state == "waiting"
    assert "Deployment prod/api referenced by spec.workloadRef not read" in check.reason


def test_the_deployments_template_decides_not_the_rollouts() -> None:
    """A label-less spec.template beside workloadRef is replaced by the
    Deployment's (Argo Rollouts' EmptyTemplate): the Deployment still runs
    1.0, so a 2.0 there (and Pods of 2.0) do not pass."""
    rollout = r.ref_rollout(template={"spec": o.pod_spec(NEW)})
    check = check_workload(attached(rollout, r.referenced(f"{o.IMAGE}:1.0")), WANT)
    assert check.state == "waiting"
    assert f"still run the old image (api={o.IMAGE}:1.0)" in check.reason


def test_the_pods_of_the_current_hash_must_run_the_image() -> None:
    pods = r.rollout_pods(NEW, running=f"{o.IMAGE}:1.0")
    check = check_workload(attached(r.ref_rollout(), r.referenced(NEW), pods), WANT)
    assert check.state == "waiting"
    assert "ready Pods run another image" in check.reason


def test_degraded_at_the_observed_generation_fails() -> None:
    check = check_workload(attached(r.ref_rollout(phase="Degraded"), r.referenced(NEW)), WANT)
    assert check.state == "failed"
    assert check.reason.startswith("Degraded: ProgressDeadlineExceeded")


def test_degraded_at_an_older_generation_waits_for_the_new_one() -> None:
    rollout = r.ref_rollout(seen="1", phase="Degraded")
    check = check_workload(attached(rollout, r.referenced(NEW)), WANT)
    assert check.state == "waiting"


def test_invalid_spec_is_named_while_waiting() -> None:
    rollout = r.ref_rollout(seen="1")
    rollout["status"]["conditions"] = [{
        "type": "InvalidSpec", "status": "True", "reason": "InvalidSpec",
        "message": 'The Rollout "api" is invalid: deployments.apps "api" is forbidden'}]
    check = check_workload(attached(o.checked(rollout), r.referenced(NEW)), WANT)
    assert check.state == "waiting"
    assert check.reason.endswith('; the controller reports InvalidSpec: The Rollout "api" is '
                                 'invalid: deployments.apps "api" is forbidden')


def test_a_template_with_labels_beside_the_reference_fails() -> None:
    rollout = r.ref_rollout(template={"metadata": {"labels": {"app": "api"}},
                                      "spec": o.pod_spec(NEW)})
    check = check_workload(attached(rollout, r.referenced(NEW)), WANT)
    assert check.state == "failed"
    assert "template must be empty for workload reference rollout" in check.reason


@pytest.mark.parametrize(("ref", "text"), [
    (r.reference("StatefulSet"),
     "spec.workloadRef apps/v1 StatefulSet api, which Argo Rollouts does not resolve"),
    (r.reference(api_version=None),
     "spec.workloadRef Deployment api (no apiVersion), which Argo Rollouts does not resolve"),
    (r.reference("PodTemplate", "v1"),
     "cannot verify spec.workloadRef v1 PodTemplate api: promoter verifies a workloadRef to "
     "an apps/v1 Deployment or ReplicaSet"),
    (r.reference(api_version="apps/v1beta2"),
     "spec.workloadRef apps/v1beta2 Deployment api, which"),
    (r.reference(name=None), "spec.workloadRef names no object (no name)"),
])
def test_a_reference_promoter_cannot_follow_fails(ref: dict[str, Any], text: str) -> None:
    check = check_workload(attached(r.ref_rollout(ref=ref), None), WANT)
    assert check.state == "failed"
    assert text in check.reason


def test_a_referenced_replicaset_is_followed_like_a_deployment() -> None:
    rollout = r.ref_rollout(ref=r.reference("ReplicaSet"), seen="1")
    check = check_workload(attached(rollout, r.referenced_replicaset(NEW)), WANT)
    assert check.reason == ("Waiting for the rollout controller to observe ReplicaSet prod/api "
                            "generation 2 (status.workloadObservedGeneration is 1)")
    rollout = r.ref_rollout(ref=r.reference("ReplicaSet"))
    stale = check_workload(attached(rollout, r.referenced_replicaset(f"{o.IMAGE}:1.0")), WANT)
    assert stale.state == "waiting"
    assert "still run the old image" in stale.reason
    assert check_workload(attached(rollout, r.referenced_replicaset(NEW)), WANT).state == "ready"
    assert check_workload(attached(rollout, None), WANT).reason == (
        "ReplicaSet prod/api referenced by spec.workloadRef not found yet")


def test_a_deployment_being_deleted_waits() -> None:
    deployment = r.referenced(NEW)
    deployment["metadata"]["deletionTimestamp"] = o.T2
    check = check_workload(attached(r.ref_rollout(), deployment), WANT)
    assert check.state == "waiting"
    assert f"is being deleted (deletionTimestamp {o.T2})" in check.reason


def test_without_image_the_observation_still_counts() -> None:
    stale = attached(r.ref_rollout(seen="1"), r.referenced(NEW), [])
    assert check_workload(stale, Expect(SHA)).state == "waiting"
    assert check_workload(attached(r.ref_rollout(), r.referenced(NEW), []),
                          Expect(SHA)).state == "ready"


def test_argocd_health_of_a_reference_rollout() -> None:
    """Argo CD 3.x apps take health from the workloads themselves: a
    reference Rollout is Healthy only with its Deployment observed."""
    assert workload_health(attached(r.ref_rollout(), r.referenced(NEW)))["status"] == "Healthy"
    assert workload_health(attached(r.ref_rollout(seen="1"), r.referenced(NEW)))["status"] \
        == "Progressing"
    assert workload_health({**r.ref_rollout()})["status"] == "Progressing"


def test_pods_of_a_rollout_without_selector_by_the_deployments_selector() -> None:
    """The controller takes the Deployment's selector when the Rollout has
    none: so do the labels of the Pods the image check reads."""
    rollout = attached(r.ref_rollout(selector=False), r.referenced(NEW))
    assert new_pods_labels(rollout, list) == {"app": "api",
                                              "rollouts-pod-template-hash": r.NEW_HASH}
    own = attached(r.ref_rollout(), r.referenced(NEW))
    own["spec"] = {**own["spec"], "selector": {"matchLabels": {"tier": "web"}}}
    assert new_pods_labels(own, list) == {"tier": "web",
                                          "rollouts-pod-template-hash": r.NEW_HASH}
