"""Flux Kustomization and HelmRelease readiness (pure functions).

Kustomization (``kustomize.toolkit.fluxcd.io/v1``): live at the merge commit
when ``status.lastAppliedRevision`` names the commit (``<branch>@sha1:<sha>``
or the older ``<branch>/<sha>``) or a descendant, ``observedGeneration`` ==
``metadata.generation`` and Ready is True. From an OCIRepository that revision
is the artifact's digest (``<tag>@sha256:<hex>``), and the commit is the
artifact's origin revision, ``status.lastAppliedOriginRevision`` (what ``flux
push artifact --revision`` recorded); an artifact without one names no commit
and is waited for.

HelmRelease (``helm.toolkit.fluxcd.io/v2``, which has no lastAppliedRevision):
the release Flux made is ``status.history[0]``. Done when its ``status`` is
``deployed``; ``observedGeneration`` and ``lastAttemptedGeneration`` equal
``metadata.generation`` (the spec, values included, was acted on);
``history[0].configDigest`` equals ``lastAttemptedConfigDigest`` (the release
carries the values last attempted); and Ready is True. The commit: a chart
built from a GitRepository with ``reconcileStrategy: Revision`` has the version
``X.Y.Z+<sha12>``, whose suffix must be the merge commit or a descendant. Any
other chart (HelmRepository, OCIRepository, whose ``+<12 hex>`` suffix is a
digest, ``chartRef``, or the default ChartVersion strategy) names no commit:
the HelmRelease's spec then comes from the commit through whatever applied it,
so it passes only beside a Flux Kustomization or Argo CD target that proves the
commit (``Expect.appliers``) -- the one it names as its applier, when it names
one (``applied_by``) -- and fails at once otherwise.

Both: Stalled=True, or Ready=False with a terminal reason for this revision or
generation, fail; a ``deletionTimestamp`` fails (being deleted is never live).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promoter.verify.rules import (
    COMMIT_SHA,
    Check,
    Expect,
    Obj,
    condition,
    deleting,
    failed,
    mismatch,
    ready,
    revision_matches,
    short_sha,
    waiting,
)

FLUX_NAME = "kustomize.toolkit.fluxcd.io/name"  # labels kustomize-controller sets
FLUX_NAMESPACE = "kustomize.toolkit.fluxcd.io/namespace"
ARGOCD_TRACKING = "argocd.argoproj.io/tracking-id"  # Argo CD's annotation tracking

# Ready=False reasons that will not heal without a new commit.
TERMINAL_REASONS = frozenset({
    "BuildFailed", "HealthCheckFailed", "ReconciliationFailed", "PruneFailed",
    "ValidationFailed", "InstallFailed", "UpgradeFailed", "TestFailed",
    "RollbackSucceeded", "UninstallSucceeded", "RemediationFailed", "ArtifactFailed",
})


def applied_sha(revision: str | None) -> str | None:
    """The commit in a Flux revision string, or None."""
    if not revision:
        return None
    if "@" in revision:  # <branch>@sha1:<sha>, sha256:<digest> of OCI sources is not a commit
        algo, _, value = revision.rpartition("@")[2].partition(":")
        return value if algo == "sha1" and COMMIT_SHA.fullmatch(value) else None
    if revision.startswith("sha1:"):
        value = revision[5:]
        return value if COMMIT_SHA.fullmatch(value) else None
    if "+" in revision:  # chart version with build metadata from a Git source
        tail = revision.rpartition("+")[2]
        return tail if COMMIT_SHA.fullmatch(tail) else None
    tail = revision.rpartition("/")[2]
    return tail if COMMIT_SHA.fullmatch(tail) else None


def _common(obj: Obj, ours: bool, sha: str | None) -> Check | None:
    """Deletion, Stalled and terminal Ready=False: the verdicts shared by both kinds."""
    gone = deleting(obj)
    if gone is not None:
        return gone
    stalled = condition(obj, "Stalled")
    if stalled is not None and stalled.get("status") == "True":
        return failed(f"Stalled: {stalled.get('reason', '')}: {stalled.get('message', '')}", sha)
    ready_cond = condition(obj, "Ready") or {}
    reason = str(ready_cond.get("reason", ""))
    if ready_cond.get("status") == "False" and reason in TERMINAL_REASONS and ours:
        return failed(f"Ready=False {reason}: {ready_cond.get('message', '')}", sha)
    generation = (obj.get("metadata") or {}).get("generation")
    observed = (obj.get("status") or {}).get("observedGeneration")
    if generation is not None and observed != generation:
        return waiting(f"observedGeneration {observed} != generation {generation}", sha)
    return None


def _ready_condition(obj: Obj, sha: str | None) -> Check | None:
    ready_cond = condition(obj, "Ready") or {}
    if ready_cond.get("status") == "True":
        return None
    reason = str(ready_cond.get("reason", ""))
    text = f"{reason}: {ready_cond.get('message', '')}" if reason else "no Ready condition"
    return waiting(f"Ready={ready_cond.get('status', 'Unknown')} {text}".strip(), sha)


def check_kustomization(obj: Obj, expect: Expect) -> Check:
    status = obj.get("status") or {}
    applied = str(status.get("lastAppliedRevision") or "")
    field, sha = "lastAppliedRevision", applied_sha(applied)
    artifact = _oci_digest(applied)
    if artifact:  # an OCIRepository's artifact: its origin revision names the commit
        field, sha = "lastAppliedOriginRevision", applied_sha(
            status.get("lastAppliedOriginRevision"))
    attempted = applied_sha(status.get("lastAttemptedRevision"))
    early = _common(obj, attempted is None or revision_matches(expect, attempted), sha)
    if early is not None:
        return early
    if artifact and sha is None:
        return waiting(f"OCI artifact {artifact} names no commit (no commit SHA in "
                       "lastAppliedOriginRevision); waiting for an artifact pushed with "
                       f"`flux push artifact --revision <branch>@sha1:<sha>` of "
                       f"{short_sha(expect.revision)} or later", None)
    if not revision_matches(expect, sha):
        return waiting(mismatch(expect, field, sha), sha)
    return _ready_condition(obj, sha) or ready(f"Ready at {short_sha(sha or '')}", sha)


def _oci_digest(revision: str) -> str | None:
    """The ``sha256:…`` of an OCI artifact's Flux revision (``<tag>@sha256:<hex>``
    or a bare digest), shortened for messages, or None for a Git revision."""
    tag, at, digest = revision.rpartition("@")
    algo, _, value = digest.partition(":")
    if algo not in ("sha256", "sha384", "sha512") or not value:
        return None
    return f"{tag}{at}{algo}:{value[:12]}"


def chart_commit(release: Obj, version: str | None) -> str | None:
    """The commit in a HelmRelease's chart version, when its chart names one: a
    GitRepository chart with ``reconcileStrategy: Revision`` (``X.Y.Z+<sha12>``)."""
    chart = (((release.get("spec") or {}).get("chart") or {}).get("spec") or {})
    if (chart.get("sourceRef") or {}).get("kind") != "GitRepository":
        return None
    if chart.get("reconcileStrategy") != "Revision" or not version or "+" not in version:
        return None
    tail = version.rpartition("+")[2]
    return tail if COMMIT_SHA.fullmatch(tail) else None


def _release_state(status: Mapping[str, Any], generation: Any) -> str | None:
    """What the last release still lacks, or None when it is the one attempted."""
    history = status.get("history") or []
    if not history:
        return "no Helm release yet"
    latest = history[0]
    if latest.get("status") != "deployed":
        return f"release v{latest.get('version')} is {latest.get('status') or 'unknown'}"
    tried = status.get("lastAttemptedGeneration")
    if generation is not None and tried is not None and tried != generation:
        return f"lastAttemptedGeneration {tried} != generation {generation}"
    digest, wanted = latest.get("configDigest"), status.get("lastAttemptedConfigDigest")
    if digest and wanted and digest != wanted:
        return "the deployed release does not carry the values last attempted"
    return None


def check_helmrelease(obj: Obj, expect: Expect) -> Check:
    status = obj.get("status") or {}
    history = status.get("history") or [{}]
    version = history[0].get("chartVersion")
    sha = chart_commit(obj, version)
    generation = (obj.get("metadata") or {}).get("generation")
    tried_sha = chart_commit(obj, status.get("lastAttemptedRevision"))
    tried_generation = status.get("lastAttemptedGeneration")
    ours = (revision_matches(expect, tried_sha) if tried_sha
            else tried_generation is None or tried_generation == generation)
    early = _common(obj, ours, sha)
    if early is not None:
        return early
    missing = _release_state(status, generation)
    if missing is not None:
        return waiting(missing, sha)
    if sha is not None and not revision_matches(expect, sha):
        return waiting(mismatch(expect, f"chart version {version} commit", sha), sha)
    if sha is None:
        unproven = _unproven(obj, expect, version)
        if unproven is not None:
            return unproven
    not_ready = _ready_condition(obj, sha)
    if not_ready is not None:
        return not_ready
    where = f"at {short_sha(sha)}" if sha else f"(chart {version}; commit proven by its applier)"
    return ready(f"release v{history[0].get('version')} deployed, Ready {where}", sha)


def applied_by(obj: Obj) -> list[tuple[str, str, str]]:
    """The targets an object names as what applied it, as (kind, namespace, name):
    kustomize-controller's ``kustomize.toolkit.fluxcd.io/name``/``namespace``
    labels, Argo CD's ``argocd.argoproj.io/tracking-id`` annotation
    (``APP:GROUP/KIND:NS/NAME``, APP ``NS_NAME`` outside Argo CD's namespace,
    else "" for the namespace: unknown)."""
    meta = obj.get("metadata") or {}
    labels, notes = meta.get("labels") or {}, meta.get("annotations") or {}
    found = []
    if labels.get(FLUX_NAME):
        found.append(("flux-kustomization", str(labels.get(FLUX_NAMESPACE) or ""),
                      str(labels[FLUX_NAME])))
    app = str(notes.get(ARGOCD_TRACKING) or "").partition(":")[0]
    if app:
        namespace, _, name = app.rpartition("_")
        found.append(("argocd-app", namespace, name))
    return found


def _unproven(obj: Obj, expect: Expect, version: Any) -> Check | None:
    """Failed when nothing here proves the commit a HelmRelease whose chart names
    none was applied from: no Kustomization or Argo CD target, or not the one it
    names as its applier (one it names none of may be any of them)."""
    if not expect.appliers:
        return failed(f"chart {version} names no commit (only a GitRepository chart with "
                      "reconcileStrategy: Revision does), so this HelmRelease alone cannot "
                      f"prove {short_sha(expect.revision)}; also verify the Flux Kustomization "
                      "(or Argo CD app) that applies it")
    named = applied_by(obj)
    if not named or any(kind == k and name == n and namespace in ("", ns)
                        for kind, namespace, name in named for k, ns, n in expect.appliers):
        return None
    kind, namespace, name = named[0]
    shown = f"{namespace}/{name}" if namespace else name
    return failed(f"chart {version} names no commit, and this HelmRelease was applied by "
                  f"{kind} {shown}, which is not a target here: add --{kind} {shown}, so "
                  "that the run proves the commit")


def check_flux(obj: Obj, expect: Expect) -> Check:
    """The verdict on one Kustomization or HelmRelease object."""
    if obj.get("kind") == "HelmRelease":
        return check_helmrelease(obj, expect)
    return check_kustomization(obj, expect)
