"""GitLab's records (promoter.forges.records): commit statuses and deployments.

Part of the GitLab adapter: it works through the connected ``GitLabForge``
(python-gitlab's project, its ``_call`` for retries and error translation) and
imports no SDK. The token needs the api scope and the Developer role
(Reporter can read statuses for the gate, and deployments for ``status``).
GitLab has no "inactive" deployment state: the environment shows its newest
successful deployment, which supersedes the previous one by itself.

A GitLab deployment carries no payload, so ``last`` names the app from the
deployed commit: promoter's commit says ``Promoted-by: promoter`` and ``Image:
<the reference it wrote>``; a merge commit is read through its merged parent
(the merge request's head). The newest deployment of the environment whose
image is the app's image repository is the app's. A squash merge keeps only the
merge request's title, so its deployments name no app and are passed over.
"""

from __future__ import annotations

import re
from typing import Any

from promoter.forges.gitlab import GitLabForge
from promoter.forges.records import DeploymentSpec, Recorded, context
from promoter.images import ImageRef, same_repository, try_parse

STATUS = {"success": "success", "failure": "failed", "error": "failed", "pending": "pending"}
DEPLOYMENT = {"in_progress": "running", "success": "success", "failure": "failed",
              "error": "canceled"}
STATE = {"created": "pending", "running": "in_progress", "success": "success",
         "failed": "failure", "canceled": "error", "blocked": "pending"}  # GitLab -> promoter
SCAN = 100  # deployments of an environment looked at, newest first
PROMOTED = re.compile(r"^Promoted-by: promoter\b", re.MULTILINE)
IMAGE = re.compile(r"^Image: (\S+)\s*$", re.MULTILINE)


def records(forge: GitLabForge) -> GitLabRecords:
    return GitLabRecords(forge)


class GitLabRecords:
    def __init__(self, forge: GitLabForge) -> None:
        self.forge = forge
        self.listed: dict[str, list[dict[str, Any]]] = {}  # env -> its newest deployments
        self.images: dict[str, ImageRef | None] = {}  # commit -> the image it promoted

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

    def last(self, app: str, env: str, image: str) -> dict[str, Any] | None:
        for deployment in self._deployments(env):
            found = self._image(str(deployment["sha"]))
            if found is not None and same_repository(found.repository, image):
                return {"id": deployment["id"], "image": str(found),
                        "state": STATE.get(deployment["status"], deployment["status"]),
                        "commit": deployment["sha"]}
        return None

    def _deployments(self, env: str) -> list[dict[str, Any]]:
        if env not in self.listed:
            manager = self.forge.project.deployments
            self.listed[env] = self.forge._call(
                f"listing the deployments of {env}", lambda: [d.asdict() for d in manager.list(
                    environment=env, order_by="id", sort="desc", per_page=SCAN,
                    get_all=False)])
        return self.listed[env]

    def _image(self, sha: str, merged: bool = False) -> ImageRef | None:
        """The image promoter's commit ``sha`` (or the parent a merge commit
        merged) wrote, or None when it is no commit of promoter's."""
        if sha not in self.images:
            commits = self.forge.project.commits
            commit = self.forge._call_or_none(f"reading commit {sha}",
                                              lambda: commits.get(sha).asdict()) or {}
            text = str(commit.get("message") or "")  # no commit (gone since): no app
            image = IMAGE.search(text) if PROMOTED.search(text) else None
            parents = commit.get("parent_ids") or []
            if image is not None:
                self.images[sha] = try_parse(image.group(1))
            elif len(parents) == 2 and not merged:
                self.images[sha] = self._image(str(parents[1]), merged=True)
            else:
                self.images[sha] = None
        return self.images[sha]
