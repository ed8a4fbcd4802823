"""Flux rules on objects as the v1/v2 CRDs define them (each fixture is checked
against the vendored schema: no invented fields)."""

from __future__ import annotations

from typing import Any

import pytest
import verify_objects as o

from promoter.verify.flux import check_flux
from promoter.verify.rules import Expect

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
ALONE = Expect(SHA)
BESIDE = Expect(SHA, appliers=(("flux-kustomization", "flux-system", "apps"),))  # proves it
CHART = f"1.2.3+{SHA[:12]}"


def test_helmrelease_v2_has_no_last_applied_revision_and_passes_from_history() -> None:
    release = o.helmrelease(CHART)
    assert "lastAppliedRevision" not in release["status"]
    check = check_flux(release, ALONE)
    assert (check.state, check.revision) == ("ready", SHA[:12]), check.reason
    assert check.reason == f"release v3 deployed, Ready at {SHA[:12]}"


@pytest.mark.parametrize(("change", "state", "text"), [
    ({"chart_version": f"1.2.3+{o.OLD[:12]}"}, "waiting", "chart version 1.2.3+111111111111"),
    ({"release": "pending-upgrade"}, "waiting", "release v3 is pending-upgrade"),
    ({"release": "failed", "ready": "False", "reason": "UpgradeFailed"}, "failed",
     "Ready=False UpgradeFailed"),
    ({"chart_version": None}, "waiting", "no Helm release yet"),
    ({"generation_lag": True}, "waiting", "observedGeneration 0 != generation 1"),
    ({"attempted_digest": "sha256:" + "e" * 64}, "waiting",
     "does not carry the values last attempted"),
    ({"ready": "Unknown", "reason": "Progressing"}, "waiting", "Ready=Unknown Progressing"),
    ({"stalled": True, "ready": "False", "reason": "InstallFailed"}, "failed",
     "Stalled: InstallFailed"),
    ({"deleting": True}, "failed", "being deleted"),
])
def test_helmrelease_rules(change: dict[str, Any], state: str, text: str) -> None:
    args: dict[str, Any] = {"chart_version": CHART, **change}
    release = o.helmrelease(args.pop("chart_version"), **args)
    release["metadata"]["generation"] = 1
    check = check_flux(release, ALONE)
    assert (check.state, text in check.reason) == (state, True), check.reason


def test_a_failure_of_an_older_chart_is_not_ours() -> None:
    release = o.helmrelease(CHART, ready="False", reason="UpgradeFailed",
                            attempted=f"1.2.3+{o.OLD[:12]}")
    release["metadata"]["generation"] = 1
    release["status"]["lastAttemptedGeneration"] = 0
    assert check_flux(release, ALONE).state == "waiting"


@pytest.mark.parametrize("shape", [
    {"source": "HelmRepository", "strategy": None},  # a chart from a Helm repository
    {"strategy": "ChartVersion"},  # a Git chart, version unchanged by commits
    {"chart_ref": "OCIRepository"},  # +1234567890ab is the artifact digest, not a commit
])
def test_a_chart_version_without_a_commit_needs_the_applier(shape: dict[str, Any]) -> None:
    version = "1.2.3+1234567890ab" if shape.get("chart_ref") else "1.2.3"
    release = o.helmrelease(version, **shape)
    alone = check_flux(release, ALONE)
    assert alone.state == "failed"
    assert "names no commit" in alone.reason and "Flux Kustomization" in alone.reason
    beside = check_flux(release, BESIDE)
    assert beside.state == "ready", beside.reason
    assert beside.revision is None


def test_values_only_change_waits_for_the_new_generation_and_values() -> None:
    """A commit that changes only spec.values: the chart version stays, the
    generation and config digest move; pass only once the release carries them."""
    release = o.helmrelease("1.2.3", strategy="ChartVersion",
                            attempted_digest="sha256:" + "e" * 64)
    release["metadata"]["generation"] = 2
    release["status"].update(observedGeneration=2, lastAttemptedGeneration=2)
    assert "values last attempted" in check_flux(release, BESIDE).reason
    release["status"]["history"][0]["configDigest"] = "sha256:" + "e" * 64
    assert check_flux(release, BESIDE).state == "ready"
    release["status"]["lastAttemptedGeneration"] = 1
    assert "lastAttemptedGeneration 1 != generation 2" in check_flux(release, BESIDE).reason


def test_a_kustomization_being_deleted_never_passes() -> None:
    ks = o.flux("Kustomization", f"main@sha1:{SHA}")
    ks["metadata"].update(deletionTimestamp=o.T2, finalizers=["finalizers.fluxcd.io"])
    check = check_flux(o.checked(ks), ALONE)
    assert check.state == "failed"
    assert check.reason == f"being deleted (deletionTimestamp {o.T2}); it will not stay live"


@pytest.mark.parametrize(("origin", "state", "text"), [
    (f"main@sha1:{SHA}", "ready", f"Ready at {SHA[:12]}"),
    (f"sha1:{SHA}", "ready", f"Ready at {SHA[:12]}"),
    (f"main@sha1:{o.OLD}", "waiting", "lastAppliedOriginRevision"),
    (None, "waiting", "names no commit"),
    ("v1.2.3", "waiting", "names no commit"),
])
def test_an_oci_kustomization_is_judged_by_its_origin_revision(
        origin: str | None, state: str, text: str) -> None:
    check = check_flux(o.oci_kustomization(origin), ALONE)
    assert (check.state, text in check.reason) == (state, True), check.reason


def test_the_origin_revision_does_not_stand_in_for_a_git_revision() -> None:
    """A GitRepository's own lastAppliedRevision is the commit: an origin
    revision beside it (stale from an earlier OCI source) is not read."""
    obj = o.flux("Kustomization", f"main@sha1:{o.OLD}")
    obj["metadata"]["generation"] = 1
    obj["status"]["lastAppliedOriginRevision"] = f"main@sha1:{SHA}"
    assert check_flux(o.checked(obj), ALONE).state == "waiting"
