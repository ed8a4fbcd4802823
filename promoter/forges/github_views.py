"""GitHub's side of promoter's vocabulary, without the SDK: the GraphQL
documents of a pull request's draft state, and promoter's view of a PyGithub
pull request (read by attribute)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promoter.forges import PullRequest

DRAFT = {
    True: "mutation($id: ID!) { convertPullRequestToDraft(input: {pullRequestId: $id})"
    " { pullRequest { isDraft } } }",
    False: "mutation($id: ID!) { markPullRequestReadyForReview(input: {pullRequestId: $id})"
    " { pullRequest { isDraft } } }",
}


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

