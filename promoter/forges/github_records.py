"""GitHub's records (promoter.forges.records): commit statuses and Deployments.

Part of the GitHub adapter: it works through the connected ``GitHubForge``
(PyGithub objects, its ``_call`` for retries and error translation) and
imports no SDK. Permissions: ``statuses: write`` (``statuses: read`` for the
gate), ``deployments: write``.
"""

from __future__ import annotations

import itertools
from typing import Any

from promoter.forges.github import GitHubForge
from promoter.forges.records import DeploymentSpec, Recorded, context

TASK = "deploy"
SCAN = 100  # deployments of an environment looked at for an app's newest one


def records(forge: GitHubForge) -> GitHubRecords:
    return GitHubRecords(forge)


class GitHubRecords:
    def __init__(self, forge: GitHubForge) -> None:
        self.forge = forge
        self.started: dict[str, Any] = {}  # id -> PyGithub Deployment

    def _request(self, what: str, need: str, method: str, path: str,
                 body: dict[str, Any] | None = None,
                 parameters: dict[str, Any] | None = None) -> Any:
        repo, forge = self.forge._repo(), self.forge
        assert forge.gh is not None
        requester = forge.gh.requester
        return forge._call(what, need, lambda: requester.requestJsonAndCheck(
            method, f"{repo.url}{path}", parameters=parameters, input=body)[1])

    def status(self, sha: str, env: str) -> str | None:
        combined = self._request(f"reading the commit status of {sha}", "statuses: read",
                                 "GET", f"/commits/{sha}/status", parameters={"per_page": 100})
        name = context(env).lower()
        found = [s["state"] for s in combined.get("statuses", [])
                 if str(s.get("context", "")).lower() == name]
        return found[0] if found else None

    def set_status(self, sha: str, env: str, state: str, description: str,
                   url: str | None) -> None:
        body: dict[str, Any] = {"state": state, "context": context(env),
                                "description": description[:140]}
        if url:
            body["target_url"] = url
        self._request(f"writing the commit status {context(env)} on {sha}",
                      "statuses: write", "POST", f"/statuses/{sha}", body)

    def start(self, spec: DeploymentSpec) -> str:
        repo = self.forge._repo()
        payload = {"app": spec.app, "image": spec.image, "config_commit": spec.ref,
                   "source_commit": spec.source_commit}
        deployment = self.forge._call(
            f"recording the deployment of {spec.app} to {spec.env}", "deployments: write",
            lambda: repo.create_deployment(
                ref=spec.ref, task=TASK, auto_merge=False, required_contexts=[],
                payload=payload, environment=spec.env,
                description=f"promoter: {spec.app} {spec.image}"[:140]))
        self.started[str(deployment.id)] = deployment
        self._state(deployment, spec, "in_progress")
        return str(deployment.id)

    def finish(self, deployment: str, spec: DeploymentSpec, state: str) -> Recorded:
        current = self.started[deployment]
        self._state(current, spec, state)
        superseded = self._previous(current, spec) if state == "success" else None
        if superseded is not None:
            self._state(superseded, spec, "inactive")
        return Recorded(deployment, state, None if superseded is None else str(superseded.id))

    def _state(self, deployment: Any, spec: DeploymentSpec, state: str) -> None:
        extra: dict[str, Any] = {}
        if spec.log_url:
            extra["target_url"] = spec.log_url
        if spec.environment_url and state != "inactive":
            extra["environment_url"] = spec.environment_url
        self.forge._call(
            f"setting deployment {deployment.id} of {spec.app} to {state}",
            "deployments: write",
            lambda: deployment.create_status(
                state, description=f"{spec.app} {spec.image}"[:140], environment=spec.env,
                auto_inactive=False, **extra))

    def last(self, app: str, env: str, image: str) -> dict[str, Any] | None:
        del image  # the payload names the app
        repo = self.forge._repo()

        def find() -> dict[str, Any] | None:
            listed = repo.get_deployments(environment=env, task=TASK)
            for deployment in itertools.islice(listed, SCAN):
                payload = deployment.payload if isinstance(deployment.payload, dict) else {}
                if payload.get("app") != app:
                    continue
                latest = next(iter(deployment.get_statuses()), None)
                return {"id": deployment.id, "state": latest.state if latest else "pending",
                        "image": payload.get("image"), "commit": deployment.sha}
            return None

        return self.forge._call(f"listing the deployments of {env}", "deployments: read", find)

    def _previous(self, current: Any, spec: DeploymentSpec) -> Any:
        """The newest earlier deployment of this app here whose last state is success."""
        repo = self.forge._repo()

        def find() -> Any:
            for deployment in repo.get_deployments(environment=spec.env, task=TASK):
                payload = deployment.payload if isinstance(deployment.payload, dict) else {}
                if deployment.id == current.id or payload.get("app") != spec.app:
                    continue
                latest = next(iter(deployment.get_statuses()), None)
                return deployment if latest is not None and latest.state == "success" else None
            return None

        return self.forge._call(f"listing the deployments of {spec.env}", "deployments: read",
                                find)
