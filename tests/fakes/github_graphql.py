"""The fake GitHub's GraphQL resolvers for pull requests: auto-merge, draft and
ready for review, the issue search promoter finds its pull requests with (the
commit mutations are fakes.github_commits). ``run_graphql`` validates each
document against GitHub's schema and type-checks the result."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from fakes.github_commits import mutations as commit_mutations
from fakes.github_pulls import Pull, json_response
from fakes.github_schema import FakeGraphQLError, run_graphql

if TYPE_CHECKING:
    from fakes.github_server import FakeGitHub


def answer(fake: FakeGitHub, request: Request) -> Response:
    payload = request.get_json(silent=True) or {}
    return json_response(200, run_graphql(payload, mutations(fake), fake.violations))


def by_node(fake: FakeGitHub, node_id: str) -> Pull:
    for pull in fake.pulls.values():
        if f"PR_{pull.number}" == node_id:
            return pull
    raise FakeGraphQLError(f"Could not resolve to a node with the global id of '{node_id}'")


def mutations(fake: FakeGitHub) -> dict[str, Any]:
    def auto_merge(info: Any, input: dict[str, Any]) -> Any:
        pull = by_node(fake, input["pullRequestId"])
        if not fake.auto_merge_allowed:
            raise FakeGraphQLError("Auto merge is not allowed for this repository")
        if fake.clean_status:
            raise FakeGraphQLError("Pull request is in clean status")
        pull.auto_merge = input.get("mergeMethod", "MERGE").lower()
        if fake.merge_on_auto_merge:
            fake.merge(pull.number, fake.merge_on_auto_merge)
        return {"pullRequest": gql_pull(pull)}

    def drafting(value: bool) -> Callable[..., Any]:
        def mutate(info: Any, input: dict[str, Any]) -> Any:
            pull = by_node(fake, input["pullRequestId"])
            pull.draft = value
            return {"pullRequest": gql_pull(pull)}
        return mutate

    def search(info: Any, query: str, type: str, **_: Any) -> Any:
        """Issue search: ``repo:``, ``is:pr``, ``is:open`` and one quoted phrase."""
        phrase = query.split('"')[1] if query.count('"') >= 2 else ""
        wanted = "is:open" in query
        found = [p for p in sorted(fake.pulls.values(), key=lambda p: p.number)
                 if phrase in p.body and (not wanted or p.state == "open")]
        return {"issueCount": len(found), "nodes": [search_json(fake, p) for p in found]}

    return {
        "search": search,
        **commit_mutations(lambda: fake.git_dir, f"R_{fake.name}",
                           f"{fake.owner}/{fake.name}", fake.commits,
                           lambda name: fake.before_mutation and fake.before_mutation(name)),
        "enablePullRequestAutoMerge": auto_merge,
        "convertPullRequestToDraft": drafting(True),
        "markPullRequestReadyForReview": drafting(False),
    }


def search_json(fake: FakeGitHub, pull: Pull) -> dict[str, Any]:
    return {"__typename": "PullRequest", "number": pull.number, "body": pull.body,
            "url": f"{fake.url}/{fake.owner}/{fake.name}/pull/{pull.number}",
            "headRefName": pull.head, "author": {"__typename": "User", "login": pull.author},
            "headRepository": {"nameWithOwner": f"{fake.owner}/{fake.name}"}}


def gql_pull(pull: Pull) -> dict[str, Any]:
    return {"number": pull.number, "isDraft": pull.draft, "id": f"PR_{pull.number}"}
