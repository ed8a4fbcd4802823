"""The fake GitHub's commit statuses and deployments (state and routes).

Requests and responses are validated by FakeGitHub against the vendored REST
subset (``rest-pr-flow.openapi.json``: statuses create/list/combined,
deployments create/list, deployment statuses create/list); this module only
keeps the state and answers with schema-built objects (``make``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Response

from fakes.github_pulls import json_response
from fakes.github_schema import make, make_item

WHEN = "2026-01-02T00:00:00Z"


@dataclass
class Status:
    sha: str
    state: str
    context: str
    description: str | None = None
    target_url: str | None = None


@dataclass
class Deployment:
    id: int
    sha: str
    ref: str
    environment: str
    task: str
    payload: Any
    description: str | None
    production_environment: bool
    statuses: list[dict[str, Any]] = field(default_factory=list)  # request bodies, in order


class Records:
    """Commit statuses (newest last) and deployments of one repository."""

    def __init__(self, base: str, user: Any) -> None:
        self.base, self.user = base, user  # the repository's API URL, the acting user
        self.statuses: list[Status] = []
        self.deployments: dict[int, Deployment] = {}

    def states(self, sha: str) -> dict[str, str]:
        """context -> latest state on ``sha``."""
        return {s.context: s.state for s in self.statuses if s.sha == sha}

    def route(self, rest: str, method: str, args: Any, data: Any,
              resolve: Any) -> Response | None:
        """The answer for ``rest`` (path below /repos/o/r), or None: not ours."""
        if m := re.fullmatch(r"/statuses/([0-9a-f]{40})", rest):
            return self._add_status(m.group(1), data) if method == "POST" else None
        if m := re.fullmatch(r"/commits/([^/]+)/(status|statuses)", rest):
            sha = resolve(m.group(1)) or m.group(1)
            return self._combined(sha) if m.group(2) == "status" else self._list(sha)
        if rest == "/deployments":
            return self._create(data, resolve) if method == "POST" else self._deployments(args)
        if m := re.fullmatch(r"/deployments/(\d+)/statuses", rest):
            deployment = self.deployments.get(int(m.group(1)))
            if deployment is None:
                return json_response(404, {"message": "Not Found",
                                   "documentation_url": "https://docs.github.com/rest"})
            if method == "POST":
                return self._add_deployment_status(deployment, data)
            return json_response(200, [self._deployment_status(deployment, i, s)
                               for i, s in reversed(list(enumerate(deployment.statuses)))])
        return None

    # -- commit statuses ----------------------------------------------------------

    def _add_status(self, sha: str, data: dict[str, Any]) -> Response:
        status = Status(sha, data["state"], data.get("context", "default"),
                        data.get("description"), data.get("target_url"))
        self.statuses.append(status)
        return json_response(201, self._status("status", len(self.statuses), status))

    def _status(self, schema: str, number: int, status: Status) -> Any:
        fields = dict(id=number, state=status.state, context=status.context,
                      description=status.description, target_url=status.target_url,
                      url=f"{self.base}/statuses/{status.sha}",
                      created_at=WHEN, updated_at=WHEN)
        if schema == "status":
            return make("status", creator=self.user, **fields)
        return make_item("combined-commit-status", "statuses", **fields)

    def _latest(self, sha: str) -> list[tuple[int, Status]]:
        latest: dict[str, tuple[int, Status]] = {}
        for number, status in enumerate(self.statuses, start=1):
            if status.sha == sha:
                latest[status.context.lower()] = (number, status)
        return list(latest.values())

    def _combined(self, sha: str) -> Response:
        found = self._latest(sha)
        states = {s.state for _, s in found}
        state = ("failure" if states & {"failure", "error"} else
                 "pending" if not states or "pending" in states else "success")
        return json_response(200, make(
            "combined-commit-status", state=state, sha=sha, total_count=len(found),
            statuses=[self._status("item", n, s) for n, s in found],
            commit_url=f"{self.base}/commits/{sha}", url=f"{self.base}/commits/{sha}/status"))

    def _list(self, sha: str) -> Response:
        mine = [(n, s) for n, s in enumerate(self.statuses, start=1) if s.sha == sha]
        return json_response(200, [self._status("status", n, s) for n, s in reversed(mine)])

    # -- deployments --------------------------------------------------------------

    def _create(self, data: dict[str, Any], resolve: Any) -> Response:
        sha = resolve(data["ref"])
        if sha is None:
            return json_response(422, {"message": f"No ref found for: {data['ref']}",
                               "documentation_url": "https://docs.github.com/rest"})
        number = len(self.deployments) + 1
        self.deployments[number] = Deployment(
            number, sha, data["ref"], data.get("environment", "production"),
            data.get("task", "deploy"), data.get("payload", ""), data.get("description"),
            bool(data.get("production_environment", False)))
        return json_response(201, self._deployment(self.deployments[number]))

    def _deployments(self, args: Any) -> Response:
        chosen = [d for d in self.deployments.values()
                  if all(args.get(k) in (None, getattr(d, k))
                         for k in ("environment", "sha", "ref", "task"))]
        newest = sorted(chosen, key=lambda d: -d.id)
        return json_response(200, [self._deployment(d) for d in newest])

    def _deployment(self, d: Deployment) -> Any:
        url = f"{self.base}/deployments/{d.id}"
        return make("deployment", id=d.id, node_id=f"DE_{d.id}", sha=d.sha, ref=d.ref,
                    task=d.task, payload=d.payload, environment=d.environment,
                    original_environment=d.environment, description=d.description,
                    creator=self.user, created_at=WHEN, updated_at=WHEN, url=url,
                    statuses_url=f"{url}/statuses", repository_url=self.base,
                    production_environment=d.production_environment)

    def _add_deployment_status(self, d: Deployment, data: dict[str, Any]) -> Response:
        d.statuses.append(data)
        return json_response(201, self._deployment_status(d, len(d.statuses) - 1, data))

    def _deployment_status(self, d: Deployment, index: int, data: dict[str, Any]) -> Any:
        url = f"{self.base}/deployments/{d.id}"
        return make("deployment-status", id=d.id * 1000 + index, node_id=f"DES_{d.id}_{index}",
                    state=data["state"], creator=self.user,
                    description=data.get("description", ""),
                    environment=data.get("environment", d.environment),
                    target_url=data.get("target_url", data.get("log_url", "")),
                    log_url=data.get("log_url", data.get("target_url", "")),
                    environment_url=data.get("environment_url", ""),
                    deployment_url=url, repository_url=self.base,
                    url=f"{url}/statuses/{d.id * 1000 + index}",
                    created_at=WHEN, updated_at=WHEN)

    def last_state(self, d: Deployment) -> str | None:
        return d.statuses[-1]["state"] if d.statuses else None
