"""The pure readiness rules: kubectl's rollout status, Flux revisions, Argo CD,
image matching and target parsing."""

from __future__ import annotations

from typing import Any

import pytest
import verify_objects as o

from promoter.errors import InputError
from promoter.images import parse
from promoter.remote import normalize_repo_url
from promoter.verify import VerifyTarget, parse_target
from promoter.verify.argocd import check_application
from promoter.verify.flux import applied_sha, check_flux
from promoter.verify.rules import Expect, image_matches
from promoter.verify.workloads import (
    check_workload,
    daemonset_status,
    deployment_status,
    statefulset_status,
)

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
EXPECT = Expect(SHA)


def workload(kind: str, spec: dict[str, Any], status: dict[str, Any],
             generation: int = 1) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": "api", "generation": generation},
            "spec": spec, "status": status}


@pytest.mark.parametrize(("spec", "status", "generation", "state", "text"), [
    ({"replicas": 3}, {"observedGeneration": 1}, 2, "waiting", "spec update to be observed"),
    ({"replicas": 3}, {"observedGeneration": 2, "updatedReplicas": 1}, 2, "waiting",
     "1 out of 3 new replicas have been updated"),
    ({"replicas": 3}, {"observedGeneration": 2, "updatedReplicas": 3, "replicas": 4}, 2,
     "waiting", "1 old replicas are pending termination"),
    ({"replicas": 3}, {"observedGeneration": 2, "updatedReplicas": 3, "replicas": 3,
                       "availableReplicas": 2}, 2, "waiting",
     "2 of 3 updated replicas are available"),
    ({"replicas": 3}, {"observedGeneration": 2, "updatedReplicas": 3, "replicas": 3,
                       "availableReplicas": 3}, 2, "ready", "successfully rolled out"),
    ({}, {"observedGeneration": 1, "updatedReplicas": 1, "replicas": 1,
          "availableReplicas": 1}, 1, "ready", "successfully rolled out"),
    ({"replicas": 3}, {"observedGeneration": 2, "conditions": [
        {"type": "Progressing", "reason": "ProgressDeadlineExceeded"}]}, 2, "failed",
     'deployment "api" exceeded its progress deadline'),
])
def test_deployment_rollout_status(spec: dict[str, Any], status: dict[str, Any],
                                   generation: int, state: str, text: str) -> None:
    check = deployment_status(workload("Deployment", spec, status, generation))
    assert (check.state, text in check.reason) == (state, True), check.reason


@pytest.mark.parametrize(("spec", "status", "state", "text"), [
    ({"replicas": 3}, {"observedGeneration": 0}, "waiting", "spec update to be observed"),
    ({"replicas": 3}, {"observedGeneration": 1, "readyReplicas": 1}, "waiting",
     "Waiting for 2 pods to be ready"),
    ({"replicas": 3, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {
        "partition": 1}}}, {"observedGeneration": 1, "readyReplicas": 3, "updatedReplicas": 1},
     "waiting", "1 out of 2 new pods have been updated"),
    ({"replicas": 3, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {
        "partition": 1}}}, {"observedGeneration": 1, "readyReplicas": 3, "updatedReplicas": 2},
     "ready", "partitioned roll out complete: 2 new pods"),
    ({"replicas": 3}, {"observedGeneration": 1, "readyReplicas": 3, "updateRevision": "b",
                       "currentRevision": "a", "updatedReplicas": 1}, "waiting",
     "rolling update to complete 1 pods at revision b"),
    ({"replicas": 3}, {"observedGeneration": 1, "readyReplicas": 3, "updateRevision": "b",
                       "currentRevision": "b", "currentReplicas": 3}, "ready",
     "rolling update complete 3 pods at revision b"),
    ({"updateStrategy": {"type": "OnDelete"}}, {}, "failed", "only available for RollingUpdate"),
])
def test_statefulset_rollout_status(spec: dict[str, Any], status: dict[str, Any], state: str,
                                    text: str) -> None:
    check = statefulset_status(workload("StatefulSet", spec, status))
    assert (check.state, text in check.reason) == (state, True), check.reason


@pytest.mark.parametrize(("status", "state", "text"), [
    ({"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 2},
     "waiting", "2 out of 3 new pods have been updated"),
    ({"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3,
      "numberAvailable": 1}, "waiting", "1 of 3 updated pods are available"),
    ({"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3,
      "numberAvailable": 3}, "ready", "successfully rolled out"),
])
def test_daemonset_rollout_status(status: dict[str, Any], state: str, text: str) -> None:
    check = daemonset_status(workload("DaemonSet", {}, status))
    assert (check.state, text in check.reason) == (state, True), check.reason


@pytest.mark.parametrize(("revision", "sha"), [
    (f"main@sha1:{SHA}", SHA), (f"main/{SHA}", SHA), (f"release/v1/{SHA}", SHA),
    (f"sha1:{SHA}", SHA), ("1.2.3+5e1f2a3b4c5d", "5e1f2a3b4c5d"), ("1.2.3", None),
    ("latest@sha256:" + "a" * 64, None), ("", None), (None, None),
])
def test_flux_revision_formats(revision: str | None, sha: str | None) -> None:
    assert applied_sha(revision) == sha


def test_flux_waits_for_the_generation_and_ready() -> None:
    lagging = o.flux("Kustomization", f"main@sha1:{SHA}", generation_lag=True)
    lagging["metadata"]["generation"] = 1
    assert check_flux(lagging, EXPECT).reason == "observedGeneration 0 != generation 1"
    progressing = o.flux("HelmRelease", f"main/{SHA}", ready="Unknown", reason="Progressing")
    assert check_flux(progressing, EXPECT).state == "waiting"
    failed = o.flux("HelmRelease", f"main/{o.OLD}", ready="False", reason="UpgradeFailed",
                    attempted=f"main/{SHA}")
    assert check_flux(failed, EXPECT).state == "failed"
    old_failure = o.flux("HelmRelease", f"main/{o.OLD}", ready="False", reason="UpgradeFailed",
                         attempted=f"main/{'2' * 40}")
    assert check_flux(old_failure, EXPECT).state == "waiting"


@pytest.mark.parametrize(("want", "running", "matches"), [
    ("ghcr.io/acme/api:2.0", "ghcr.io/acme/api:2.0", True),
    ("ghcr.io/acme/api:2.0", "ghcr.io/acme/api:1.0", False),
    ("ghcr.io/acme/api:2.0", "ghcr.io/acme/api:2.0@sha256:" + "b" * 64, True),
    ("ghcr.io/acme/api@sha256:" + "b" * 64, "ghcr.io/acme/api:2.0@sha256:" + "b" * 64, True),
    ("ghcr.io/acme/api@sha256:" + "b" * 64, "ghcr.io/acme/api:2.0", False),
    ("nginx:1.27", "docker.io/library/nginx:1.27", True),
    ("ghcr.io/acme/api:2.0", "ghcr.io/other/api:2.0", False),
])
def test_image_matches(want: str, running: str, matches: bool) -> None:
    assert image_matches(parse(want), running) is matches


def test_every_container_of_the_repository_must_run_the_image() -> None:
    deploy = o.deployment("ghcr.io/acme/api:2.0")
    deploy["metadata"]["generation"] = 1
    deploy["spec"]["template"]["spec"]["initContainers"] = [
        {"name": "migrate", "image": "ghcr.io/acme/api:1.0"}]
    check = check_workload(deploy, Expect(SHA, parse("ghcr.io/acme/api:2.0")))
    assert check.state == "waiting"
    assert "migrate=ghcr.io/acme/api:1.0" in check.reason
    other = check_workload(deploy, Expect(SHA, parse("ghcr.io/acme/web:2.0")))
    assert other.reason == "no container runs ghcr.io/acme/web"


def test_argocd_rules() -> None:
    assert check_application(o.application(SHA), EXPECT).state == "ready"
    assert check_application(o.application(SHA[:12]), EXPECT).state == "ready"
    stale_op = o.application(SHA, op_revision=o.OLD, phase="Failed")
    assert check_application(stale_op, EXPECT).state == "ready"
    progressing = o.application(SHA, health="Progressing")
    assert check_application(progressing, EXPECT).reason == "health Progressing"
    out_of_sync = o.application(SHA, sync="OutOfSync")
    assert check_application(out_of_sync, EXPECT).state == "waiting"
    degraded_old = o.application(o.OLD, health="Degraded")
    assert check_application(degraded_old, EXPECT).state == "waiting"
    descendant = Expect(SHA, is_ancestor=lambda a, d: (a, d) == (SHA, o.OLD))
    assert check_application(o.application(o.OLD), descendant).state == "ready"


CONFIG = "https://github.com/acme/config"
CHART = "https://github.com/acme/charts.git"
BY_REPO = Expect(SHA, repo_url="git@GitHub.com:acme/config.git")


@pytest.mark.parametrize("url", [CONFIG, "https://GITHUB.com/acme/config.git/",
                                 "git@github.com:acme/config.git", "http://github.com/acme/config",
                                 "ssh://git@github.com:22/acme/config.git",
                                 "https://bot:secret@github.com/acme/config"])
def test_repo_urls_are_normalised(url: str) -> None:
    assert normalize_repo_url(url) == "github.com/acme/config"
    assert normalize_repo_url(CHART) == "github.com/acme/charts"


def test_multi_source_counts_the_config_repository_source_only() -> None:
    urls = [CHART, CONFIG]
    chart_unrelated = o.application(revisions=["9f" * 20, SHA], repo_urls=urls)
    assert check_application(chart_unrelated, BY_REPO).state == "ready"
    config_stale = o.application(revisions=[SHA, o.OLD], repo_urls=urls)
    stale = check_application(config_stale, BY_REPO)
    assert (stale.state, stale.revision) == ("waiting", o.OLD)
    assert stale.reason.startswith(f"synced revision {o.OLD[:12]} is not {SHA[:12]}")
    failed_op = o.application(revisions=[SHA, o.OLD], repo_urls=urls, phase="Failed")
    assert check_application(failed_op, BY_REPO).state == "waiting"  # not our source's op
    unknown = check_application(config_stale, EXPECT)  # no --repo: any source counts, said so
    assert unknown.state == "ready" and "config repository unknown (no --repo)" in unknown.reason


def test_multi_source_aligns_with_the_sources_last_compared() -> None:
    app = o.application(revisions=[o.OLD, SHA], repo_urls=[CHART, CONFIG])
    app["status"]["sync"]["comparedTo"] = {"sources": [{"repoURL": CONFIG}, {"repoURL": CHART}]}
    assert check_application(app, BY_REPO).revision == o.OLD


def test_no_source_of_the_config_repository_waits_and_says_why() -> None:
    check = check_application(o.application(revisions=[SHA], repo_urls=[CHART]), BY_REPO)
    assert check.state == "waiting"
    assert "no source has repoURL github.com/acme/config (sources: github.com/acme/charts)" \
        in check.reason


def test_single_source_of_another_repository_is_noted() -> None:
    other = check_application(o.application(SHA), Expect(SHA, repo_url=CHART))
    assert other.state == "ready"
    assert other.reason.endswith("(spec.source.repoURL git.example/config is not the config"
                                 " repository github.com/acme/charts)")
    same = Expect(SHA, repo_url="git@git.example:config.git")
    assert check_application(o.application(SHA), same).reason == f"Synced and Healthy at {SHA[:12]}"


@pytest.mark.parametrize(("kind", "text", "target"), [
    ("argocd-app", "api", VerifyTarget("argocd-app", "argocd", "api")),
    ("argocd-app", "apps/api", VerifyTarget("argocd-app", "apps", "api")),
    ("flux-kustomization", "flux-system/api",
     VerifyTarget("flux-kustomization", "flux-system", "api")),
    ("workload", "Deployment/prod/api", VerifyTarget("workload", "prod", "api", "Deployment")),
    ("workload", "sts/prod/db", VerifyTarget("workload", "prod", "db", "StatefulSet")),
])
def test_parse_target(kind: str, text: str, target: VerifyTarget) -> None:
    assert parse_target(kind, text) == target


@pytest.mark.parametrize(("kind", "text"), [
    ("workload", "prod/api"), ("workload", "Job/prod/api"), ("argocd-app", "a/b/c"),
    ("argocd-app", "Bad_Name"), ("helm", "api"),
])
def test_parse_target_rejects(kind: str, text: str) -> None:
    with pytest.raises(InputError):
        parse_target(kind, text)


def _unknown(ancestor: str, descendant: str) -> bool:
    raise LookupError(f"{ancestor} is not in the clone")


def _broken(ancestor: str, descendant: str) -> bool:
    raise RuntimeError("a bug in the ancestry function")


def test_an_unknown_commit_is_no_match_but_other_errors_surface() -> None:
    from promoter.verify.rules import revision_matches

    assert revision_matches(Expect(SHA, is_ancestor=_unknown), o.OLD) is False
    with pytest.raises(RuntimeError, match="a bug"):
        revision_matches(Expect(SHA, is_ancestor=_broken), o.OLD)
