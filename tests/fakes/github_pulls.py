"""The fake GitHub's pull requests: their state (``Pull``), the REST routes on
one (``/pulls/N``, ``/issues/N``: update, reviewers, labels, assignees, merge,
comments), listing with GitHub's pagination and creation, and the schema-built
objects the fake answers with (pull requests, refs, users, labels: ``make``).
FakeGitHub validates the requests and responses; these functions keep the state."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from fakes.github_schema import make, make_item

if TYPE_CHECKING:
    from fakes.github_server import FakeGitHub


@dataclass
class Pull:
    number: int
    head: str
    base: str
    title: str
    body: str = ""
    state: str = "open"
    draft: bool = False
    merged: bool = False
    merge_commit_sha: str | None = None
    labels: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    auto_merge: str | None = None
    merge_method: str | None = None  # how it was merged through the REST merge endpoint
    author: str = "promoter"  # the login that opened it (the token's user, for the API)


def on_pull(fake: FakeGitHub, pull: Pull, method: str, sub: str, data: Any) -> Response:
    if sub == "" and method == "GET":
        return json_response(200, pull_json(fake, pull))
    if sub == "" and method == "PATCH":
        pull.title = data.get("title", pull.title)
        pull.body = data.get("body", pull.body)
        pull.state = data.get("state", pull.state)
        return json_response(200, pull_json(fake, pull))
    if sub == "/requested_reviewers":
        pull.reviewers += [r for r in data.get("reviewers", []) if r not in pull.reviewers]
        pull.teams += [t for t in data.get("team_reviewers", []) if t not in pull.teams]
        return json_response(201, pull_json(fake, pull, "pull-request-simple"))
    if sub == "/labels":
        names = data if isinstance(data, list) else data.get("labels", [])
        pull.labels += [n for n in names if n not in pull.labels]
        return json_response(200, [label(fake, n) for n in pull.labels])
    if sub == "/assignees":
        pull.assignees += [a for a in data["assignees"] if a not in pull.assignees]
        users = [user(fake, a) for a in pull.assignees]
        return json_response(201, make("issue", number=pull.number, assignees=users))
    if sub == "/merge" and method == "PUT":
        if pull.state != "open":
            return error(405, "Pull Request is not mergeable")
        fake.merge(pull.number, hashlib.sha1(f"merge {pull.number}".encode()).hexdigest())
        pull.merge_method = (data or {}).get("merge_method", "merge")
        return json_response(200, {"sha": pull.merge_commit_sha, "merged": True,
                                   "message": "Pull Request successfully merged"})
    if sub == "/comments" and method == "POST":
        pull.comments.append(data["body"])
        return json_response(201, make("issue-comment", body=data["body"]))
    return error(404, "Not Found")


def page(request: Request, items: list[Any]) -> Response:
    """GitHub's pagination: ``per_page`` (default 30), ``page``, a Link header."""
    page, size = int(request.args.get("page", 1)), int(request.args.get("per_page", 30))
    headers = {}
    if page * size < len(items):
        args = {**request.args, "page": str(page + 1)}
        query = "&".join(f"{k}={quote(str(v), safe=':')}" for k, v in args.items())
        headers["Link"] = f'<{request.base_url}?{query}>; rel="next"'
    return json_response(200, items[(page - 1) * size:page * size], headers)


def listed(fake: FakeGitHub, request: Request) -> list[Pull]:
    state, head = request.args.get("state", "open"), request.args.get("head")
    pulls = [p for p in fake.pulls.values() if state in ("all", p.state)]
    if head:
        pulls = [p for p in pulls if f"{fake.owner}:{p.head}" == head]
    return sorted(pulls, key=lambda p: -p.number)


def create(fake: FakeGitHub, data: dict[str, Any]) -> Response:
    head = data["head"].split(":")[-1]
    if fake.before_create:
        fake.before_create(head)
    if fake.head_sha(head) is None:  # the branch is not in the git remote
        return json_response(422, {"message": "Validation Failed", "errors": [
            {"resource": "PullRequest", "field": "head", "code": "invalid"}],
            "documentation_url": "https://docs.github.com/rest"})
    if any(p.head == head and p.state == "open" for p in fake.pulls.values()):
        return json_response(422, {"message": "Validation Failed", "errors": [
            {"resource": "PullRequest", "code": "custom",
             "message": f"A pull request already exists for {fake.owner}:{head}."}],
            "documentation_url": "https://docs.github.com/rest"})
    pull = fake.open_pull(head, data["base"], data.get("title", ""), data.get("body", ""))
    pull.draft = bool(data.get("draft", False))
    return json_response(201, pull_json(fake, pull))


def user(fake: FakeGitHub, login: str) -> Any:
    return make("simple-user", login=login, url=f"{fake.api_url}/users/{login}")


def label(fake: FakeGitHub, name: str) -> Any:
    return make("label", name=name, url=f"{fake.api_url}/labels/{name}")


def pull_json(fake: FakeGitHub, pull: Pull, schema: str = "pull-request") -> Any:
    base = f"{fake.api_url}/repos/{fake.owner}/{fake.name}"
    return make(
        schema, number=pull.number, id=pull.number, node_id=f"PR_{pull.number}",
        url=f"{base}/pulls/{pull.number}", issue_url=f"{base}/issues/{pull.number}",
        html_url=f"{fake.url}/{fake.owner}/{fake.name}/pull/{pull.number}",
        user=user(fake, pull.author), state=pull.state, title=pull.title, body=pull.body,
        draft=pull.draft,
        labels=[make_item(schema, "labels", name=n, url=f"{fake.api_url}/labels/{n}")
                for n in pull.labels],
        head=ref(fake, pull.head), base=ref(fake, pull.base),
        requested_reviewers=[user(fake, r) for r in pull.reviewers],
        requested_teams=[make_item(schema, "requested_teams", slug=t, name=t)
                         for t in pull.teams],
        assignees=[user(fake, a) for a in pull.assignees],
        merged_at="2026-01-02T00:00:00Z" if pull.merged else None,
        closed_at=None if pull.state == "open" else "2026-01-02T00:00:00Z",
        merge_commit_sha=pull.merge_commit_sha,
        auto_merge=auto_merge(fake, pull),
        **({"merged": pull.merged} if schema == "pull-request" else {}),
    )


def ref(fake: FakeGitHub, branch: str) -> Any:
    return {
        "label": f"{fake.owner}:{branch}", "ref": branch,
        "sha": fake.head_sha(branch) or "0" * 40,
        "user": user(fake, fake.owner), "repo": make("repository", **fake._repo_fields()),
    }


def auto_merge(fake: FakeGitHub, pull: Pull) -> Any:
    if not pull.auto_merge:
        return None
    return {"enabled_by": user(fake, "promoter"), "merge_method": pull.auto_merge,
            "commit_title": pull.title, "commit_message": ""}


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {},
                    mimetype="application/json")


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"message": message, "documentation_url": "https://docs.github.com/rest"}
    return json_response(status, body, headers)
