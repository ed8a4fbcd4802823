"""Auto-merge on GitHub (``--auto-merge``), the last step of publishing a pull
request: ``enablePullRequestAutoMerge``; a PR in "clean status" (mergeable, no
required checks pending) cannot get auto-merge, so it is merged now, as
``gh pr merge --auto`` does; "not allowed" for the repository is
AutoMergeRefused, which carries what was published.

Part of the GitHub adapter (no SDK import; the connected ``GitHubForge``'s
``_call`` and ``_graphql``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from promoter.errors import AutoMergeRefused, PromoterError
from promoter.forges import ForgeResult, PullRequestSpec

if TYPE_CHECKING:
    from promoter.forges.github import GitHubForge

AUTO_MERGE = (
    "mutation($id: ID!, $method: PullRequestMergeMethod!) {"
    " enablePullRequestAutoMerge(input: {pullRequestId: $id, mergeMethod: $method})"
    " { pullRequest { number } } }"
)


def auto_merge(forge: GitHubForge, pr: Any, spec: PullRequestSpec,
               published: ForgeResult) -> ForgeResult:
    """``published``, after auto-merge was turned on for its PR ``pr`` (or the
    PR was merged at once: then its state is ``merged``)."""
    what = f"enabling auto-merge on #{pr.number}"
    try:
        forge._graphql(what, AUTO_MERGE, {"id": pr.node_id,
                                          "method": (spec.merge_method or "merge").upper()})
    except PromoterError as exc:
        text = exc.message.lower()
        if "clean status" in text:
            assert published.pull_request is not None
            merged = replace(published.pull_request, state="merged",
                             merge_commit_sha=merge_now(forge, pr, spec))
            return replace(published, pull_request=merged)
        if "not allowed" in text:
            raise AutoMergeRefused(
                f"auto-merge is not allowed for {forge.slug} (pull request #{pr.number}"
                " is open); enable Settings -> General -> 'Allow auto-merge', or drop"
                " --auto-merge", published) from exc
        raise
    return published


def merge_now(forge: GitHubForge, pr: Any, spec: PullRequestSpec) -> str:
    """Merge the clean ``pr``; the merge commit's sha."""
    method = spec.merge_method or "merge"
    merged = forge._call(f"merging clean pull request #{pr.number}", "contents: write",
                         lambda: pr.merge(merge_method=method))
    return str(merged.sha)
