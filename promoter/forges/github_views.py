"""GitHub's side of promoter's vocabulary, without the SDK: the GraphQL
documents, promoter's view of a PyGithub pull request (read by attribute), and
the rule for which searched PRs a new promoter PR supersedes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from promoter.forges import PullRequest, PullRequestSpec, body

DRAFT = {
    True: "mutation($id: ID!) { convertPullRequestToDraft(input: {pullRequestId: $id})"
    " { pullRequest { isDraft } } }",
    False: "mutation($id: ID!) { markPullRequestReadyForReview(input: {pullRequestId: $id})"
    " { pullRequest { isDraft } } }",
}
SEARCH = (
    "query($q: String!) { search(query: $q, type: ISSUE, first: 50) { nodes {"
    " ... on PullRequest { number url body headRefName author { login }"
    " headRepository { nameWithOwner } } } } }"
)
AUTO_MERGE = (
    "mutation($id: ID!, $method: PullRequestMergeMethod!) {"
    " enablePullRequestAutoMerge(input: {pullRequestId: $id, mergeMethod: $method})"
    " { pullRequest { number } } }"
)


@dataclass(frozen=True)
class Seen:
    """What ``_sync`` knows of the PR afterwards, so it need not be read again."""

    changed: bool
    labels: tuple[str, ...]
    draft: bool


def login(login: str) -> str:
    """REST says ``app[bot]`` where GraphQL says ``app``."""
    return login.removesuffix("[bot]")


def view(
    pr: Any, state: str | None = None, labels: tuple[str, ...] | None = None,
    draft: bool | None = None,
) -> PullRequest:
    if state is None:
        state = "open" if pr.state == "open" else "merged" if pr.merged_at else "closed"
    return PullRequest(
        number=pr.number, url=pr.html_url, branch=pr.head.ref, base=pr.base.ref,
        state=state, title=pr.title, head_sha=pr.head.sha,
        merge_commit_sha=pr.merge_commit_sha if state == "merged" else None,
        draft=bool(pr.draft) if draft is None else draft,
        labels=tuple(label.name for label in pr.labels) if labels is None else labels,
    )


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
