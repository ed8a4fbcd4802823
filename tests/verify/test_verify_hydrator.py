"""The Argo CD rule for Applications with the source hydrator (spec.sourceHydrator):
promoter verifies a DRY commit, Argo CD syncs the HYDRATED commit its hydrator
made of it, and status.sourceHydrator says which dry commit each hydration was of."""

from __future__ import annotations

import pytest
import verify_objects as o
from hydrator_objects import hydrate_operation as op
from hydrator_objects import hydrator_app

from promoter.verify.argocd import check_application
from promoter.verify.rules import Check, Expect

DRY = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"  # the commit promoter pushed (dry source)
NEXT = "6f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c"  # a later dry commit, a child of DRY
PREV = "4d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a"  # the dry commit before DRY
HYD = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"  # the hydrator's commit of DRY
HYD_NEXT = "b2c3d4e5f60718293a4b5c6d7e8f9012345678a1"  # ... of NEXT
HYD_PREV = "c3d4e5f60718293a4b5c6d7e8f9012345678a1b2"  # ... of PREV
MERGED = "e5f60718293a4b5c6d7e8f9012345678a1b2c3d4"  # a merge of HYD into the sync branch
PARENTS = {NEXT: {DRY, PREV}, DRY: {PREV}, HYD_NEXT: {HYD}, MERGED: {HYD, HYD_PREV}}

EXACT = Expect(DRY)


def _ancestor(ancestor: str, descendant: str) -> bool:
    return ancestor in PARENTS.get(descendant, set())


WITH_REPO = Expect(DRY, is_ancestor=_ancestor, repo_url="https://git.example/config")


def check(app: dict[str, object], expect: Expect = EXACT) -> Check:
    return check_application(app, expect)


def hydrated_dry(synced: str, expect: Expect = EXACT) -> Check:
    """The verdict on an app whose hydrator made HYD of DRY, syncing ``synced``."""
    return check(hydrator_app(synced, current=op("Hydrated", DRY, HYD), last=(DRY, HYD)),
                 expect)


def test_live_when_the_synced_commit_is_the_hydration_of_the_dry_commit() -> None:
    verdict = hydrated_dry(HYD)
    assert (verdict.state, verdict.revision) == ("ready", HYD)
    assert verdict.reason == (f"Synced and Healthy at {HYD[:12]} (hydrated from dry commit "
                              f"{DRY[:12]})")
    assert hydrated_dry(HYD, WITH_REPO).state == "ready"


def test_the_dry_commit_itself_as_synced_revision_is_never_enough() -> None:
    """Without a hydration of it on record, a sync revision equal to the dry commit
    proves nothing (the old rule passed here, and waited forever on a real app)."""
    verdict = check(hydrator_app(DRY))
    assert verdict.state == "waiting"
    assert "no hydration recorded yet (status.sourceHydrator is empty)" in verdict.reason


def test_hydrating_waits_and_names_what_was_hydrated_last() -> None:
    app = hydrator_app(HYD_PREV, current=op("Hydrating"), last=(PREV, HYD_PREV))
    verdict = check(app)
    assert (verdict.state, verdict.revision) == ("waiting", HYD_PREV)
    assert verdict.reason.startswith(f"source hydrator Hydrating (since {o.T0}); last hydrated "
                                     f"dry commit {PREV[:12]} is not {DRY[:12]}")


def test_a_newer_dry_commit_still_hydrating_waits() -> None:
    """currentOperation names a descendant of the dry commit but is not Hydrated:
    nothing of ours is hydrated yet, whatever the ancestry says."""
    app = hydrator_app(HYD_PREV, current=op("Hydrating", NEXT), last=(PREV, HYD_PREV))
    verdict = check(app, WITH_REPO)
    assert verdict.state == "waiting"
    assert f"source hydrator Hydrating dry commit {NEXT[:12]}" in verdict.reason


def test_our_hydration_synced_stays_live_while_a_later_one_runs() -> None:
    """lastSuccessfulOperation produced the synced state: a hydration of a later
    commit in progress does not undo that our commit is live."""
    app = hydrator_app(HYD, current=op("Hydrating"), last=(DRY, HYD))
    assert check(app).state == "ready"


@pytest.mark.parametrize("expect", [EXACT, WITH_REPO])
def test_failed_hydration_of_the_dry_commit_fails_with_its_message(expect: Expect) -> None:
    message = 'Failed to hydrate revision "5e1f": kustomize build: no such file apps/api'
    failing = NEXT if expect is WITH_REPO else DRY  # a descendant fails ours too
    app = hydrator_app(HYD_PREV, current=op("Failed", failing, message=message),
                       last=(PREV, HYD_PREV))
    verdict = check(app, expect)
    assert verdict.state == "failed"
    assert verdict.reason == (f"source hydrator Failed for dry commit {failing[:12]}: "
                              f"{message}")


@pytest.mark.parametrize(("failing", "of"), [(None, ""), (PREV, f" for dry commit {PREV[:12]}")])
def test_failed_hydration_of_another_dry_commit_waits_showing_the_message(
        failing: str | None, of: str) -> None:
    """A failure before the dry revision was resolved names no commit, and one of
    an older commit is not ours: Argo CD retries failures, so promoter waits (up
    to --timeout) and shows why."""
    message = 'Failed to hydrate revision "": failed to get repo objects'
    app = hydrator_app(HYD_PREV, current=op("Failed", failing, message=message),
                       last=(PREV, HYD_PREV))
    verdict = check(app)
    assert verdict.state == "waiting"
    assert verdict.reason.startswith(f"source hydrator Failed{of}: {message}; last hydrated "
                                     f"dry commit {PREV[:12]} is not {DRY[:12]}")


def test_hydrated_but_not_yet_synced_waits() -> None:
    verdict = hydrated_dry(HYD_PREV)
    assert (verdict.state, verdict.revision) == ("waiting", HYD_PREV)
    assert verdict.reason == (f"synced revision {HYD_PREV[:12]} is not {HYD[:12]}, the "
                              f"hydrated commit of dry commit {DRY[:12]}")


def test_a_hydration_without_a_hydrated_commit_waits() -> None:
    app = hydrator_app(HYD, current=op("Hydrated", DRY), last=(DRY, ""))
    verdict = check(app)
    assert verdict.state == "waiting"
    assert f"hydration of dry commit {DRY[:12]} names no hydrated commit" in verdict.reason


def test_an_older_hydration_synced_waits() -> None:
    app = hydrator_app(HYD_PREV, current=op("Hydrated", PREV, HYD_PREV), last=(PREV, HYD_PREV))
    exact, ancestry = check(app), check(app, WITH_REPO)
    assert exact.state == ancestry.state == "waiting"
    assert exact.reason == (f"last hydrated dry commit {PREV[:12]} is not {DRY[:12]} (without "
                            "--repo only an exact SHA match counts)")
    assert ancestry.reason == (f"last hydrated dry commit {PREV[:12]} is not {DRY[:12]} or a "
                               "descendant of it")


def test_a_later_dry_commit_hydrated_and_synced_counts_with_the_repository() -> None:
    app = hydrator_app(HYD_NEXT, current=op("Hydrated", NEXT, HYD_NEXT), last=(NEXT, HYD_NEXT))
    assert check(app).state == "waiting"
    later = check(app, WITH_REPO)
    assert (later.state, later.revision) == ("ready", HYD_NEXT)
    assert f"hydrated from dry commit {NEXT[:12]}" in later.reason


def test_the_application_rules_apply_to_the_hydrated_commit() -> None:
    def at(**state: object) -> Check:
        return check(hydrator_app(HYD, current=op("Hydrated", DRY, HYD), last=(DRY, HYD),
                                  **state))  # type: ignore[arg-type]

    assert at(phase="Running", health="Progressing").reason == (
        f"sync operation Running (hydrated from dry commit {DRY[:12]})")
    assert at(reconciled=o.T0).state == "waiting"
    assert at(sync="OutOfSync").state == "waiting"
    failed_sync = at(phase="Failed")
    assert (failed_sync.state, failed_sync.reason) == (
        "failed", f"sync operation Failed: operation failed (hydrated from dry commit "
                  f"{DRY[:12]})")
    degraded = at(health="Degraded")
    assert degraded.state == "failed"
    assert degraded.reason.startswith(f"Degraded after {HYD[:12]} was applied")


def test_auto_sync_off_is_said_for_a_hydrated_commit_left_out_of_sync() -> None:
    app = hydrator_app(HYD, current=op("Hydrated", DRY, HYD), last=(DRY, HYD),
                       sync="OutOfSync", phase=None)
    verdict = check(app)
    assert verdict.state == "waiting"
    assert verdict.reason.startswith(f"sync status OutOfSync at {HYD[:12]}; auto-sync is off")
    assert verdict.reason.endswith(f"(hydrated from dry commit {DRY[:12]})")


def test_a_sync_error_fails_even_before_the_hydration_is_synced() -> None:
    error = {"type": "SyncError", "message": "one or more objects failed to apply",
             "lastTransitionTime": o.T0}
    app = hydrator_app(HYD_PREV, current=op("Hydrating"), last=(PREV, HYD_PREV),
                       conditions=[error])
    verdict = check(app)
    assert (verdict.state, verdict.reason) == (
        "failed", "SyncError: one or more objects failed to apply")


def test_hydrate_to_a_staging_branch_waits_for_the_move_to_the_sync_branch() -> None:
    app = hydrator_app(HYD_PREV, current=op("Hydrated", DRY, HYD, hydrate_to="env/prod-next"),
                       last=(DRY, HYD), hydrate_to="env/prod-next")
    verdict = check(app)
    assert verdict.state == "waiting"
    assert verdict.reason == (
        f"synced revision {HYD_PREV[:12]} is not {HYD[:12]}, the hydrated commit of dry "
        f"commit {DRY[:12]}: Argo CD pushed it to env/prod-next (hydrateTo); it syncs once it "
        "is moved to env/prod (without --repo only that exact commit counts)")


def test_hydrate_to_counts_a_merge_of_the_hydrated_commit_with_the_repository() -> None:
    app = hydrator_app(MERGED, current=op("Hydrated", DRY, HYD, hydrate_to="env/prod-next"),
                       last=(DRY, HYD), hydrate_to="env/prod-next")
    assert check(app).state == "waiting"
    merged = check(app, WITH_REPO)
    assert (merged.state, merged.revision) == ("ready", MERGED)


def test_without_hydrate_to_only_the_hydrated_commit_itself_counts() -> None:
    """The hydrator commits straight to the sync branch: a later commit there is a
    later hydration, which status.sourceHydrator would name."""
    app = hydrator_app(MERGED, current=op("Hydrated", DRY, HYD), last=(DRY, HYD))
    verdict = check(app, WITH_REPO)
    assert verdict.state == "waiting"
    assert verdict.reason == (f"synced revision {MERGED[:12]} is not {HYD[:12]}, the hydrated "
                              f"commit of dry commit {DRY[:12]}")


def test_a_dry_source_of_another_repository_is_noted() -> None:
    app = hydrator_app(HYD_PREV, current=op("Hydrated", PREV, HYD_PREV), last=(PREV, HYD_PREV))
    other = Expect(DRY, repo_url="https://git.example/other")
    assert ("spec.sourceHydrator.drySource.repoURL git.example/config is not the config "
            "repository git.example/other") in check(app, other).reason


def test_apps_without_the_hydrator_keep_the_plain_rule() -> None:
    assert check(o.application(DRY)).state == "ready"
    assert check(o.application(HYD)).reason.startswith(
        f"synced revision {HYD[:12]} is not {DRY[:12]}")
