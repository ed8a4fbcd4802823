"""The fake GitLab's commit statuses and deployments (state and routes).

Request bodies and query strings are checked against schemas written from
GitLab's API docs (Commits API: "Set the pipeline status of a commit", "List
the statuses of a commit"; Deployments API: "Create a deployment", "Update a
deployment", "List project deployments"), with ``additionalProperties: false``.
Deployment responses are validated against GitLab's own
``public_api/v4/deployment.json``; commit status responses, for which GitLab
ships no schema, against ``STATUS`` below (the documented response fields).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fakes.gitlab_schema import TEXT, request_schemas

WHEN = "2026-01-02T00:00:00.000Z"
ID = 500  # deployment ids are global, iids count per project: keep them apart
STATES = ["pending", "running", "success", "failed", "canceled", "skipped"]
DEPLOYMENT_STATES = ["running", "success", "failed", "canceled", "blocked"]
REQUESTS = request_schemas({
    "status": {"required": ["state"], "properties": {
        "state": {"enum": STATES}, "ref": TEXT, "name": TEXT, "context": TEXT,
        "target_url": TEXT, "description": TEXT, "coverage": {"type": "number"},
        "pipeline_id": {"type": "integer"}}},
    "statuses": {"properties": {
        "ref": TEXT, "stage": TEXT, "name": TEXT, "pipeline_id": TEXT, "order_by": TEXT,
        "sort": {"enum": ["asc", "desc"]}, "all": TEXT, "page": TEXT, "per_page": TEXT}},
    "deployment": {"required": ["environment", "sha", "ref", "tag", "status"], "properties": {
        "environment": TEXT, "sha": TEXT, "ref": TEXT, "tag": {"type": "boolean"},
        "status": {"enum": DEPLOYMENT_STATES}}},
    "deployment update": {"required": ["status"], "properties": {
        "status": {"enum": DEPLOYMENT_STATES}}},
    "deployments": {"properties": {
        "order_by": {"enum": ["id", "iid", "created_at", "updated_at", "finished_at", "ref"]},
        "sort": {"enum": ["asc", "desc"]}, "updated_after": TEXT, "updated_before": TEXT,
        "finished_after": TEXT, "finished_before": TEXT, "environment": TEXT,
        "status": {"enum": ["created", *DEPLOYMENT_STATES]}, "page": TEXT, "per_page": TEXT}},
})
STATUS = {"type": "object", "required": [
    "id", "sha", "ref", "status", "name", "target_url", "description", "created_at",
    "started_at", "finished_at", "allow_failure", "coverage", "author"], "properties": {
    "id": {"type": "integer"}, "sha": TEXT, "ref": {"type": ["string", "null"]},
    "status": {"enum": STATES}, "name": TEXT,
    "target_url": {"type": ["string", "null"]}, "description": {"type": ["string", "null"]},
    "allow_failure": {"type": "boolean"}}}


@dataclass
class Status:
    id: int
    sha: str
    state: str
    name: str
    ref: str | None
    target_url: str | None
    description: str | None


@dataclass
class Deployment:
    id: int
    environment: str
    sha: str
    ref: str
    states: list[str]


class Records:
    """``route`` answers (status, body, schema) for the paths below /projects/ID."""

    def __init__(self, check: Callable[[str, Any, dict[str, Any]], None],
                 user: dict[str, Any]) -> None:
        self.check, self.user = check, user
        self.statuses: list[Status] = []
        self.deployments: dict[int, Deployment] = {}

    def states(self, sha: str) -> dict[str, str]:
        """name -> latest state on ``sha``."""
        return {s.name: s.state for s in self.statuses if s.sha == sha}

    def route(self, rest: str, method: str, args: dict[str, str],
              data: dict[str, Any]) -> tuple[int, Any, dict[str, Any]] | None:
        if (m := re.fullmatch(r"/statuses/([0-9a-f]{40})", rest)) and method == "POST":
            self.check("status body", data, REQUESTS["status"])
            return self._add_status(m.group(1), data)
        if m := re.fullmatch(r"/repository/commits/([0-9a-f]{40})/statuses", rest):
            self.check("statuses query", args, REQUESTS["statuses"])
            found = [s for s in self.statuses if s.sha == m.group(1)
                     and args.get("name", s.name) == s.name]
            return 200, [self._status(s) for s in reversed(found)], {
                "type": "array", "items": STATUS}
        if rest == "/deployments" and method == "GET":
            self.check("deployments query", args, REQUESTS["deployments"])
            return 200, self._list(args), {"type": "array", "items": {"$ref": "deployment.json"}}
        if rest == "/deployments" and method == "POST":
            self.check("deployment body", data, REQUESTS["deployment"])
            number = len(self.deployments) + 1
            self.deployments[number] = Deployment(number, data["environment"], data["sha"],
                                                  data["ref"], [data["status"]])
            return 201, self._deployment(self.deployments[number]), {"$ref": "deployment.json"}
        m = re.fullmatch(r"/deployments/(\d+)", rest)  # the id, not the iid
        if m and method == "PUT" and int(m.group(1)) - ID in self.deployments:
            self.check("deployment update body", data, REQUESTS["deployment update"])
            deployment = self.deployments[int(m.group(1)) - ID]
            deployment.states.append(data["status"])
            return 200, self._deployment(deployment), {"$ref": "deployment.json"}
        return None

    def _list(self, args: dict[str, str]) -> list[dict[str, Any]]:
        """GitLab's list: filtered by environment and status, ordered by id (the
        only order the fake keeps), one page."""
        found = [d for d in self.deployments.values()
                 if args.get("environment", d.environment) == d.environment
                 and args.get("status", d.states[-1]) == d.states[-1]]
        found.sort(key=lambda d: d.id, reverse=args.get("sort", "asc") == "desc")
        page, size = int(args.get("page", 1)), int(args.get("per_page", 20))
        return [self._deployment(d) for d in found[(page - 1) * size:page * size]]

    def _add_status(self, sha: str, data: dict[str, Any]) -> tuple[int, Any, dict[str, Any]]:
        status = Status(len(self.statuses) + 1, sha, data["state"],
                        data.get("name") or data.get("context") or "default", data.get("ref"),
                        data.get("target_url"), data.get("description"))
        self.statuses.append(status)
        return 201, self._status(status), STATUS

    def _status(self, s: Status) -> dict[str, Any]:
        return {"id": s.id, "sha": s.sha, "ref": s.ref, "status": s.state, "name": s.name,
                "target_url": s.target_url, "description": s.description,
                "created_at": WHEN, "started_at": None, "finished_at": None,
                "allow_failure": False, "coverage": None, "author": self.user}

    def _deployment(self, d: Deployment) -> dict[str, Any]:
        return {"id": ID + d.id, "iid": d.id, "ref": d.ref, "sha": d.sha, "created_at": WHEN,
                "updated_at": WHEN, "user": self.user, "deployable": None,
                "status": d.states[-1],
                "environment": {"id": 1, "name": d.environment, "slug": d.environment,
                                "external_url": None, "state": "available", "tier": "other"}}
