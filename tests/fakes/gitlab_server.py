"""A stateful fake GitLab (API v4, merge requests) on 127.0.0.1, schema-checked.

    with FakeGitLab(token="glpat-x") as fake:
        forge = gitlab.connect(ForgeSettings(..., api_url=fake.url, token="glpat-x"))
        ...
        assert fake.mrs[1].labels == ["promotion"]

Responses are validated with jsonschema against GitLab's own API test schemas,
request bodies and query strings against schemas written from GitLab's API docs
with ``additionalProperties: false``, so a parameter GitLab does not know fails
(fakes.gitlab_schema). Violations land in ``violations``; the fixture fails the
test on any.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from werkzeug.wrappers import Request, Response

from fakes.gitlab_commits import Commits
from fakes.gitlab_records import Records
from fakes.gitlab_schema import REQUESTS, array, vendored, violations
from fakes.schemas import serving


@dataclass
class MergeRequest:
    iid: int
    source: str
    target: str
    title: str
    description: str = ""
    state: str = "opened"
    labels: list[str] = field(default_factory=list)
    assignees: list[int] = field(default_factory=list)
    reviewers: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    auto_merge: bool = False
    squash: bool = False
    remove_source_branch: bool = False
    merge_commit_sha: str | None = None
    author: str = "promoter"  # the username that opened it (the token's user, for the API)


class FakeGitLab:
    def __init__(
        self, project: str = "acme/config", token: str = "glpat-fake",
        head_sha: Callable[[str], str] | None = None,
    ) -> None:
        self.project, self.token = project, token
        self.head_sha = head_sha or (lambda ref: hashlib.sha1(ref.encode()).hexdigest())
        self.users = {"alice": 11, "bob": 12, "carol": 13}
        self.mrs: dict[int, MergeRequest] = {}
        self.not_ready = 0  # answer the next N auto-merge requests with 405
        self.merge_on_auto_merge: str | None = None  # merge at once with this commit SHA
        self.close_on_create = False  # someone closes each new merge request at once
        # called with the source branch as a create request arrives, before it is handled:
        # e.g. another promoter run opening the merge request first
        self.before_create: Callable[[str], None] | None = None
        self.requests: list[tuple[str, str]] = []
        self.violations: list[str] = []
        self.failures: list[tuple[int, str, dict[str, str], str | None, str | None, list[int]]] = []
        self.url = ""
        self._serving: Any = None
        self.records = Records(self._check, self._user("promoter"))  # fakes.gitlab_records
        # the Commits API on the real bare repository (set commits.git_dir): --sign gitlab
        self.commits = Commits(self._check, self._user("promoter"),
                               lambda: f"{self.url}/{self.project}")

    def __enter__(self) -> FakeGitLab:
        self._serving = serving(self)
        self.url = self._serving.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._serving.__exit__(None, None, None)

    def fail(
        self, status: int, message: str = "fake failure", *, times: int = 1,
        headers: dict[str, str] | None = None, method: str | None = None, path: str | None = None,
    ) -> None:
        self.failures.append((status, message, headers or {}, method, path, [times]))

    def open_mr(self, source: str, target: str = "main", title: str = "t",
                description: str = "", author: str = "promoter") -> MergeRequest:
        iid = len(self.mrs) + 1
        self.mrs[iid] = MergeRequest(iid, source, target, title, description, author=author)
        return self.mrs[iid]

    def merge(self, iid: int, sha: str = "e" * 40) -> None:
        self.mrs[iid].state, self.mrs[iid].merge_commit_sha = "merged", sha

    # -- WSGI ------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        try:
            response = self.handle(request)
        except Exception as exc:  # a bug in the fake must fail the test
            self.violations.append(f"fake crashed on {request.method} {request.path}: {exc!r}")
            response = _json(500, {"message": "fake crashed"})
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        path = unquote(request.environ.get("RAW_URI", request.path).split("?")[0])
        self.requests.append((request.method, path))
        if request.headers.get("PRIVATE-TOKEN") != self.token:
            if request.headers.get("JOB-TOKEN") and "/merge_requests" in path:
                return _json(403, {"message": "403 Forbidden"})
            return _json(401, {"message": "401 Unauthorized"})
        for status, message, headers, method, part, left in self.failures:
            if method in (None, request.method) and (part or "") in path:
                left[0] -= 1
                if left[0] <= 0:
                    self.failures.remove((status, message, headers, method, part, left))
                return _json(status, {"message": message}, headers)
        return self._route(request, path.removeprefix("/api/v4"))

    def _check(self, what: str, instance: Any, schema: dict[str, Any]) -> None:
        self.violations += [f"{what}: {v}" for v in violations(instance, schema)]

    def _route(self, request: Request, path: str) -> Response:
        method, args = request.method, dict(request.args)
        if path == "/users" and method == "GET":
            self._check("GET /users query", args, REQUESTS["users"])
            name = args.get("username", "")
            found = [self._user(name)] if name in self.users else []
            return self._answer(200, found, array("user/basic.json"))
        project = f"/projects/{self.project}"
        if path.startswith(project + "/") and not path.startswith(project + "/merge_requests"):
            data = request.get_json(silent=True) or {}
            answer = (self.commits.route(path[len(project):], method, args, data)
                      or self.records.route(path[len(project):], method, args, data))
            if answer is None:
                return _json(404, {"message": "404 Not found"})
            status, body, schema = answer
            if "$ref" in schema:
                schema = vendored(schema["$ref"])
            elif "$ref" in schema.get("items", {}):
                schema = array(schema["items"]["$ref"])
            if status == 204:
                return Response(status=204)
            return self._answer(status, body, schema) if status < 400 else _json(status, body)
        prefix = f"/projects/{self.project}/merge_requests"
        if not path.startswith(prefix):
            return _json(404, {"message": "404 Project Not Found"})
        rest = path[len(prefix):]
        data = request.get_json(silent=True) or {}
        if rest == "" and method == "GET":
            self._check("list query", args, REQUESTS["list"])
            return self._list(args)
        if rest == "" and method == "POST":
            self._check("create body", data, REQUESTS["create"])
            return self._create(data)
        m = re.fullmatch(r"/(\d+)(/merge|/notes)?", rest)
        if not m or int(m.group(1)) not in self.mrs:
            return _json(404, {"message": "404 Not found"})
        return self._on_mr(self.mrs[int(m.group(1))], method, m.group(2) or "", data)

    def _on_mr(self, mr: MergeRequest, method: str, sub: str, data: dict[str, Any]) -> Response:
        if sub == "" and method == "GET":
            return self._mr_answer(200, mr)
        if sub == "" and method == "PUT":
            self._check("update body", data, REQUESTS["update"])
            self._update(mr, data)
            return self._mr_answer(200, mr)
        if sub == "/merge" and method == "PUT":
            self._check("merge body", data, REQUESTS["merge"])
            if self.not_ready > 0:
                self.not_ready -= 1
                return _json(405, {"message": "405 Method Not Allowed"})
            mr.auto_merge = bool(data.get("merge_when_pipeline_succeeds"))
            mr.squash = bool(data.get("squash", mr.squash))
            if self.merge_on_auto_merge:
                self.merge(mr.iid, self.merge_on_auto_merge)
            return self._mr_answer(200, mr)
        if sub == "/notes" and method == "POST":
            self._check("note body", data, REQUESTS["note"])
            mr.notes.append(data["body"])
            return _json(201, {"id": len(mr.notes), "body": data["body"], "noteable_iid": mr.iid})
        return _json(405, {"message": "405 Method Not Allowed"})

    def _list(self, args: dict[str, str]) -> Response:
        state = args.get("state", "all")
        found = [m for m in self.mrs.values() if state in ("all", m.state)
                 and args.get("source_branch", m.source) == m.source
                 and self._matches(m, args.get("search"), args.get("in", "title,description"))]
        items = [self._mr(m) for m in sorted(found, key=lambda m: -m.iid)]
        page, size = int(args.get("page", 1)), int(args.get("per_page", 20))
        headers = {"x-next-page": str(page + 1) if page * size < len(items) else ""}
        if page * size < len(items):
            query = "&".join(f"{k}={v}" for k, v in {**args, "page": str(page + 1)}.items())
            headers["Link"] = f'<{self.url}/api/v4/projects/{quote(self.project, safe="")}' \
                f'/merge_requests?{query}>; rel="next"'
        page_items = items[(page - 1) * size:page * size]
        self._check("response 200", page_items, array("merge_request.json"))
        return _json(200, page_items, headers)

    @staticmethod
    def _matches(mr: MergeRequest, search: str | None, where: str) -> bool:
        """GitLab's ``search`` (a substring of the title and/or description)."""
        if not search:
            return True
        fields = {"title": mr.title, "description": mr.description}
        return any(search.lower() in fields[name].lower() for name in where.split(","))

    def _create(self, data: dict[str, Any]) -> Response:
        if self.before_create:
            self.before_create(data["source_branch"])
        for mr in self.mrs.values():
            if mr.source == data["source_branch"] and mr.state == "opened":
                message = "Another open merge request already exists for this source branch"
                return _json(409, {"message": [f"{message}: !{mr.iid}"]})
        mr = self.open_mr(data["source_branch"], data["target_branch"], data["title"],
                          data.get("description", ""))
        mr.labels = [label for label in data.get("labels", "").split(",") if label]
        mr.assignees, mr.reviewers = data.get("assignee_ids", []), data.get("reviewer_ids", [])
        mr.remove_source_branch = bool(data.get("remove_source_branch"))
        mr.squash = bool(data.get("squash"))
        answer = self._mr_answer(201, mr)
        if self.close_on_create:
            mr.state = "closed"
        return answer

    def _update(self, mr: MergeRequest, data: dict[str, Any]) -> None:
        mr.title = data.get("title", mr.title)
        mr.description = data.get("description", mr.description)
        if "labels" in data:
            mr.labels = [label for label in data["labels"].split(",") if label]
        mr.labels += [x for x in data.get("add_labels", "").split(",") if x and x not in mr.labels]
        mr.assignees = data.get("assignee_ids", mr.assignees)
        mr.reviewers = data.get("reviewer_ids", mr.reviewers)
        mr.remove_source_branch = data.get("remove_source_branch", mr.remove_source_branch)
        if data.get("state_event") == "close":
            mr.state = "closed"

    # -- objects ---------------------------------------------------------------

    def _answer(self, status: int, body: Any, schema: dict[str, Any]) -> Response:
        self._check(f"response {status}", body, schema)
        return _json(status, body)

    def _mr_answer(self, status: int, mr: MergeRequest) -> Response:
        return self._answer(status, self._mr(mr), vendored("merge_request.json"))

    def _user(self, name: str) -> dict[str, Any]:
        uid = self.users.get(name, 1)
        return {"id": uid, "name": name.title(), "username": name, "state": "active",
                "avatar_url": None, "web_url": f"{self.url}/{name}"}

    def _by_id(self, uid: int) -> dict[str, Any]:
        name = next((n for n, i in self.users.items() if i == uid), "ghost")
        return self._user(name)

    def _mr(self, mr: MergeRequest) -> dict[str, Any]:
        done = mr.state in ("merged", "closed")
        stamp = "2026-01-02T00:00:00.000Z"
        return {
            "id": 1000 + mr.iid, "iid": mr.iid, "project_id": 7, "title": mr.title,
            "description": mr.description, "state": mr.state, "created_at": stamp,
            "updated_at": stamp, "merged_at": stamp if mr.state == "merged" else None,
            "closed_at": stamp if mr.state == "closed" else None,
            "target_branch": mr.target, "source_branch": mr.source, "upvotes": 0,
            "downvotes": 0, "author": self._user(mr.author),
            "assignee": self._by_id(mr.assignees[0]) if mr.assignees else None,
            "assignees": [self._by_id(u) for u in mr.assignees],
            "reviewers": [self._by_id(u) for u in mr.reviewers],
            "source_project_id": 7, "target_project_id": 7, "labels": mr.labels,
            "draft": mr.title.startswith("Draft:"),
            "work_in_progress": mr.title.startswith("Draft:"),
            "milestone": None, "merge_when_pipeline_succeeds": mr.auto_merge,
            "merge_status": "can_be_merged", "sha": self.head_sha(mr.source),
            "merge_commit_sha": mr.merge_commit_sha, "squash_commit_sha": None,
            "user_notes_count": len(mr.notes),
            "should_remove_source_branch": mr.remove_source_branch if done else None,
            "force_remove_source_branch": mr.remove_source_branch,
            "web_url": f"{self.url}/{self.project}/-/merge_requests/{mr.iid}",
            "squash": mr.squash,
        }


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {},
                    mimetype="application/json")
