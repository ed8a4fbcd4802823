"""Argo CD's source hydrator (``spec.sourceHydrator``, Argo CD 3.x): which
hydrated commit stands for the dry commit promoter pushed (pure functions).

promoter pushes to the dry source (``drySource``: repoURL, targetRevision,
path). Argo CD's hydrator renders it and commits the result to
``syncSource.targetBranch``, or to ``hydrateTo.targetBranch``, a staging branch
from which something else (often a pull request) moves it to the sync branch;
the app syncs the sync branch, so ``status.sync.revision`` is a hydrated commit,
never the dry one.

``status.sourceHydrator`` says what was hydrated. ``currentOperation`` is the
latest hydration: phase Hydrating (no SHAs yet, or only the dry one), Failed
(its ``message``, and ``drySHA`` when the dry revision was resolved) or
Hydrated (``drySHA``, the dry commit rendered; ``hydratedSHA``, the commit made
of it). ``lastSuccessfulOperation`` keeps the ``drySHA`` and ``hydratedSHA`` of
the last Hydrated one through later runs and failures (Argo CD writes both
with the same values when a hydration succeeds).

The hydration that produced the synced state is ``currentOperation`` when
Hydrated, else ``lastSuccessfulOperation``. The app is live at the dry commit
when that hydration's ``drySHA`` is the commit or a descendant, its
``hydratedSHA`` is ``status.sync.revision`` (with ``hydrateTo`` and --repo, or
an ancestor of it: the staged commit was merged into the sync branch), and the
Application rules of promoter.verify.argocd hold for that hydrated commit.
Otherwise a Failed ``currentOperation`` of the commit or a descendant fails,
with its message; anything else waits, saying what the hydrator shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from promoter.verify.rules import (
    Check,
    Expect,
    Obj,
    failed,
    mismatch,
    revision_matches,
    short_sha,
    waiting,
)


@dataclass(frozen=True)
class Hydration:
    """A hydration of the dry commit (or a descendant): the synced revision must
    show ``expect`` (the hydrated commit) for the Application rules to apply."""

    dry: str  # drySHA: the dry commit it rendered
    hydrated: str  # hydratedSHA: the commit it made
    staging: str | None  # hydrateTo.targetBranch, where Argo CD pushed it
    sync_branch: str  # syncSource.targetBranch, what the app syncs
    expect: Expect

    def unmatched(self, seen: str | None) -> str:
        """The waiting reason while the synced revision is not the hydrated commit."""
        of = f"{short_sha(self.hydrated)}, the hydrated commit of dry commit {short_sha(self.dry)}"
        text = (f"synced revision {short_sha(seen)} is not {of}" if seen else
                f"no synced revision yet, waiting for {of}")
        if self.staging is None:
            return text
        exact = (" (without --repo only that exact commit counts)"
                 if self.expect.is_ancestor is None else " (or a merge of it)")
        return (f"{text}: Argo CD pushed it to {self.staging} (hydrateTo); it syncs once it "
                f"is moved to {self.sync_branch}{exact}")

    def explain(self, check: Check) -> Check:
        """``check`` (the Application rules' verdict), naming the dry commit."""
        tag = f"dry commit {short_sha(self.dry)}"
        return check if tag in check.reason else replace(
            check, reason=f"{check.reason} (hydrated from {tag})")


def spec_of(app: Obj) -> Mapping[str, Any] | None:
    """``spec.sourceHydrator``, None for an app without the hydrator."""
    found = (app.get("spec") or {}).get("sourceHydrator")
    return found if isinstance(found, Mapping) else None


def hydration(app: Obj, expect: Expect, seen: str | None) -> Hydration | Check:
    """The hydration of the dry commit that produced the synced state, or the
    verdict without one (``seen``: the synced revision, for the report)."""
    status = (app.get("status") or {}).get("sourceHydrator") or {}
    current = status.get("currentOperation") or {}
    done = current if current.get("phase") == "Hydrated" else (
        status.get("lastSuccessfulOperation") or {})
    if not current and not done:
        return waiting("no hydration recorded yet (status.sourceHydrator is empty): waiting "
                       f"for Argo CD's source hydrator to hydrate {short_sha(expect.revision)}",
                       seen)
    dry = str(done.get("drySHA") or "")
    if not revision_matches(expect, dry):
        return _not_ours(current, _last(expect, dry), expect, seen)
    if not done.get("hydratedSHA"):
        return waiting(f"hydration of dry commit {short_sha(dry)} names no hydrated commit "
                       "(hydratedSHA is empty)", seen)
    return _ours(app, expect, dry, str(done["hydratedSHA"]))


def _last(expect: Expect, dry: str) -> str:
    if not dry:
        return f"no dry commit hydrated yet, waiting for {short_sha(expect.revision)}"
    return mismatch(expect, "last hydrated dry commit", dry)


def _not_ours(current: Mapping[str, Any], last: str, expect: Expect, seen: str | None) -> Check:
    """Nothing of the dry commit is synced: what the latest hydration is doing."""
    phase, dry = current.get("phase"), str(current.get("drySHA") or "")
    if phase == "Failed":
        message = str(current.get("message") or "").strip()
        if revision_matches(expect, dry):
            return failed(f"source hydrator Failed for dry commit {short_sha(dry)}: {message}",
                          seen)
        of = f" for dry commit {short_sha(dry)}" if dry else ""
        return waiting(f"source hydrator Failed{of}: {message}; {last}", seen)
    if phase == "Hydrating":
        of = f" dry commit {short_sha(dry)}" if dry else ""
        since = f" (since {current['startedAt']})" if current.get("startedAt") else ""
        return waiting(f"source hydrator Hydrating{of}{since}; {last}", seen)
    return waiting(last, seen)


def _ours(app: Obj, expect: Expect, dry: str, hydrated: str) -> Hydration:
    spec = spec_of(app) or {}
    staging = (spec.get("hydrateTo") or {}).get("targetBranch")
    branch = (spec.get("syncSource") or {}).get("targetBranch") or "the sync branch"
    # straight to the sync branch, a later commit there is a later hydration: only
    # a staged commit may reach the sync branch as a merge (a descendant)
    target = replace(expect, revision=hydrated, repo_url=None,
                     is_ancestor=expect.is_ancestor if staging else None)
    return Hydration(dry, hydrated, staging, str(branch), target)
