"""GitHub (and GitHub Enterprise) pull requests through PyGithub.

PyGithub is imported here only, and this module only when ``--forge github``
is used. Its own retries and request pacing are off: ``retry.call`` retries
5xx, 429 and secondary rate limits, honouring Retry-After and x-ratelimit-reset.
SDK errors are translated at this boundary and never leave it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException

from promoter.errors import AuthError, InputError, PromoterError
from promoter.forges import (
    ForgeResult,
    ForgeSettings,
    PullRequest,
    PullRequestSpec,
    body,
    github_auth,
    github_merge,
    github_supersede,
)
from promoter.forges.github_errors import SDK_CRASHES, already_exists, translate, unusable
from promoter.forges.github_views import DRAFT, Seen, view
from promoter.forges.http_errors import transport_error
from promoter.http_safety import Limits
from promoter.retry import Backoff, call

T = TypeVar("T")
log = logging.getLogger(__name__)
DEFAULT_API = "https://api.github.com"


def connect(settings: ForgeSettings, backoff: Backoff | None = None) -> GitHubForge:
    """A forge for ``settings.slug`` (``owner/name``) with a token or a GitHub App."""
    if not settings.slug or settings.slug.count("/") != 1:
        raise InputError(
            f"cannot tell the GitHub repository from {settings.repo!r};"
            " pass --repo https://github.com/OWNER/NAME"
        )
    api = (settings.api_url or DEFAULT_API).rstrip("/")
    github_auth.bind_connections(api, Limits.within(settings.timeout))
    backoff = backoff or Backoff()
    if backoff.budget is None:
        backoff = replace(backoff, budget=settings.timeout)
    forge = GitHubForge(api, settings.slug, backoff)
    forge.login(settings)
    return forge


class GitHubForge:
    """One repository on one GitHub server."""

    def __init__(self, api: str, slug: str, backoff: Backoff) -> None:
        self.api = api
        self.slug = slug
        self.owner = slug.split("/")[0]
        self.backoff = backoff
        self.gh: Github | None = None
        self.repository: Any = None
        self.delete_after_merge: set[str] = set()  # branches of --delete-branch

    def _client(self, auth: Any) -> Github:
        return Github(
            base_url=self.api, auth=auth, retry=None, timeout=30,
            seconds_between_requests=None, seconds_between_writes=None,
        )

    def login(self, settings: ForgeSettings) -> None:
        if settings.app_id and settings.app_private_key:
            self.gh = self._client(github_auth.installation_auth(
                self.api, self.slug, settings.app_id, settings.app_private_key, self._call))
            return
        token = settings.token
        if not token:
            raise AuthError(
                f"no GitHub credentials for {self.slug};"
                " set PROMOTER_TOKEN (or GITHUB_TOKEN), or pass --app-id and --app-private-key"
            )
        self.gh = self._client(Auth.Token(token))

    def git_token(self) -> str:
        """The token git should push with: with a GitHub App, a fresh
        installation token (``x-access-token`` as the user); else the token."""
        assert self.gh is not None
        auth: Any = self.gh.requester.auth
        return str(self._call("getting an installation token", "the App installed",
                              lambda: auth.token))

    # -- calls and errors ------------------------------------------------------

    def _call(
        self, what: str, need: str, fn: Callable[[], T], missing: str | None = None
    ) -> T:
        def guarded() -> T:
            try:
                return fn()
            except GithubException as exc:
                raise translate(exc, slug=self.slug, what=what, need=need, missing=missing,
                                now=self.backoff.clock()) from exc
            except requests.RequestException as exc:
                raise transport_error(exc, self.api) from exc
            except SDK_CRASHES as exc:  # PyGithub choking on an answer that is not GitHub's
                raise unusable(exc, what=what, slug=self.slug, api=self.api) from exc

        return call(guarded, self.backoff, f"{what} on {self.slug}")

    # -- the Forge protocol ----------------------------------------------------

    def _repo(self) -> Any:
        assert self.gh is not None
        gh = self.gh
        if self.repository is None:
            lazy = gh.withLazy(True)  # no request: the first call on it says if it exists
            self.repository = lazy.get_repo(self.slug)
        return self.repository

    def publish(self, spec: PullRequestSpec, changed: bool) -> ForgeResult:
        """One request for a no-op (find); a creation adds the create and one
        search for the promoter PRs it supersedes; labels, reviewers, assignees,
        draft and auto-merge cost one request each, only when they change.
        Auto-merge comes last: refused, it raises AutoMergeRefused with what
        was published."""
        repo = self._repo()
        if spec.delete_branch:
            self.delete_after_merge.add(spec.branch)
        title, text = body.title(spec), body.render(spec)
        pr = self._find(repo, spec.branch)
        new = None if pr else self._create(repo, spec, title, text)
        if new is not None:
            pr, operation = new, "created"
            merging = spec.auto_merge and pr.auto_merge is None
            seen = self._sync(pr, spec, title, text, review=True)
        else:
            raced = pr is None  # another run created it between our find and our create
            pr = pr or self._refind(repo, spec.branch)
            merging = spec.auto_merge and pr.auto_merge is None
            seen = self._sync(pr, spec, title, text, review=changed or raced)
            operation = "updated" if seen.changed or merging or changed or raced else "none"
        closed = github_supersede.supersede(self, spec, pr) if operation == "created" else ()
        published = ForgeResult(view(pr, labels=seen.labels, draft=seen.draft), operation, closed)
        return github_merge.auto_merge(self, pr, spec, published) if merging else published

    def close(self, branch: str, note: str) -> PullRequest | None:
        repo = self._repo()
        pr = self._find(repo, branch)
        return None if pr is None else self._close(pr, note)

    def get(self, number: int) -> PullRequest:
        repo = self._repo()
        pr = self._call(
            f"reading pull request #{number}", "pull-requests: read",
            lambda: repo.get_pull(number),
            missing=f"pull request #{number} not found in {self.slug}; check the number",
        )
        shown = view(pr)
        if shown.state == "merged" and shown.branch in self.delete_after_merge:
            self.delete_after_merge.discard(shown.branch)
            self._delete_branch(repo, shown.branch)
        return shown

    def _delete_branch(self, repo: Any, branch: str) -> None:
        """--delete-branch after a merge promoter waited for; best effort, since
        the repository setting "Automatically delete head branches" may have won."""
        assert self.gh is not None
        requester, url = self.gh.requester, f"{repo.url}/git/refs/heads/{branch}"
        try:
            self._call(f"deleting branch {branch}", "contents: write",
                       lambda: requester.requestJsonAndCheck("DELETE", url))
        except PromoterError as exc:
            log.warning("branch %s not deleted: %s", branch, exc)

    # -- steps -----------------------------------------------------------------

    def _find(self, repo: Any, branch: str) -> Any:
        def first() -> Any:
            pulls = repo.get_pulls(state="open", head=f"{self.owner}:{branch}")
            return next((p for p in pulls if p.head.ref == branch), None)

        return self._call(f"listing pull requests for {branch}", "pull-requests: read", first)

    def _create(self, repo: Any, spec: PullRequestSpec, title: str, text: str) -> Any:
        """The new pull request, or None if GitHub says one exists for the branch."""
        def create() -> Any:
            try:
                return repo.create_pull(
                    base=spec.base, head=spec.branch, title=title, body=text, draft=spec.draft
                )
            except GithubException as exc:
                if already_exists(exc):
                    return None
                raise

        return self._call(f"creating a pull request from {spec.branch} into {spec.base}",
                          "pull-requests: write", create)

    def _refind(self, repo: Any, branch: str) -> Any:
        """The open pull request another run just created (looked up once)."""
        pr = self._find(repo, branch)
        if pr is None:
            raise PromoterError(
                f"GitHub says a pull request from {branch} already exists in {self.slug},"
                f" but none is open for {self.owner}:{branch}; run promoter again"
            )
        return pr

    def _sync(
        self, pr: Any, spec: PullRequestSpec, title: str, text: str, review: bool
    ) -> Seen:
        """Bring the open PR in line with ``spec``; True if anything changed.
        Reviewers are (re-)requested only with ``review`` or a new title/body:
        a reviewer who has reviewed leaves the requested list, and asking again
        on a run that changed nothing would be noise."""
        what = f"updating pull request #{pr.number}"
        changed = False
        if pr.title != title or (pr.body or "") != text:
            self._call(what, "pull-requests: write", lambda: pr.edit(title=title, body=text))
            changed = review = True
        if bool(pr.draft) != spec.draft:
            self._graphql(what, DRAFT[spec.draft], {"id": pr.node_id})
            changed = True
        labels = self._labels(pr, spec.labels, what)
        changed |= labels != tuple(label.name for label in pr.labels)
        changed |= self._reviewers(pr, spec, what) if review else False
        changed |= self._assignees(pr, spec, what)
        return Seen(changed, labels, spec.draft)

    def _labels(self, pr: Any, labels: tuple[str, ...], what: str) -> tuple[str, ...]:
        """Add the missing ``labels``; the labels the PR has now."""
        have = tuple(label.name for label in pr.labels)
        missing = [label for label in labels if label not in have]
        if missing:  # {"labels": [...]}, the documented form (add_to_labels sends a bare list)
            assert self.gh is not None
            requester, url = self.gh.requester, f"{pr.issue_url}/labels"
            self._call(what, "pull-requests: write", lambda: requester.requestJsonAndCheck(
                "POST", url, input={"labels": missing}))
        return have + tuple(missing)

    def _reviewers(self, pr: Any, spec: PullRequestSpec, what: str) -> bool:
        users = {u.login for u in pr.requested_reviewers}
        teams = {t.slug for t in pr.requested_teams}
        want_users = [r for r in spec.reviewers if "/" not in r and r not in users]
        want_teams = [r.split("/", 1)[1] for r in spec.reviewers if "/" in r]
        want_teams = [t for t in want_teams if t not in teams]
        if want_users or want_teams:
            self._call(what, "pull-requests: write", lambda: pr.create_review_request(
                reviewers=want_users, team_reviewers=want_teams))
        return bool(want_users or want_teams)

    def _assignees(self, pr: Any, spec: PullRequestSpec, what: str) -> bool:
        assigned = {u.login for u in pr.assignees}
        assign = [a for a in spec.assignees if a not in assigned]
        if assign:
            self._call(what, "pull-requests: write", lambda: pr.add_to_assignees(*assign))
        return bool(assign)

    def _graphql(self, what: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        assert self.gh is not None
        requester = self.gh.requester
        _, answer = self._call(what, "pull-requests: write",
                               lambda: requester.graphql_query(query, variables))
        return dict((answer or {}).get("data") or {})

    def _close(self, pr: Any, note: str) -> PullRequest:
        what = f"closing pull request #{pr.number}"
        self._call(what, "pull-requests: write", lambda: pr.create_issue_comment(note))
        self._call(what, "pull-requests: write", lambda: pr.edit(state="closed"))
        return view(pr, state="closed")
