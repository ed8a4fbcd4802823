"""GitLab (gitlab.com and self-managed) merge requests through python-gitlab.

python-gitlab is imported here only, and this module only when ``--forge gitlab``
is used. Its own 429 and 5xx retries are off (they sleep for real);
``retry.call`` retries with backoff, honouring Retry-After and RateLimit-Reset,
read from the last response through a session hook. SDK errors stay here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import gitlab
import requests
from gitlab.exceptions import GitlabError

from promoter.errors import AuthError, InputError, PromoterError, RetryableError
from promoter.forges import ForgeResult, ForgeSettings, PullRequest, PullRequestSpec, body
from promoter.forges.gitlab_errors import already_exists, translate
from promoter.forges.http import SafeSession
from promoter.forges.http_errors import transport_error
from promoter.http_safety import Limits
from promoter.retry import Backoff, call

T = TypeVar("T")
DEFAULT_URL = "https://gitlab.com"
DRAFT = "Draft: "
NOT_READY = (405, 406, 422)  # what GitLab answers to auto-merge right after creation


class _Gitlab(gitlab.Gitlab):
    """python-gitlab with its sleeping retries switched off; ours apply."""

    def http_request(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.update(obey_rate_limit=False, max_retries=0, retry_transient_errors=False)
        return super().http_request(*args, **kwargs)


def connect(settings: ForgeSettings, backoff: Backoff | None = None) -> GitLabForge:
    """A forge for the project ``settings.slug`` (``group/sub/project``)."""
    if not settings.slug or "/" not in settings.slug:
        raise InputError(
            f"cannot tell the GitLab project from {settings.repo!r};"
            " pass --repo https://gitlab.example/GROUP/PROJECT"
        )
    url = (settings.api_url or DEFAULT_URL).rstrip("/").removesuffix("/api/v4")
    token, job_token = settings.token, settings.job_token
    if token and token != job_token:
        job_token = None  # a job token (even passed as --token) goes in the JOB-TOKEN header
    else:
        token = None
    if not token and not job_token:
        raise AuthError(
            f"no GitLab credentials for {settings.slug};"
            " set PROMOTER_TOKEN (or GITLAB_TOKEN) to a token with the api scope"
        )
    backoff = backoff or Backoff()
    if backoff.budget is None:
        backoff = replace(backoff, budget=settings.timeout)
    return GitLabForge(url, settings.slug, token, job_token, backoff,
                       Limits.within(settings.timeout))


class GitLabForge:
    """One project on one GitLab server."""

    def __init__(
        self, url: str, slug: str, token: str | None, job_token: str | None, backoff: Backoff,
        limits: Limits | None = None,
    ) -> None:
        self.url, self.slug, self.backoff = url, slug, backoff
        self.headers: dict[str, str] = {}
        session = SafeSession(url, limits or Limits(), "GitLab")  # promoter.http_safety's rule
        session.hooks["response"].append(self._remember)
        self.gl = _Gitlab(url, private_token=token, job_token=job_token, timeout=30,
                          session=session)
        self.project = self.gl.projects.get(slug, lazy=True)
        self.users: dict[str, int] = {}

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.headers = dict(response.headers)

    # -- calls and errors ------------------------------------------------------

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        def guarded() -> T:
            try:
                return fn()
            except GitlabError as exc:
                raise self._error(exc, what) from exc
            except requests.RequestException as exc:
                raise transport_error(exc, self.url) from exc

        return call(guarded, self.backoff, f"{what} on {self.slug}")

    def _call_or_none(self, what: str, fn: Callable[[], T]) -> T | None:
        """``_call``, with None where GitLab answers 404 (the thing does not exist)."""
        def absent() -> T | None:
            try:
                return fn()
            except GitlabError as exc:
                if exc.response_code == 404:
                    return None
                raise

        return self._call(what, absent)

    def _error(self, exc: GitlabError, what: str) -> PromoterError:
        return translate(exc, slug=self.slug, what=what, headers=self.headers,
                         now=self.backoff.clock())

    # -- the Forge protocol ----------------------------------------------------

    def publish(self, spec: PullRequestSpec, changed: bool) -> ForgeResult:
        """One request for a no-op: the open MRs carrying this app and env's marker
        (which also finds the ones to supersede); a creation adds the create.
        Reviewer and assignee usernames are looked up only when they are missing."""
        title = (DRAFT if spec.draft else "") + body.title(spec)
        text = body.render(spec)
        marked = self._marked(spec)
        mr = next((m for m in marked if m["source_branch"] == spec.branch), None)
        new = None if mr else self._create(spec, title, text)
        if new is not None:
            mr, operation = new, "created"
        else:
            raced = mr is None  # another run created it between our find and our create
            mr, differs = self._update(mr or self._refind(spec.branch), spec, title, text)
            operation = "updated" if differs or changed or raced else "none"
        if spec.auto_merge and not mr.get("merge_when_pipeline_succeeds"):
            mr = self._auto_merge(mr["iid"], spec)
            operation = "updated" if operation == "none" else operation
        superseded = self._supersede(spec, mr, marked)
        return ForgeResult(_view(mr), operation, superseded)

    def _marked(self, spec: PullRequestSpec) -> list[dict[str, Any]]:
        return self._list(f"listing merge requests of {spec.app} in {spec.env}",
                          state="opened", search=f"promoter:{spec.app}/{spec.env}",
                          **{"in": "description"})

    def close(self, branch: str, note: str) -> PullRequest | None:
        mr = self._find(branch)  # by branch: the branch is proven promoter's own
        return None if mr is None else self._close(mr["iid"], note)

    def get(self, number: int) -> PullRequest:
        mr = self._call(f"reading merge request !{number}",
                        lambda: self.project.mergerequests.get(number).asdict())
        return _view(mr)

    # -- steps -----------------------------------------------------------------

    def _list(self, what: str, **filters: Any) -> list[dict[str, Any]]:
        managers = self.project.mergerequests
        return self._call(what, lambda: [
            m.asdict() for m in managers.list(get_all=True, **filters)
        ])

    def _find(self, branch: str) -> dict[str, Any] | None:
        found = self._list(f"listing merge requests for {branch}",
                           source_branch=branch, state="opened")
        return next((m for m in found if m["source_branch"] == branch), None)

    def _ids(self, names: tuple[str, ...]) -> list[int]:
        return [self._user_id(name.lstrip("@")) for name in names]

    def _user_id(self, name: str) -> int:
        if name not in self.users:
            found = self._call(f"looking up GitLab user {name}",
                               lambda: self.gl.users.list(username=name))
            if not found:
                raise PromoterError(f"GitLab user {name!r} not found;"
                                    " check --reviewer and --assignee usernames")
            self.users[name] = int(found[0].id)
        return self.users[name]

    def _create(self, spec: PullRequestSpec, title: str, text: str) -> dict[str, Any] | None:
        """The new merge request, or None if GitLab says one is open for the branch (409)."""
        data = {
            "source_branch": spec.branch, "target_branch": spec.base, "title": title,
            "description": text, "labels": ",".join(spec.labels),
            "assignee_ids": self._ids(spec.assignees),
            "reviewer_ids": self._ids(spec.reviewers),
            "remove_source_branch": spec.delete_branch,
            **_squash(spec),
        }
        managers = self.project.mergerequests

        def create() -> dict[str, Any] | None:
            try:
                return managers.create(data).asdict()
            except GitlabError as exc:
                if already_exists(exc):
                    return None
                raise

        return self._call(f"creating a merge request from {spec.branch} into {spec.base}",
                          create)

    def _refind(self, branch: str) -> dict[str, Any]:
        """The open merge request another run just created (looked up once)."""
        mr = self._find(branch)
        if mr is None:
            raise PromoterError(
                f"GitLab says an open merge request from {branch} already exists in"
                f" {self.slug}, but none is listed; run promoter again"
            )
        return mr

    def _update(
        self, mr: dict[str, Any], spec: PullRequestSpec, title: str, text: str
    ) -> tuple[dict[str, Any], bool]:
        data: dict[str, Any] = {}
        if mr["title"] != title:
            data["title"] = title
        if (mr.get("description") or "") != text:
            data["description"] = text
        missing = [label for label in spec.labels if label not in mr.get("labels", [])]
        if missing:
            data["add_labels"] = ",".join(missing)
        for key, names in (("assignee_ids", spec.assignees), ("reviewer_ids", spec.reviewers)):
            users = mr.get(key.replace("_ids", "s")) or []
            known = {u["username"] for u in users}
            absent = tuple(n for n in names if n.lstrip("@") not in known)
            if absent:  # look up only the usernames the MR does not have yet
                data[key] = [u["id"] for u in users] + self._ids(absent)
        if bool(mr.get("force_remove_source_branch")) != spec.delete_branch:
            data["remove_source_branch"] = spec.delete_branch
        if not data:
            return mr, False
        managers, iid = self.project.mergerequests, mr["iid"]
        return self._call(f"updating merge request !{iid}",
                          lambda: managers.update(iid, data)), True

    def _auto_merge(self, iid: int, spec: PullRequestSpec) -> dict[str, Any]:
        """Set auto-merge; ``retry.call`` retries (bounded) while GitLab is not ready yet."""
        what = f"setting auto-merge on merge request !{iid}"
        path = f"{self.project.mergerequests.path}/{iid}/merge"
        data = {"merge_when_pipeline_succeeds": True, "auto_merge": True,
                "should_remove_source_branch": spec.delete_branch, **_squash(spec)}

        def put() -> dict[str, Any]:
            try:
                result = self.gl.http_put(path, post_data=data)
            except GitlabError as exc:
                if exc.response_code in NOT_READY:
                    raise RetryableError(self._error(exc, what).message) from exc
                raise
            assert isinstance(result, dict)
            return result

        return self._call(what, put)

    def _supersede(
        self, spec: PullRequestSpec, keep: dict[str, Any], marked: list[dict[str, Any]]
    ) -> tuple[PullRequest, ...]:
        """Close the other promoter MRs of this app and env: on another branch of
        this project, opened by the same user as ``keep``, the marker last."""
        author = (keep.get("author") or {}).get("username")
        stale = [
            m for m in marked
            if m["iid"] != keep["iid"] and m["source_branch"] != spec.branch
            and (m.get("author") or {}).get("username") == author
            and m.get("source_project_id") == keep.get("source_project_id")
            and body.has_marker(m.get("description"), spec.app, spec.env)
        ]
        note = (f"Superseded by !{keep['iid']} ({keep['web_url']}): promoter now promotes"
                f" {spec.app} to {spec.env} from branch `{spec.branch}`.")
        return tuple(self._close(m["iid"], note) for m in stale)

    def _close(self, iid: int, note: str) -> PullRequest:
        what = f"closing merge request !{iid}"
        managers = self.project.mergerequests
        self._call(what, lambda: managers.get(iid, lazy=True).notes.create({"body": note}))
        return _view(self._call(what, lambda: managers.update(iid, {"state_event": "close"})))


def _squash(spec: PullRequestSpec) -> dict[str, bool]:
    """Squash only when asked; otherwise the project's squash setting decides."""
    return {"squash": True} if spec.merge_method == "squash" else {}


def _view(mr: dict[str, Any]) -> PullRequest:
    state = {"opened": "open", "locked": "open"}.get(mr["state"], mr["state"])
    merged = mr.get("merge_commit_sha") or mr.get("squash_commit_sha") or mr.get("sha")
    return PullRequest(
        number=mr["iid"], url=mr["web_url"], branch=mr["source_branch"],
        base=mr["target_branch"], state=state, title=mr["title"], head_sha=mr.get("sha") or "",
        merge_commit_sha=merged if state == "merged" else None,
        draft=bool(mr.get("draft", mr.get("work_in_progress"))),
        labels=tuple(mr.get("labels") or ()),
    )
