"""promoter.verify.run against the fake cluster, with a test controller that
changes status over time (in a thread, driven by events, not sleeps)."""

from __future__ import annotations

import subprocess
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import verify_objects as o
from fakes.kube_server import ADMIN_TOKEN, NOBODY_TOKEN, FakeKube
from verify_objects import in_thread, join_ok

from promoter.errors import AuthError, PromoterError, VerifyFailed, VerifyTimeout
from promoter.images import parse
from promoter.verify import (
    VerifyRequest,
    VerifyTarget,
    parse_target,
    run,
)
from promoter.verify.ancestry import repo_ancestry

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
APP = parse_target("argocd-app", "argocd/api")
DEPLOY = parse_target("workload", "Deployment/prod/api")


def settings(kube: FakeKube, revision: str = SHA, timeout: float = 20.0,
             **extra: Any) -> VerifyRequest:
    extra.setdefault("kubeconfig", kube.kubeconfig())
    return VerifyRequest(revision=revision, timeout=timeout, settle=0.0, **extra)


class Lines:
    """A progress sink that lets a test controller wait for what the verifier saw."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.cond = threading.Condition()

    def __call__(self, line: str) -> None:
        with self.cond:
            self.lines.append(line)
            self.cond.notify_all()

    def wait_for(self, text: str) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: any(text in line for line in self.lines), 10), \
                f"never saw {text!r} in {self.lines[-3:]}"


def test_exact_sha_verifies(kube: FakeKube) -> None:
    kube.apply(o.application(o.OLD))

    def controller() -> None:
        kube.wait_watches(1)
        kube.apply(o.application(SHA, phase="Running", health="Progressing"))
        kube.apply(o.application(SHA))

    thread = in_thread(controller)
    result = run([APP], settings(kube))
    join_ok(thread)
    assert result.status == "verified"
    assert result.synced_revision == SHA
    assert result.targets[0]["status"] == "ready"


def _commits(repo: Path) -> tuple[str, str]:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], check=True, text=True,
                              capture_output=True).stdout.strip()

    repo.mkdir()
    git("init", "-q", "-b", "main")
    merge = ""
    for n in (1, 2):
        (repo / "f").write_text(str(n))
        git("add", "f")
        git("commit", "-q", "-m", f"c{n}")
        merge = merge or git("rev-parse", "HEAD")
    return merge, git("rev-parse", "HEAD")


def test_descendant_verifies_with_the_repository(kube: FakeKube, tmp_path: Path) -> None:
    merge, later = _commits(tmp_path / "config")
    kube.apply(o.application(later))
    result = run([APP], settings(kube, merge, is_ancestor=repo_ancestry(str(tmp_path / "config"))))
    assert result.status == "verified"
    assert result.synced_revision == later


def test_descendant_without_ancestry_is_not_enough(kube: FakeKube, tmp_path: Path) -> None:
    merge, later = _commits(tmp_path / "config")
    kube.apply(o.application(later))
    with pytest.raises(VerifyTimeout, match="only an exact SHA match counts"):
        run([APP], settings(kube, merge, timeout=1.0))


def test_an_older_commit_is_not_a_descendant(kube: FakeKube, tmp_path: Path) -> None:
    merge, later = _commits(tmp_path / "config")
    kube.apply(o.application(merge))
    ancestry = repo_ancestry(str(tmp_path / "config"))
    with pytest.raises(VerifyTimeout, match="or a descendant of it"):
        run([APP], settings(kube, later, timeout=1.0, is_ancestor=ancestry))


def test_stale_synced_at_the_old_revision_times_out(kube: FakeKube) -> None:
    kube.apply(o.application(o.OLD))
    with pytest.raises(VerifyTimeout) as caught:
        run([APP], settings(kube, timeout=1.5))
    assert caught.value.exit_code == 5
    assert "argocd-app argocd/api: synced revision 111111111111" in caught.value.message
    assert caught.value.result.status == "timeout"


@pytest.mark.parametrize(("state", "missing"), [
    ({"phase": "Running"}, "sync operation Running"),
    ({"reconciled": o.T0}, "health not yet assessed after the sync operation"),
])
def test_healthy_before_the_operation_finished_does_not_pass(
        kube: FakeKube, state: dict[str, Any], missing: str) -> None:
    kube.apply(o.application(SHA, **state))
    with pytest.raises(VerifyTimeout, match=missing):
        run([APP], settings(kube, timeout=1.0))


def test_degraded_fails_fast_with_the_failing_resources(kube: FakeKube) -> None:
    kube.apply(o.application(o.OLD))
    bad = [{"kind": "Deployment", "namespace": "prod", "name": "api", "version": "v1",
            "group": "apps", "health": {"status": "Degraded",
                                        "message": "Deployment exceeded its progress deadline"}}]

    def controller() -> None:
        kube.wait_watches(1)
        kube.apply(o.application(SHA, health="Degraded", resources=bad))

    thread = in_thread(controller)
    with pytest.raises(VerifyFailed) as caught:
        run([APP], settings(kube, timeout=60))
    join_ok(thread)
    assert caught.value.exit_code == 6
    assert "Degraded after 5e1f2a3b4c5d was applied" in caught.value.message
    assert caught.value.result.targets[0]["resources"] == [
        "Deployment/prod/api: Degraded: Deployment exceeded its progress deadline"]


def test_failed_operation_fails(kube: FakeKube) -> None:
    kube.apply(o.application(o.OLD, sync="OutOfSync", phase="Failed", op_revision=SHA))
    with pytest.raises(VerifyFailed, match="sync operation Failed: operation failed"):
        run([APP], settings(kube, timeout=60))


def test_sync_error_condition_fails(kube: FakeKube) -> None:
    error = {"type": "SyncError", "message": "one or more objects failed to apply"}
    kube.apply(o.application(SHA, sync="OutOfSync", conditions=[error]))
    with pytest.raises(VerifyFailed, match="SyncError: one or more objects failed to apply"):
        run([APP], settings(kube, timeout=60))


def test_multi_source_application(kube: FakeKube) -> None:
    kube.apply(o.application(revisions=["1.2.3", SHA]))
    result = run([APP], settings(kube))
    assert result.synced_revision == SHA


def test_multi_source_application_follows_the_config_repository(kube: FakeKube) -> None:
    urls = ["https://charts.example/stable", "https://git.example/config.git"]
    by_repo = {"repo_url": "git@git.example:config"}
    kube.apply(o.application(revisions=["9.9.9", SHA], repo_urls=urls))
    assert run([APP], settings(kube, **by_repo)).synced_revision == SHA
    kube.apply(o.application(revisions=[SHA, o.OLD], repo_urls=urls))  # the chart's is the SHA
    with pytest.raises(VerifyTimeout, match=f"synced revision {o.OLD[:12]} is not"):
        run([APP], settings(kube, timeout=1.0, **by_repo))


@pytest.mark.parametrize("kind", ["Kustomization", "HelmRelease"])
@pytest.mark.parametrize("form", ["main@sha1:{}", "main/{}"])
def test_flux_both_revision_formats(kube: FakeKube, kind: str, form: str) -> None:
    target = parse_target("flux-kustomization" if kind == "Kustomization"
                          else "flux-helmrelease", "flux-system/api")
    kube.apply(o.flux(kind, form.format(o.OLD)))

    def controller() -> None:
        kube.wait_watches(1)
        kube.apply(o.flux(kind, form.format(SHA), ready="Unknown", reason="Progressing"))
        kube.apply(o.flux(kind, form.format(SHA)))

    thread = in_thread(controller)
    result = run([target], settings(kube))
    join_ok(thread)
    # a HelmRelease shows the commit as its chart version's 12-character build metadata
    assert result.synced_revision == (SHA if kind == "Kustomization" else SHA[:12])


def test_flux_oci_kustomization_verifies_by_its_artifacts_origin(kube: FakeKube) -> None:
    """From an OCIRepository, Flux's revision is the artifact digest; the run
    waits for an artifact whose origin revision is the commit."""
    kube.apply(o.oci_kustomization(f"main@sha1:{o.OLD}"))

    def controller() -> None:
        kube.wait_watches(1)
        kube.apply(o.oci_kustomization(None))  # an artifact pushed without --revision
        kube.apply(o.oci_kustomization(f"main@sha1:{SHA}"))

    thread = in_thread(controller)
    result = run([parse_target("flux-kustomization", "flux-system/api")], settings(kube))
    join_ok(thread)
    assert result.synced_revision == SHA


def test_flux_stalled_fails(kube: FakeKube) -> None:
    kube.apply(o.flux("Kustomization", f"main@sha1:{o.OLD}", ready="False",
                      reason="BuildFailed", stalled=True, attempted=f"main@sha1:{SHA}"))
    with pytest.raises(VerifyFailed, match="Stalled: BuildFailed"):
        run([parse_target("flux-kustomization", "flux-system/api")], settings(kube))


def test_rollout_stuck_with_progress_deadline_exceeded(kube: FakeKube) -> None:
    kube.apply(o.deployment(f"{o.IMAGE}:2.0", updated=1, available=1, deadline=True))
    with pytest.raises(VerifyFailed, match="exceeded its progress deadline"):
        run([DEPLOY], settings(kube, image=parse(f"{o.IMAGE}:2.0")))


def test_right_revision_but_old_image_keeps_waiting(kube: FakeKube) -> None:
    kube.apply(o.application(SHA))
    kube.apply(o.deployment(f"{o.IMAGE}:1.0"))
    seen = Lines()

    def controller() -> None:
        seen.wait_for("verify 1/2 ready; workload Deployment/prod/api: containers still run "
                      "the old image (api=ghcr.io/acme/api:1.0)")
        generation = kube.apply(o.deployment(f"{o.IMAGE}:2.0", updated=0))["metadata"]
        o.running(kube, o.deployment(f"{o.IMAGE}:2.0", observed=generation["generation"]),
                  f"{o.IMAGE}:2.0")

    thread = in_thread(controller)
    result = run([APP, DEPLOY], settings(kube, image=parse(f"{o.IMAGE}:2.0")), progress=seen)
    join_ok(thread)
    assert result.status == "verified"
    assert "2/2 ready" in seen.lines[-1]


def test_argo_rollout_paused_fails_unless_allowed(kube: FakeKube) -> None:
    o.running(kube, o.rollout(f"{o.IMAGE}:2.0", phase="Paused", current="def456", paused=True),
              f"{o.IMAGE}:2.0")
    target = parse_target("workload", "Rollout/prod/api")
    image = parse(f"{o.IMAGE}:2.0")
    with pytest.raises(VerifyFailed, match="paused indefinitely"):
        run([target], settings(kube, image=image))
    result = run([target], settings(kube, image=image, allow_paused=True))
    assert result.status == "verified"


def test_argo_rollout_healthy(kube: FakeKube) -> None:
    kube.apply(o.rollout(f"{o.IMAGE}:2.0", phase="Progressing", current="def456"))

    def controller() -> None:
        kube.wait_watches(1)
        o.running(kube, o.rollout(f"{o.IMAGE}:2.0", stable="def456", current="def456"),
                  f"{o.IMAGE}:2.0")

    thread = in_thread(controller)
    result = run([parse_target("workload", "ro/prod/api")],
                 settings(kube, image=parse(f"{o.IMAGE}:2.0")))
    join_ok(thread)
    assert result.targets[0]["reason"] == "rollout Healthy at pod hash def456"


def test_dropped_watch_and_410_gone_recover(kube: FakeKube) -> None:
    kube.apply(o.application(o.OLD))

    def controller() -> None:
        kube.wait_watches(1)
        kube.drop_watches(abrupt=True)
        kube.wait_watches(2)
        kube.apply(o.application(o.OLD, health="Progressing"))
        kube.drop_watches()
        kube.wait_watches(3)
        kube.expire(o.application(SHA))

    thread = in_thread(controller)
    result = run([APP], settings(kube))
    join_ok(thread)
    assert result.status == "verified"


def test_a_silently_stalled_watch_is_noticed_within_the_settle_window(kube: FakeKube) -> None:
    """The server keeps the watch open and sends nothing (no events, no
    bookmarks): the periodic relist (every settle/2, at least 1 s) sees the new
    state long before the old 90 s read timeout."""
    kube.apply(o.application(o.OLD))

    def controller() -> None:
        kube.wait_watches(1)
        kube.stall_watches()
        kube.apply(o.application(SHA))

    thread = in_thread(controller)
    result = run([APP], VerifyRequest(revision=SHA, timeout=20, settle=2.0,
                                       kubeconfig=kube.kubeconfig()))
    join_ok(thread)
    assert result.status == "verified"


@pytest.mark.parametrize(("token", "code"), [("wrong-token", "401"), (NOBODY_TOKEN, "403")])
def test_401_and_403_are_auth_errors(kube: FakeKube, token: str, code: str) -> None:
    kube.apply(o.application(SHA))
    with pytest.raises(AuthError, match=code) as caught:
        run([APP], settings(kube, kubeconfig=kube.kubeconfig(token)))
    assert caught.value.exit_code == 3


def test_refresh_sets_the_annotations(kube: FakeKube) -> None:
    kube.apply(o.application(SHA))
    kube.apply(o.flux("Kustomization", f"main@sha1:{SHA}"))
    flux = parse_target("flux-kustomization", "flux-system/api")
    run([APP, flux], settings(kube, refresh=True))
    app = kube.get("applications", "argocd", "api") or {}
    ks = kube.get("kustomizations", "flux-system", "api") or {}
    assert app["metadata"]["annotations"] == {"argocd.argoproj.io/refresh": "normal"}
    assert "reconcile.fluxcd.io/requestedAt" in ks["metadata"]["annotations"]
    assert ks["metadata"]["generation"] == 1


def test_missing_object_is_reported_on_timeout(kube: FakeKube) -> None:
    with pytest.raises(VerifyTimeout, match="argocd-app argocd/nope: not found"):
        run([VerifyTarget("argocd-app", "argocd", "nope")], settings(kube, timeout=1.0))


class TestArgoCDServer:
    @pytest.fixture(autouse=True)
    def trust(self, kube: FakeKube, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("SSL_CERT_FILE", kube.ca_path)

    def test_verifies_through_the_api_server(self, kube: FakeKube) -> None:
        kube.apply(o.application(o.OLD))
        seen = Lines()

        def controller() -> None:
            seen.wait_for("synced revision 111111111111")
            kube.apply(o.application(SHA))

        thread = in_thread(controller)
        result = run([APP], settings(kube, argocd_server=kube.url, argocd_token=ADMIN_TOKEN,
                                     refresh=True, kubeconfig="/nonexistent"), progress=seen)
        join_ok(thread)
        assert result.synced_revision == SHA
        app = kube.get("applications", "argocd", "api") or {}
        assert app["metadata"]["annotations"] == {"argocd.argoproj.io/refresh": "normal"}

    @pytest.mark.parametrize(("token", "code"), [("wrong", "401"), (NOBODY_TOKEN, "403")])
    def test_refused_token(self, kube: FakeKube, token: str, code: str) -> None:
        kube.apply(o.application(SHA))
        with pytest.raises(AuthError, match=code):
            run([APP], settings(kube, argocd_server=kube.url, argocd_token=token))


def test_a_cut_watch_keeps_the_last_state_seen(kube: FakeKube) -> None:
    kube.apply(o.application(o.OLD))
    seen = Lines()

    def controller() -> None:
        seen.wait_for("synced revision 111111111111")
        kube.wait_watches(1)
        kube.drop_watches(abrupt=True)
        kube.wait_watches(2)

    thread = in_thread(controller)
    with pytest.raises(VerifyTimeout, match="argocd-app argocd/api: synced revision 111111"):
        run([APP], settings(kube, timeout=2.5), progress=seen)
    join_ok(thread)


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet"])
def test_statefulset_and_daemonset(kube: FakeKube, kind: str) -> None:
    make = o.statefulset if kind == "StatefulSet" else o.daemonset
    o.running(kube, make(f"{o.IMAGE}:2.0"), f"{o.IMAGE}:2.0")
    result = run([parse_target("workload", f"{kind}/prod/api")],
                 settings(kube, image=parse(f"{o.IMAGE}:2.0")))
    assert result.targets[0]["workload_kind"] == kind
    assert result.targets[0]["status"] == "ready"


@pytest.mark.parametrize("target", [APP, parse_target("flux-kustomization", "flux-system/api"),
                                    DEPLOY])
def test_an_object_being_deleted_never_passes(kube: FakeKube, target: VerifyTarget) -> None:
    obj = {APP: o.application(SHA), DEPLOY: o.deployment(f"{o.IMAGE}:2.0")}.get(
        target, o.flux("Kustomization", f"main@sha1:{SHA}"))
    obj["metadata"].update(deletionTimestamp=o.T2, finalizers=["example.test/keep"])
    kube.apply(obj)
    with pytest.raises(VerifyFailed) as caught:
        run([target], settings(kube, timeout=20))
    assert f"being deleted (deletionTimestamp {o.T2})" in caught.value.message
    assert len(caught.value.message.splitlines()) == 1


def test_a_timed_canary_pause_is_followed_to_healthy(kube: FakeKube) -> None:
    steps = [{"setWeight": 20}, {"pause": {"duration": "30s"}}, {"setWeight": 100}]
    image = parse(f"{o.IMAGE}:2.0")
    target = parse_target("workload", "Rollout/prod/api")
    kube.apply(o.rollout(f"{o.IMAGE}:2.0", phase="Paused", current="def456", paused=True,
                         steps=steps))
    seen = Lines()

    def controller() -> None:  # the pause ends by itself; the Rollout goes on to Healthy
        seen.wait_for("timed pause at step 1; it resumes by itself")
        kube.apply(o.rollout(f"{o.IMAGE}:2.0", phase="Progressing", current="def456", step=2,
                             steps=steps))
        o.running(kube, o.rollout(f"{o.IMAGE}:2.0", stable="def456", current="def456", step=3,
                                  steps=steps), f"{o.IMAGE}:2.0")

    for allow in (False, True):  # neither fails nor passes at a timed pause
        thread = in_thread(controller)
        result = run([target], settings(kube, image=image, allow_paused=allow), progress=seen)
        join_ok(thread)
        assert result.targets[0]["reason"] == "rollout Healthy at pod hash def456"
        kube.apply(o.rollout(f"{o.IMAGE}:2.0", phase="Paused", current="def456", paused=True,
                             steps=steps))
        seen.lines.clear()


def test_an_indefinite_pause_fails_or_passes_only_when_allowed(kube: FakeKube) -> None:
    kube.apply(o.rollout(f"{o.IMAGE}:2.0", phase="Paused", current="def456", paused=True))
    target = parse_target("workload", "Rollout/prod/api")
    with pytest.raises(VerifyFailed, match=r"paused indefinitely \(step 1 is a pause without"):
        run([target], settings(kube))
    assert "allowed" in run([target], settings(kube, allow_paused=True)).targets[0]["reason"]


def test_an_aborted_rollout_fails(kube: FakeKube) -> None:
    kube.apply(o.rollout(f"{o.IMAGE}:2.0", current="def456", aborted=True))
    with pytest.raises(VerifyFailed, match="aborted: RolloutAborted"):
        run([parse_target("workload", "Rollout/prod/api")], settings(kube, allow_paused=True))


def test_a_paused_deployment_says_so(kube: FakeKube) -> None:
    deploy = o.deployment(f"{o.IMAGE}:2.0", updated=1)
    deploy["spec"]["paused"] = True
    kube.apply(deploy)
    with pytest.raises(VerifyTimeout, match=r'deployment "api" is paused \(spec.paused\)'):
        run([DEPLOY], settings(kube, timeout=1.0))


def test_an_unreachable_cluster_says_so_quickly(kube: FakeKube, tmp_path: Path) -> None:
    import json
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    config = json.loads(Path(kube.kubeconfig()).read_text())
    config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{port}"
    path = tmp_path / "unreachable"
    path.write_text(json.dumps(config))
    with pytest.raises(PromoterError) as caught:
        run([APP], settings(kube, timeout=120, kubeconfig=str(path)))
    assert caught.value.exit_code == 1
    assert f"cannot reach the Kubernetes API at https://127.0.0.1:{port}" in caught.value.message
    assert "connection refused" in caught.value.message
    assert "MaxRetryError" not in caught.value.message


def test_sync_through_the_kubernetes_api_sets_the_operation(kube: FakeKube) -> None:
    kube.apply(o.application(o.OLD, sync="OutOfSync", phase=None))

    def controller() -> None:  # Argo CD's controller runs .operation, then clears it
        with kube.store.cond:
            kube.store.cond.wait_for(lambda: "operation" in kube.store.objects[
                ("applications", "argocd", "api")], 10)
        kube.apply(o.application(SHA))

    thread = in_thread(controller)
    assert run([APP], settings(kube, sync=True)).status == "verified"
    join_ok(thread)


@pytest.mark.parametrize(("pod_args", "want", "missing"), [
    ({"running": f"{o.IMAGE}:1.0"}, f"{o.IMAGE}:2.0", "ready Pods run another image"),
    ({"ready": False}, f"{o.IMAGE}:2.0", "no ready Pod of the new revision"),
    ({"image_id": f"{o.IMAGE}@sha256:{'c' * 64}"}, f"{o.IMAGE}:2.0@{o.DIGEST}",
     "ready Pods run another image"),  # the tag moved: another digest runs
])
def test_the_ready_pods_of_the_new_revision_must_run_the_image(
        kube: FakeKube, pod_args: dict[str, Any], want: str, missing: str) -> None:
    """Rolled out by kubectl's rules and the template names the image, but the
    Pods' containerStatuses (image, imageID) say otherwise: not verified."""
    o.running(kube, o.deployment(want), want, **pod_args)
    with pytest.raises(VerifyTimeout, match=missing):
        run([DEPLOY], settings(kube, timeout=1.5, image=parse(want)))


def test_pods_with_the_promoted_digest_verify(kube: FakeKube) -> None:
    want = f"{o.IMAGE}:2.0@{o.DIGEST}"
    o.running(kube, o.deployment(want), want)
    kube.apply(o.pod("api-old", {"app": "api", "pod-template-hash": "0ld"}, f"{o.IMAGE}:1.0"))
    result = run([DEPLOY], settings(kube, image=parse(want)))
    assert result.targets[0]["status"] == "ready"


def test_argocd_3_without_resource_health_names_the_failing_workload(kube: FakeKube) -> None:
    resources = [{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "prod",
                  "name": "api", "status": "Synced"}]
    kube.apply(o.deployment(f"{o.IMAGE}:2.0", updated=1, available=1, deadline=True))
    kube.apply(o.application(SHA, health="Degraded", resources=resources))
    with pytest.raises(VerifyFailed) as caught:
        run([APP], settings(kube))
    assert caught.value.result.targets[0]["resources"] == [
        'Deployment/prod/api: Degraded: deployment "api" exceeded its progress deadline']


@pytest.mark.parametrize("path", ["kubernetes watch", "argocd api stream"])
def test_deleted_mid_wait_says_deleted(kube: FakeKube, path: str) -> None:
    kube.apply(o.application(o.OLD))
    request = settings(kube)
    if path == "argocd api stream":
        request = replace(request, argocd_server=kube.url, argocd_ca=kube.ca_path,
                          argocd_token=ADMIN_TOKEN, kubeconfig="/nonexistent")

    def controller() -> None:
        kube.wait_watches(1)
        kube.delete("applications", "argocd", "api")

    thread = in_thread(controller)
    with pytest.raises(VerifyFailed, match="argocd-app argocd/api: deleted while waiting"):
        run([APP], request)
    join_ok(thread)
