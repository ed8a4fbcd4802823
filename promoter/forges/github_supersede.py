"""The promoter PRs a new one supersedes on GitHub (after a change of branch
template): one search for the app and env's marker, the rule for which of the
found PRs are promoter's older ones, and their closing with a comment.

Part of the GitHub adapter (no SDK import; the connected ``GitHubForge``'s
requester, ``_call`` and ``_graphql``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from promoter.forges import PullRequest, PullRequestSpec, body
from promoter.forges.github_views import login

if TYPE_CHECKING:
    from promoter.forges.github import GitHubForge

SEARCH = (
    "query($q: String!) { search(query: $q, type: ISSUE, first: 50) { nodes {"
    " ... on PullRequest { number url body headRefName author { login }"
    " headRepository { nameWithOwner } } } } }"
)


def supersede(forge: GitHubForge, spec: PullRequestSpec, keep: Any) -> tuple[PullRequest, ...]:
    """Close the other open promoter PRs of this app and env: one search; a PR
    counts only if it is on another branch of this repository, was opened by
    the same user as ``keep`` and its body ends with the marker."""
    query = f'repo:{forge.slug} is:pr is:open in:body "promoter:{spec.app}/{spec.env}"'
    found = forge._graphql("searching superseded pull requests", SEARCH, {"q": query})
    note = (f"Superseded by #{keep.number} ({keep.html_url}): promoter now promotes"
            f" {spec.app} to {spec.env} from branch `{spec.branch}`.")
    nodes = (found.get("search") or {}).get("nodes") or []
    closed = [close(forge, node, note) for node in
              superseded(nodes, spec, forge.slug, keep.number, keep.user.login)]
    return tuple(closed)


def superseded(
    nodes: Iterable[dict[str, Any] | None], spec: PullRequestSpec, slug: str, keep: int,
    author: str,
) -> list[dict[str, Any]]:
    """The searched PRs that are promoter's older PRs of this app and env: on
    another branch of this repository, opened by ``author`` (who opened the PR
    kept), the body ending with the marker."""
    found = []
    for node in nodes:
        if not node or node.get("number") == keep:
            continue
        same_repo = (node.get("headRepository") or {}).get("nameWithOwner") == slug
        opener = login((node.get("author") or {}).get("login") or "")
        if (same_repo and opener == login(author) and node.get("headRefName") != spec.branch
                and body.has_marker(node.get("body"), spec.app, spec.env)):
            found.append(node)
    return found


def close(forge: GitHubForge, node: dict[str, Any], note: str) -> PullRequest:
    """Comment ``note`` on the searched PR ``node`` and close it."""
    assert forge.gh is not None
    requester, number = forge.gh.requester, int(node["number"])
    what = f"closing superseded pull request #{number}"
    base = f"/repos/{forge.slug}"
    forge._call(what, "pull-requests: write", lambda: requester.requestJsonAndCheck(
        "POST", f"{base}/issues/{number}/comments", input={"body": note}))
    forge._call(what, "pull-requests: write", lambda: requester.requestJsonAndCheck(
        "PATCH", f"{base}/pulls/{number}", input={"state": "closed"}))
    return PullRequest(number=number, url=str(node.get("url") or ""),
                       branch=str(node.get("headRefName") or ""), base="", state="closed")
