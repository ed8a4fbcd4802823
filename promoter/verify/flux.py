"""Flux Kustomization and HelmRelease readiness (pure functions).

Live at the merge commit when ``status.lastAppliedRevision`` names the commit
(``<branch>@sha1:<sha>``, the older ``<branch>/<sha>``, or a chart version
``X.Y.Z+<sha>`` built from a Git source) or a descendant,
``status.observedGeneration`` == ``metadata.generation`` and Ready is True.
Stalled=True, or Ready=False with a terminal reason for this revision, fail.
"""

from __future__ import annotations

import re

from promoter.verify.rules import (
    Check,
    Expect,
    Obj,
    condition,
    failed,
    mismatch,
    ready,
    revision_matches,
    short,
    waiting,
)

# Ready=False reasons that will not heal without a new commit.
TERMINAL_REASONS = frozenset({
    "BuildFailed", "HealthCheckFailed", "ReconciliationFailed", "PruneFailed",
    "ValidationFailed", "InstallFailed", "UpgradeFailed", "TestFailed",
    "RollbackSucceeded", "UninstallSucceeded", "RemediationFailed", "ArtifactFailed",
})
_SHA = re.compile(r"[0-9a-f]{7,64}")


def applied_sha(revision: str | None) -> str | None:
    """The commit in a Flux revision string, or None."""
    if not revision:
        return None
    if "@" in revision:  # <branch>@sha1:<sha>, sha256:<digest> of OCI sources is not a commit
        algo, _, value = revision.rpartition("@")[2].partition(":")
        return value if algo == "sha1" and _SHA.fullmatch(value) else None
    if revision.startswith("sha1:"):
        value = revision[5:]
        return value if _SHA.fullmatch(value) else None
    if "+" in revision:  # chart version with build metadata from a Git source
        tail = revision.rpartition("+")[2]
        return tail if _SHA.fullmatch(tail) else None
    tail = revision.rpartition("/")[2]
    return tail if _SHA.fullmatch(tail) else None


def check_flux(obj: Obj, expect: Expect) -> Check:
    """The verdict on one Kustomization or HelmRelease object."""
    status = obj.get("status") or {}
    sha = applied_sha(status.get("lastAppliedRevision"))
    stalled = condition(obj, "Stalled")
    if stalled is not None and stalled.get("status") == "True":
        return failed(f"Stalled: {stalled.get('reason', '')}: {stalled.get('message', '')}", sha)
    ready_cond = condition(obj, "Ready") or {}
    attempted = applied_sha(status.get("lastAttemptedRevision"))
    ours = attempted is None or revision_matches(expect, attempted)
    reason = str(ready_cond.get("reason", ""))
    if ready_cond.get("status") == "False" and reason in TERMINAL_REASONS and ours:
        return failed(f"Ready=False {reason}: {ready_cond.get('message', '')}", sha)
    generation = (obj.get("metadata") or {}).get("generation")
    observed = status.get("observedGeneration")
    if generation is not None and observed != generation:
        return waiting(f"observedGeneration {observed} != generation {generation}", sha)
    if not revision_matches(expect, sha):
        return waiting(mismatch(expect, "lastAppliedRevision", sha), sha)
    if ready_cond.get("status") != "True":
        text = f"{reason}: {ready_cond.get('message', '')}" if reason else "no Ready condition"
        return waiting(f"Ready={ready_cond.get('status', 'Unknown')} {text}".strip(), sha)
    return ready(f"Ready at {short(sha or '')}", sha)
