"""A stateful fake GitHub (REST + GraphQL) on 127.0.0.1, checked against GitHub's schemas.

    with FakeGitHub(token="ghp_x") as fake:          # serves on an ephemeral port
        forge = github.connect(ForgeSettings(..., api_url=fake.api_url, token="ghp_x"))
        ...
        assert fake.pulls[1].labels == ["promotion"]

Every REST request and response is validated with openapi-core against
``github/rest-pr-flow.openapi.json``; every GraphQL document against
``github/schema.graphql`` (graphql-core), and executed with it, so its result is
type-checked too. Violations are collected in ``violations``; the test
fixtures fail the test when any were seen. ``head_sha`` maps a branch to its
head commit (read from the real git remote in end-to-end tests; None: no such
branch, and creating a PR from it is a 422). ``fail()`` queues error answers
(401, 403, 404, 5xx, 429, secondary rate limits) for the next matching requests.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.testing import MockRequest
from werkzeug.wrappers import Request, Response

from fakes.github_commits import mutations as commit_mutations
from fakes.github_records import Records
from fakes.github_schema import (
    FakeGraphQLError,
    details,
    documented,
    make,
    make_item,
    openapi,
    run_graphql,
)
from fakes.schemas import serving


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


@dataclass
class Failure:
    status: int
    message: str
    headers: dict[str, str]
    method: str | None
    path: str | None
    times: int


class FakeGitHub:
    def __init__(
        self,
        owner: str = "acme",
        name: str = "config",
        token: str = "ghp_fake_token",
        prefix: str = "",
        head_sha: Callable[[str], str | None] | None = None,
        app_id: str | None = None,
        app_public_key: str | None = None,
    ) -> None:
        self.owner, self.name, self.token, self.prefix = owner, name, token, prefix
        self.head_sha = head_sha or (lambda ref: hashlib.sha1(ref.encode()).hexdigest())
        self.app_id, self.app_public_key = app_id, app_public_key
        self.installation_id = 4242
        self.issued: set[str] = set()
        self.auto_merge_allowed = True
        # no required checks and mergeable: GitHub refuses auto-merge ("clean status")
        self.clean_status = False
        self.merge_on_auto_merge: str | None = None  # merge at once with this commit SHA
        # called with the head branch as a create request arrives, before it is handled:
        # e.g. another promoter run opening the pull request first
        self.before_create: Callable[[str], None] | None = None
        self.pulls: dict[int, Pull] = {}
        self.deleted: list[str] = []  # branches deleted through the git refs API
        self.requests: list[tuple[str, str]] = []
        self.violations: list[str] = []
        self.failures: list[Failure] = []
        self.url = ""
        self._serving: Any = None
        self._records: Records | None = None
        self.git_dir: Path | None = None  # the bare repository createCommitOnBranch writes to
        self.commits: list[dict[str, Any]] = []  # recorded by createCommitOnBranch
        self.before_mutation: Callable[[str], None] | None = None  # called with its name

    @property
    def records(self) -> Records:
        """Commit statuses and deployments (fakes.github_records)."""
        if self._records is None:
            self._records = Records(f"{self.api_url}/repos/{self.owner}/{self.name}",
                                    self._user("promoter"))
        return self._records

    # -- lifecycle and test controls -------------------------------------------

    def __enter__(self) -> FakeGitHub:
        self._serving = serving(self)
        self.url = self._serving.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._serving.__exit__(None, None, None)

    @property
    def api_url(self) -> str:
        return self.url + self.prefix

    def fail(
        self, status: int, message: str = "fake failure", *, times: int = 1,
        headers: dict[str, str] | None = None, method: str | None = None, path: str | None = None,
    ) -> None:
        self.failures.append(Failure(status, message, headers or {}, method, path, times))

    def open_pull(self, head: str, base: str = "main", title: str = "t", body: str = "",
                  author: str = "promoter") -> Pull:
        number = len(self.pulls) + 1
        self.pulls[number] = Pull(number, head, base, title, body, author=author)
        return self.pulls[number]

    def merge(self, number: int, sha: str = "f" * 40) -> None:
        pull = self.pulls[number]
        pull.state, pull.merged, pull.merge_commit_sha = "closed", True, sha

    # -- WSGI ------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        try:
            response = self.handle(request)
        except Exception as exc:  # a bug in the fake must fail the test, not hang it
            self.violations.append(f"fake crashed on {request.method} {request.path}: {exc!r}")
            response = _error(500, "fake crashed")
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        self.requests.append((request.method, request.path))
        graphql = self.prefix.removesuffix("/v3") + "/graphql"
        path = "/graphql" if request.path == graphql else request.path
        if path != "/graphql" and not path.startswith(self.prefix):
            return _error(404, "Not Found")
        path = path if path == "/graphql" else path[len(self.prefix):]
        if not self._authorized(request, path):
            return _error(401, "Bad credentials")
        failure = self._failure(request.method, path)
        if failure:
            return failure
        if path == "/graphql":
            return self._graphql(request)
        return self._rest(request, path)

    def _authorized(self, request: Request, path: str) -> bool:
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        if path.startswith("/app/") or path.endswith("/installation"):
            return scheme.lower() == "bearer" and self._valid_jwt(credential)
        return scheme.lower() == "token" and (
            credential == self.token or credential in self.issued
        )

    def _valid_jwt(self, token: str) -> bool:
        if not self.app_public_key:
            return False
        try:
            claims = jwt.decode(token, self.app_public_key, algorithms=["RS256"])
        except jwt.PyJWTError:
            return False
        return str(claims.get("iss")) == str(self.app_id)

    def _failure(self, method: str, path: str) -> Response | None:
        for failure in self.failures:
            if failure.method not in (None, method) or (failure.path or "") not in path:
                continue
            failure.times -= 1
            if failure.times <= 0:
                self.failures.remove(failure)
            return _error(failure.status, failure.message, failure.headers)
        return None

    # -- REST --------------------------------------------------------------------

    def _rest(self, request: Request, path: str) -> Response:
        api = openapi(self.prefix)
        wrapped = self._openapi_request(request, path)
        try:
            api.validate_request(wrapped)
        except Exception as exc:
            self.violations.append(f"request {request.method} {path}: {details(exc)}")
            return _error(422, f"request violates the schema: {exc}")
        response = self._route(request, path)
        if documented(request.method, path, response.status_code):
            try:
                api.validate_response(wrapped, WerkzeugOpenAPIResponse(response))
            except Exception as exc:
                self.violations.append(
                    f"response {request.method} {path} {response.status_code}: {details(exc)}"
                )
        return response

    def _openapi_request(self, request: Request, path: str) -> Any:
        """Git refs hold slashes, which ``{ref}`` templates do not match: quote them."""
        m = re.fullmatch(r"(/repos/[^/]+/[^/]+/git/refs?/)(.+)", path)
        if not m:
            return WerkzeugOpenAPIRequest(request)
        return MockRequest(request.host_url, request.method, self.prefix + m.group(1)
                           + quote(m.group(2), safe=""), args=dict(request.args),
                           headers=dict(request.headers), data=request.get_data() or None)

    def _route(self, request: Request, path: str) -> Response:
        data = request.get_json(silent=True)
        if m := re.fullmatch(r"/app/installations/(\d+)/access_tokens", path):
            return self._access_token(int(m.group(1)))
        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path)
        if not m or (m.group(1), m.group(2)) != (self.owner, self.name):
            return _error(404, "Not Found")
        rest, method = m.group(3) or "", request.method
        if rest == "" and method == "GET":
            return _json(200, make("full-repository", **self._repo_fields()))
        if rest.startswith("/git/refs/heads/") and method == "DELETE":
            self.deleted.append(rest.removeprefix("/git/refs/heads/"))
            return Response(status=204)
        if rest == "/installation":
            return _json(200, make("installation", id=self.installation_id,
                                   account=self._user(self.owner)))
        answer = self.records.route(rest, method, request.args, data, self._sha_of)
        if answer is not None:
            return answer
        if rest == "/pulls" and method == "GET":
            return self._page(request, [self._pull(p, "pull-request-simple")
                                        for p in self._list(request)])
        if rest == "/pulls" and method == "POST":
            return self._create(data)
        m = re.fullmatch(r"/(pulls|issues)/(\d+)(/[a-z_]+)?", rest)
        if not m or int(m.group(2)) not in self.pulls:
            return _error(404, "Not Found")
        return self._on_pull(self.pulls[int(m.group(2))], method, m.group(3) or "", data)

    def _on_pull(self, pull: Pull, method: str, sub: str, data: Any) -> Response:
        if sub == "" and method == "GET":
            return _json(200, self._pull(pull))
        if sub == "" and method == "PATCH":
            pull.title = data.get("title", pull.title)
            pull.body = data.get("body", pull.body)
            pull.state = data.get("state", pull.state)
            return _json(200, self._pull(pull))
        if sub == "/requested_reviewers":
            pull.reviewers += [r for r in data.get("reviewers", []) if r not in pull.reviewers]
            pull.teams += [t for t in data.get("team_reviewers", []) if t not in pull.teams]
            return _json(201, self._pull(pull, "pull-request-simple"))
        if sub == "/labels":
            names = data if isinstance(data, list) else data.get("labels", [])
            pull.labels += [n for n in names if n not in pull.labels]
            return _json(200, [self._label(n) for n in pull.labels])
        if sub == "/assignees":
            pull.assignees += [a for a in data["assignees"] if a not in pull.assignees]
            users = [self._user(a) for a in pull.assignees]
            return _json(201, make("issue", number=pull.number, assignees=users))
        if sub == "/merge" and method == "PUT":
            if pull.state != "open":
                return _error(405, "Pull Request is not mergeable")
            self.merge(pull.number, hashlib.sha1(f"merge {pull.number}".encode()).hexdigest())
            pull.merge_method = (data or {}).get("merge_method", "merge")
            return _json(200, {"sha": pull.merge_commit_sha, "merged": True,
                               "message": "Pull Request successfully merged"})
        if sub == "/comments" and method == "POST":
            pull.comments.append(data["body"])
            return _json(201, make("issue-comment", body=data["body"]))
        return _error(404, "Not Found")

    def _page(self, request: Request, items: list[Any]) -> Response:
        """GitHub's pagination: ``per_page`` (default 30), ``page``, a Link header."""
        page, size = int(request.args.get("page", 1)), int(request.args.get("per_page", 30))
        headers = {}
        if page * size < len(items):
            args = {**request.args, "page": str(page + 1)}
            query = "&".join(f"{k}={quote(str(v), safe=':')}" for k, v in args.items())
            headers["Link"] = f'<{request.base_url}?{query}>; rel="next"'
        return _json(200, items[(page - 1) * size:page * size], headers)

    def _list(self, request: Request) -> list[Pull]:
        state, head = request.args.get("state", "open"), request.args.get("head")
        pulls = [p for p in self.pulls.values() if state in ("all", p.state)]
        if head:
            pulls = [p for p in pulls if f"{self.owner}:{p.head}" == head]
        return sorted(pulls, key=lambda p: -p.number)

    def _create(self, data: dict[str, Any]) -> Response:
        head = data["head"].split(":")[-1]
        if self.before_create:
            self.before_create(head)
        if self.head_sha(head) is None:  # the branch is not in the git remote
            return _json(422, {"message": "Validation Failed", "errors": [
                {"resource": "PullRequest", "field": "head", "code": "invalid"}],
                "documentation_url": "https://docs.github.com/rest"})
        if any(p.head == head and p.state == "open" for p in self.pulls.values()):
            return _json(422, {"message": "Validation Failed", "errors": [
                {"resource": "PullRequest", "code": "custom",
                 "message": f"A pull request already exists for {self.owner}:{head}."}],
                "documentation_url": "https://docs.github.com/rest"})
        pull = self.open_pull(head, data["base"], data.get("title", ""), data.get("body", ""))
        pull.draft = bool(data.get("draft", False))
        return _json(201, self._pull(pull))

    def _access_token(self, installation: int) -> Response:
        if installation != self.installation_id:
            return _error(404, "Not Found")
        token = f"ghs_installation_{len(self.issued)}"
        self.issued.add(token)
        return _json(201, make("installation-token", token=token,
                               expires_at="2099-01-01T00:00:00Z"))

    def _sha_of(self, ref: str) -> str | None:
        """A full sha stays itself; a branch name is its head."""
        return ref if re.fullmatch(r"[0-9a-f]{40}", ref) else self.head_sha(ref)

    # -- objects ---------------------------------------------------------------

    def _repo_fields(self) -> dict[str, Any]:
        return {
            "name": self.name, "full_name": f"{self.owner}/{self.name}",
            "node_id": f"R_{self.name}",
            "owner": self._user(self.owner),
            "url": f"{self.api_url}/repos/{self.owner}/{self.name}",
            "html_url": f"{self.url}/{self.owner}/{self.name}", "default_branch": "main",
        }

    def _user(self, login: str) -> Any:
        return make("simple-user", login=login, url=f"{self.api_url}/users/{login}")

    def _label(self, name: str) -> Any:
        return make("label", name=name, url=f"{self.api_url}/labels/{name}")

    def _pull(self, pull: Pull, schema: str = "pull-request") -> Any:
        base = f"{self.api_url}/repos/{self.owner}/{self.name}"
        return make(
            schema, number=pull.number, id=pull.number, node_id=f"PR_{pull.number}",
            url=f"{base}/pulls/{pull.number}", issue_url=f"{base}/issues/{pull.number}",
            html_url=f"{self.url}/{self.owner}/{self.name}/pull/{pull.number}",
            user=self._user(pull.author), state=pull.state, title=pull.title, body=pull.body,
            draft=pull.draft,
            labels=[make_item(schema, "labels", name=n, url=f"{self.api_url}/labels/{n}")
                    for n in pull.labels],
            head=self._ref(pull.head), base=self._ref(pull.base),
            requested_reviewers=[self._user(r) for r in pull.reviewers],
            requested_teams=[make_item(schema, "requested_teams", slug=t, name=t)
                             for t in pull.teams],
            assignees=[self._user(a) for a in pull.assignees],
            merged_at="2026-01-02T00:00:00Z" if pull.merged else None,
            closed_at=None if pull.state == "open" else "2026-01-02T00:00:00Z",
            merge_commit_sha=pull.merge_commit_sha,
            auto_merge=self._auto_merge(pull),
            **({"merged": pull.merged} if schema == "pull-request" else {}),
        )

    def _ref(self, branch: str) -> Any:
        return {
            "label": f"{self.owner}:{branch}", "ref": branch,
            "sha": self.head_sha(branch) or "0" * 40,
            "user": self._user(self.owner), "repo": make("repository", **self._repo_fields()),
        }

    def _auto_merge(self, pull: Pull) -> Any:
        if not pull.auto_merge:
            return None
        return {"enabled_by": self._user("promoter"), "merge_method": pull.auto_merge,
                "commit_title": pull.title, "commit_message": ""}

    # -- GraphQL ---------------------------------------------------------------

    def _graphql(self, request: Request) -> Response:
        payload = request.get_json(silent=True) or {}
        return _json(200, run_graphql(payload, self._mutations(), self.violations))

    def _by_node(self, node_id: str) -> Pull:
        for pull in self.pulls.values():
            if f"PR_{pull.number}" == node_id:
                return pull
        raise FakeGraphQLError(f"Could not resolve to a node with the global id of '{node_id}'")

    def _mutations(self) -> dict[str, Any]:
        def auto_merge(info: Any, input: dict[str, Any]) -> Any:
            pull = self._by_node(input["pullRequestId"])
            if not self.auto_merge_allowed:
                raise FakeGraphQLError("Auto merge is not allowed for this repository")
            if self.clean_status:
                raise FakeGraphQLError("Pull request is in clean status")
            pull.auto_merge = input.get("mergeMethod", "MERGE").lower()
            if self.merge_on_auto_merge:
                self.merge(pull.number, self.merge_on_auto_merge)
            return {"pullRequest": self._gql_pull(pull)}

        def drafting(value: bool) -> Callable[..., Any]:
            def mutate(info: Any, input: dict[str, Any]) -> Any:
                pull = self._by_node(input["pullRequestId"])
                pull.draft = value
                return {"pullRequest": self._gql_pull(pull)}
            return mutate

        def search(info: Any, query: str, type: str, **_: Any) -> Any:
            """Issue search: ``repo:``, ``is:pr``, ``is:open`` and one quoted phrase."""
            phrase = query.split('"')[1] if query.count('"') >= 2 else ""
            wanted = "is:open" in query
            found = [p for p in sorted(self.pulls.values(), key=lambda p: p.number)
                     if phrase in p.body and (not wanted or p.state == "open")]
            return {"issueCount": len(found), "nodes": [self._gql_search(p) for p in found]}

        return {
            "search": search,
            **commit_mutations(lambda: self.git_dir, f"R_{self.name}",
                               f"{self.owner}/{self.name}", self.commits,
                               lambda name: self.before_mutation and self.before_mutation(name)),
            "enablePullRequestAutoMerge": auto_merge,
            "convertPullRequestToDraft": drafting(True),
            "markPullRequestReadyForReview": drafting(False),
        }

    def _gql_search(self, pull: Pull) -> dict[str, Any]:
        return {"__typename": "PullRequest", "number": pull.number, "body": pull.body,
                "url": f"{self.url}/{self.owner}/{self.name}/pull/{pull.number}",
                "headRefName": pull.head, "author": {"__typename": "User", "login": pull.author},
                "headRepository": {"nameWithOwner": f"{self.owner}/{self.name}"}}

    def _gql_pull(self, pull: Pull) -> dict[str, Any]:
        return {"number": pull.number, "isDraft": pull.draft, "id": f"PR_{pull.number}"}


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {},
                    mimetype="application/json")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"message": message, "documentation_url": "https://docs.github.com/rest"}
    return _json(status, body, headers)
