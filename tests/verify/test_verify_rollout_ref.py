"""``promoter verify --workload Rollout/NS/NAME`` (and ``promote --verify``) of an
Argo Rollout with ``spec.workloadRef``, against the fake cluster: the pod
template is the referenced Deployment's, read through the real kubernetes
client after each version of the Rollout; a test controller plays Argo
Rollouts (in a thread, driven by what the verifier saw, never by sleeps)."""

from __future__ import annotations

from typing import Any

import pytest
import rollout_ref_objects as r
import verify_objects as o
from fakes.kube_server import FakeKube
from test_verify_scenarios import Lines
from verify_objects import in_thread, join_ok

from promoter.cli import main
from promoter.config_environments import VerifySettings
from promoter.errors import AuthError, VerifyFailed, VerifyTimeout
from promoter.images import parse
from promoter.verify import VerifyRequest, parse_target, run
from promoter.verify.cluster import Cluster
from promoter.verify.pipeline import verify_promotion

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
OLD, NEW = f"{o.IMAGE}:1.0", f"{o.IMAGE}:2.0"
TARGET = parse_target("workload", "Rollout/prod/api")


def settings(kube: FakeKube, timeout: float = 20.0, **extra: Any) -> VerifyRequest:
    extra.setdefault("image", parse(NEW))
    return VerifyRequest(revision=SHA, timeout=timeout, settle=0.0,
                         kubeconfig=kube.kubeconfig(), **extra)


def deployed(kube: FakeKube, *images: str) -> None:
    """Apply the referenced Deployment with each image in turn: generation 1, 2, ..."""
    for image in images:
        kube.apply(r.referenced(image, generation=None))


def rolled_out(kube: FakeKube, seen: str, pod_hash: str, image: str, **rollout: Any) -> None:
    """The controller's work at one Deployment generation: Pods, then status."""
    for pod in r.rollout_pods(image, pod_hash):
        kube.apply(pod)
    kube.apply(r.ref_rollout(seen=seen, stable=pod_hash, current=pod_hash, **rollout))


def test_a_new_template_in_the_deployment_is_followed_to_its_pods(kube: FakeKube) -> None:
    """The merge changed the Deployment (generation 2). The Rollout, still
    Healthy at what it resolved from generation 1, is not passed; the
    controller then observes generation 2 and rolls it out."""
    deployed(kube, OLD)
    rolled_out(kube, "1", r.OLD_HASH, OLD)
    deployed(kube, NEW)
    seen = Lines()

    def controller() -> None:
        seen.wait_for("observe Deployment prod/api generation 2 "
                      "(status.workloadObservedGeneration is 1)")
        kube.apply(r.ref_rollout(seen="2", phase="Progressing", stable=r.OLD_HASH))
        seen.wait_for("phase Progressing")
        rolled_out(kube, "2", r.NEW_HASH, NEW)

    thread = in_thread(controller)
    result = run([TARGET], settings(kube), progress=seen)
    join_ok(thread)
    assert result.status == "verified"
    assert result.targets[0]["reason"] == f"rollout Healthy at pod hash {r.NEW_HASH}"


def test_the_deployments_own_pods_do_not_count(kube: FakeKube) -> None:
    """``scaleDown: never``: the Deployment keeps its Pods, which run 2.0; the
    Rollout's Pods (its ReplicaSet's, by rollouts-pod-template-hash) still run
    1.0: not verified."""
    deployed(kube, OLD, NEW)
    for pod in r.deployment_pods(NEW):
        kube.apply(pod)
    kube.apply(o.replicaset("api", image=NEW))
    rolled_out(kube, "2", r.NEW_HASH, NEW, ref=r.reference(scale_down="never"))
    for pod in r.rollout_pods(NEW, running=OLD):
        kube.apply(pod)
    with pytest.raises(VerifyTimeout) as info:
        run([TARGET], settings(kube, timeout=1.0))
    assert f"ready Pods run another image (api-{r.NEW_HASH}-0/api={OLD}" in info.value.message


def test_without_image_the_deployments_generation_is_still_checked(kube: FakeKube) -> None:
    deployed(kube, OLD, NEW)
    rolled_out(kube, "1", r.OLD_HASH, OLD)
    with pytest.raises(VerifyTimeout, match=r"observe Deployment prod/api generation 2 "):
        run([TARGET], settings(kube, timeout=1.0, image=None))
    rolled_out(kube, "2", r.NEW_HASH, NEW)
    assert run([TARGET], settings(kube, image=None)).status == "verified"


def test_a_missing_deployment_is_waited_for_naming_it(kube: FakeKube) -> None:
    kube.apply(r.ref_rollout(seen=None, phase="Degraded"))
    with pytest.raises(VerifyTimeout) as info:
        run([TARGET], settings(kube, timeout=1.0))
    assert info.value.exit_code == 5
    assert ("workload Rollout/prod/api: Deployment prod/api referenced by spec.workloadRef "
            "not found yet") in info.value.message


@pytest.mark.parametrize("refused", ["deployments", "get deployments"])
def test_a_refused_deployment_exits_3_naming_the_request(kube: FakeKube, refused: str) -> None:
    deployed(kube, NEW)
    rolled_out(kube, "1", r.NEW_HASH, NEW)
    kube.refused.add(refused)
    with pytest.raises(AuthError) as info:
        run([TARGET], settings(kube))
    assert info.value.exit_code == 3
    assert ("Kubernetes API refused getting deployments prod/api (403 Forbidden)"
            in info.value.message)


def test_an_unsupported_reference_fails_with_exit_6(kube: FakeKube) -> None:
    kube.apply(r.ref_rollout(ref=r.reference("StatefulSet")))
    with pytest.raises(VerifyFailed) as info:
        run([TARGET], settings(kube))
    assert info.value.exit_code == 6
    assert "spec.workloadRef apps/v1 StatefulSet api, which Argo Rollouts does not resolve" \
        in info.value.message


def test_a_rollout_without_selector_finds_its_pods_by_the_deployments(kube: FakeKube) -> None:
    """Another app's Rollout with the same template hash runs 1.0: its Pod is
    not this Rollout's, which the Deployment's selector (app=api) tells."""
    deployed(kube, OLD, NEW)
    rolled_out(kube, "2", r.NEW_HASH, NEW, selector=False)
    kube.apply(o.pod("web-0", {"app": "web", "rollouts-pod-template-hash": r.NEW_HASH}, NEW,
                     running=OLD))
    assert run([TARGET], settings(kube)).status == "verified"


def test_a_referenced_replicaset_is_read_and_followed(kube: FakeKube) -> None:
    kube.apply(r.referenced_replicaset(OLD, generation=None))
    kube.apply(r.referenced_replicaset(NEW, generation=None))
    rolled_out(kube, "1", r.OLD_HASH, OLD, ref=r.reference("ReplicaSet"))
    with pytest.raises(VerifyTimeout, match=r"observe ReplicaSet prod/api generation 2 "):
        run([TARGET], settings(kube, timeout=1.0))
    rolled_out(kube, "2", r.NEW_HASH, NEW, ref=r.reference("ReplicaSet"))
    assert run([TARGET], settings(kube)).status == "verified"
    kube.refused.add("get replicasets")
    with pytest.raises(AuthError, match=r"refused getting replicasets prod/api \(403"):
        run([TARGET], settings(kube))


def test_promote_verify_follows_the_reference(kube: FakeKube) -> None:
    deployed(kube, OLD, NEW)
    rolled_out(kube, "1", r.OLD_HASH, OLD)
    spec = VerifySettings(workloads=("Rollout/{env}/{app}",), settle=0, timeout=20)

    def controller() -> None:
        kube.wait_watches(1)
        rolled_out(kube, "2", r.NEW_HASH, NEW)

    thread = in_thread(controller)
    result = verify_promotion(spec, app="api", env="prod", revision=SHA, image=parse(NEW),
                              is_ancestor=None, cluster=Cluster(kubeconfig=kube.kubeconfig()))
    join_ok(thread)
    assert result.status == "verified"


def test_the_cli_times_out_with_exit_5_on_an_unobserved_generation(
        kube: FakeKube, capsys: pytest.CaptureFixture[str]) -> None:
    deployed(kube, OLD, NEW)
    rolled_out(kube, "1", r.OLD_HASH, OLD)
    with pytest.raises(SystemExit) as exited:
        main(["verify", "--workload", "Rollout/prod/api", "--revision", SHA, "--image", NEW,
              "--timeout", "1s", "--kubeconfig", kube.kubeconfig()])
    assert exited.value.code == 5
    assert ("workload Rollout/prod/api: Waiting for the rollout controller to observe "
            "Deployment prod/api generation 2") in capsys.readouterr().err


def test_argocd_3_names_a_degraded_reference_rollout(kube: FakeKube) -> None:
    """Argo CD 3.x keeps no health in status.resources: promoter judges the
    Rollout itself, with the Deployment it references read too (without it
    the Rollout would only be "not observed")."""
    resources = [{"group": "argoproj.io", "version": "v1alpha1", "kind": "Rollout",
                  "namespace": "prod", "name": "api", "status": "Synced"}]
    deployed(kube, NEW)
    kube.apply(r.ref_rollout(seen="1", phase="Degraded"))
    kube.apply(o.application(SHA, health="Degraded", resources=resources))
    with pytest.raises(VerifyFailed) as caught:
        run([parse_target("argocd-app", "argocd/api")], settings(kube, image=None))
    assert caught.value.result.targets[0]["resources"] == [
        "Rollout/prod/api: Degraded: Degraded: ProgressDeadlineExceeded: ReplicaSet "
        f'"api-{r.NEW_HASH}" has timed out progressing.']
