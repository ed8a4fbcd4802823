"""GitLab's records (promoter.forges.records): commit statuses and deployments.

Part of the GitLab adapter: it works through the connected ``GitLabForge``
(python-gitlab's project, its ``_call`` for retries and error translation) and
imports no SDK. The token needs the api scope and the Developer role
(Reporter can read statuses for the gate). GitLab has no "inactive"
deployment state: the environment shows its newest successful deployment, which
supersedes the previous one by itself.
"""

from __future__ import annotations

from typing import Any

from promoter.errors import InputError
from promoter.forges.gitlab import GitLabForge
from promoter.forges.records import DeploymentSpec, Recorded, context

STATUS = {"success": "success", "failure": "failed", "error": "failed", "pending": "pending"}
DEPLOYMENT = {"in_progress": "running", "success": "success", "failure": "failed",
              "error": "canceled"}


def records(forge: GitLabForge) -> GitLabRecords:
    return GitLabRecords(forge)


class GitLabRecords:
    def __init__(self, forge: GitLabForge) -> None:
        self.forge = forge

    def _commit(self, sha: str) -> Any:
        return self.forge.project.commits.get(sha, lazy=True)

    def status(self, sha: str, env: str) -> str | None:
        name = context(env)
        found = self.forge._call(
            f"reading the commit status {name} of {sha}",
            lambda: self._commit(sha).statuses.list(name=name, per_page=100, get_all=False))
        if not found:
            return None
        state = str(max(found, key=lambda s: s.id).status)
        return "failure" if state == "failed" else state

    def set_status(self, sha: str, env: str, state: str, description: str,
                   url: str | None) -> None:
        body: dict[str, Any] = {"state": STATUS[state], "name": context(env),
                                "description": description[:255]}
        if url:
            body["target_url"] = url
        self.forge._call(f"writing the commit status {context(env)} on {sha}",
                         lambda: self._commit(sha).statuses.create(body))

    def start(self, spec: DeploymentSpec) -> str:
        project = self.forge.project
        deployment = self.forge._call(
            f"recording the deployment of {spec.app} to {spec.env}",
            lambda: project.deployments.create({
                "environment": spec.env, "sha": spec.ref, "ref": spec.branch or spec.ref,
                "tag": False, "status": DEPLOYMENT["in_progress"]}))
        return str(deployment.id)

    def finish(self, deployment: str, spec: DeploymentSpec, state: str) -> Recorded:
        project = self.forge.project
        self.forge._call(f"setting deployment {deployment} of {spec.app} to {state}",
                         lambda: project.deployments.update(
                             int(deployment), {"status": DEPLOYMENT[state]}))
        return Recorded(deployment, state)

    def last(self, app: str, env: str) -> dict[str, Any] | None:
        raise InputError("status --deployments: GitLab deployments carry no payload, so"
                         f" they cannot tell which app ({app}) was deployed to {env};"
                         " see the project's Environments page")
