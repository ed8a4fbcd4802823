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
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.testing import MockRequest
from werkzeug.wrappers import Request, Response

from fakes.github_graphql import answer as graphql_answer
from fakes.github_pulls import (
    Pull,
    create,
    error,
    json_response,
    listed,
    on_pull,
    page,
    pull_json,
    user,
)
from fakes.github_records import Records
from fakes.github_schema import details, documented, make, openapi
from fakes.schemas import serving

__all__ = ["FakeGitHub", "Pull"]


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
                                    user(self, "promoter"))
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
            response = error(500, "fake crashed")
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        self.requests.append((request.method, request.path))
        graphql = self.prefix.removesuffix("/v3") + "/graphql"
        path = "/graphql" if request.path == graphql else request.path
        if path != "/graphql" and not path.startswith(self.prefix):
            return error(404, "Not Found")
        path = path if path == "/graphql" else path[len(self.prefix):]
        if not self._authorized(request, path):
            return error(401, "Bad credentials")
        failure = self._failure(request.method, path)
        if failure:
            return failure
        if path == "/graphql":
            return graphql_answer(self, request)
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
            return error(failure.status, failure.message, failure.headers)
        return None

    # -- REST --------------------------------------------------------------------

    def _rest(self, request: Request, path: str) -> Response:
        api = openapi(self.prefix)
        wrapped = self._openapi_request(request, path)
        try:
            api.validate_request(wrapped)
        except Exception as exc:
            self.violations.append(f"request {request.method} {path}: {details(exc)}")
            return error(422, f"request violates the schema: {exc}")
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
            return error(404, "Not Found")
        rest, method = m.group(3) or "", request.method
        if rest == "" and method == "GET":
            return json_response(200, make("full-repository", **self._repo_fields()))
        if rest.startswith("/git/refs/heads/") and method == "DELETE":
            self.deleted.append(rest.removeprefix("/git/refs/heads/"))
            return Response(status=204)
        if rest == "/installation":
            return json_response(200, make("installation", id=self.installation_id,
                                   account=user(self, self.owner)))
        answer = self.records.route(rest, method, request.args, data, self._sha_of)
        if answer is not None:
            return answer
        if rest == "/pulls" and method == "GET":
            return page(request, [pull_json(self, p, "pull-request-simple")
                                  for p in listed(self, request)])
        if rest == "/pulls" and method == "POST":
            return create(self, data)
        m = re.fullmatch(r"/(pulls|issues)/(\d+)(/[a-z_]+)?", rest)
        if not m or int(m.group(2)) not in self.pulls:
            return error(404, "Not Found")
        return on_pull(self, self.pulls[int(m.group(2))], method, m.group(3) or "", data)

    def _access_token(self, installation: int) -> Response:
        if installation != self.installation_id:
            return error(404, "Not Found")
        token = f"ghs_installation_{len(self.issued)}"
        self.issued.add(token)
        return json_response(201, make("installation-token", token=token,
                               expires_at="2099-01-01T00:00:00Z"))

    def _sha_of(self, ref: str) -> str | None:
        """A full sha stays itself; a branch name is its head."""
        return ref if re.fullmatch(r"[0-9a-f]{40}", ref) else self.head_sha(ref)

    # -- objects ---------------------------------------------------------------

    def _repo_fields(self) -> dict[str, Any]:
        return {
            "name": self.name, "full_name": f"{self.owner}/{self.name}",
            "node_id": f"R_{self.name}",
            "owner": user(self, self.owner),
            "url": f"{self.api_url}/repos/{self.owner}/{self.name}",
            "html_url": f"{self.url}/{self.owner}/{self.name}", "default_branch": "main",
        }
