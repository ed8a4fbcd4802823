"""Commit ancestry from a git repository: "is the synced revision the merge
commit or a descendant of it?". A local path is used as is; a URL is cloned
once (bare, blobless) into a temporary directory (``local_repo``, removed on
every way out) and fetched again when the cluster names a commit it does not
know yet: still unknown after the fetch, it is no match (LookupError); a fetch
that fails is an error. git runs through ``promoter.git``
(stripped environment, never a prompt). With ``credentials`` (the token
promote would use for the URL: ``token_for``) git talks to the remote in
promoter's session, the token only in a credential helper scoped to the URL's
origin (``git_remote.session``); without, the user's own git credentials
apply. Every git command is bounded as in a
promotion: git's low-speed abort, and ``timeout`` seconds (verify's
``--timeout``) after which it is killed (WaitTimeout, exit 5). The
verification's deadline starts before the clone, which gets only the time left
(``local_repo``'s ``bound``); once the verification runs (``RepoAncestry.until``),
each fetch gets only the time left too, so neither the clone nor a fetch near
the end can stretch the run past --timeout.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path

from promoter import git, git_remote
from promoter.credentials import Credentials
from promoter.errors import AuthError, InputError, PromoterError, WaitTimeout
from promoter.retry import Clock
from promoter.verify.rules import Ancestry

ALL_BRANCHES = "+refs/heads/*:refs/remotes/origin/*"
Bound = tuple[Clock, float, str]  # a clock, the deadline on it, the setting that set it


def ambient(timeout: float | None = None) -> git.Git:
    """git with the user's own credentials (no promoter session), bounded: HTTP
    transfers that crawl are aborted, and a command is killed after ``timeout``."""
    bounds = [("http.lowSpeedLimit", git_remote.LOW_SPEED),
              ("http.lowSpeedTime", git_remote.LOW_SPEED_TIME)]
    return git.with_config(git.Git(timeout=timeout or None, limit="--timeout"), bounds, {})


_AMBIENT = ambient()


def token_for(url: str | None, environ: Mapping[str, str]) -> Credentials | None:
    """The credentials promote would use for ``url`` (its environment variables,
    by the forge the URL's host names), None for no URL or a local one."""
    from promoter import credentials, remote

    if url is None or git_remote.http_origin(url) is None:
        return None
    return credentials.from_env(environ, remote.infer_forge(url, environ))


def remote_git(url: str, found: Credentials | None, timeout: float | None) -> git.Git:
    """git for talking to ``url``: promoter's session with ``found``, else ambient;
    its command timeout is verify's ``--timeout``."""
    if found is None:
        return ambient(timeout)
    return replace(git_remote.session(url, found, timeout or None), limit="--timeout")


def is_ancestor(repo_dir: str, ancestor: str, descendant: str,
                session: git.Git = _AMBIENT) -> bool:
    """``git merge-base --is-ancestor``; raises LookupError when a commit is unknown.
    In a partial clone git fetches a commit it lacks from origin itself (a lazy
    fetch): ``session`` bounds that and carries its credentials."""
    found = git.is_ancestor(session, Path(repo_dir), ancestor, descendant)
    if found is None:
        raise LookupError(f"{ancestor} or {descendant} is not in {repo_dir}")
    return found


def fetch_all(repo_dir: str, session: git.Git = _AMBIENT, refspec: str = ALL_BRANCHES) -> None:
    """Fetch ``refspec`` (every branch) of origin, blobless, unshallowing a shallow clone."""
    git_remote.fetch_history(session, Path(repo_dir), refspec)


def repo_url(repo: str) -> str | None:
    """The URL of ``repo`` (a URL, or a local clone: its origin), None if unknown."""
    return git.origin_url(_AMBIENT, Path(repo)) if os.path.isdir(repo) else repo


@contextlib.contextmanager
def local_repo(repo: str, timeout: float | None = None, found: Credentials | None = None,
               bound: Bound | None = None) -> Iterator[str]:
    """``repo`` itself when it is a directory, else a bare blobless clone of the URL
    in a temporary directory (with ``found``, else ambient git credentials; the
    clone bounded by ``timeout``, and with ``bound`` (see ``_within``) by the
    time left until the verification's deadline), removed when the block ends:
    normally, on an error, on KeyboardInterrupt."""
    if os.path.isdir(repo):
        yield repo
        return
    path = tempfile.mkdtemp(prefix="promoter-verify-")
    try:
        _clone(repo, path, _within(remote_git(repo, found, timeout), bound))
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _clone(url: str, path: str, session: git.Git) -> None:
    try:
        git_remote.clone_bare(session, url, Path(path))
    except WaitTimeout as exc:
        raise WaitTimeout(f"cloning {url} for ancestry checks: {exc.message}") from None
    except AuthError as exc:
        raise AuthError(f"cannot clone {url} for ancestry checks: {exc.message}") from None
    except PromoterError as exc:
        raise InputError(f"cannot clone {url} for ancestry checks: {exc.message}") from None


def _fetcher(path: str) -> Callable[[git.Git], object]:
    """``fetch_all`` of ``path``, or nothing to do when it has no origin to fetch from."""
    if repo_url(path) is None:
        return lambda session: None
    return lambda session: fetch_all(path, session)


class RepoAncestry:
    """Ancestry over the repository at ``path`` (see ``local_repo``), cached per
    pair; called as ``(ancestor, descendant)``.

    Its git commands run in ``session``; ``fetch(session)`` brings new commits
    in, before the first check when the clone is shallow and when a commit is
    unknown. ``until(clock, deadline)`` is the same ancestry with each git
    command bounded by the time left until ``deadline`` (the verification's:
    ``promoter.verify.run`` binds it), not by a timeout of its own."""

    def __init__(self, path: str, session: git.Git, fetch: Callable[[git.Git], object]) -> None:
        self.path, self.session, self.fetch = path, session, fetch
        self.cache: dict[tuple[str, str], bool] = {}
        self.lock = threading.Lock()
        self.fresh = False

    def __call__(self, ancestor: str, descendant: str) -> bool:
        return self.check(ancestor, descendant, None)

    def until(self, clock: Clock, deadline: float, limit: str = "--timeout") -> Ancestry:
        bound = (clock, deadline, limit)
        return lambda ancestor, descendant: self.check(ancestor, descendant, bound)

    def check(self, ancestor: str, descendant: str, bound: Bound | None) -> bool:
        with self.lock:
            key = (ancestor, descendant)
            if key in self.cache:
                return self.cache[key]
            if not self.fresh and git.is_shallow(self.session, Path(self.path)):
                self.fetch(_within(self.session, bound))
                self.fresh = True
            try:
                self.cache[key] = is_ancestor(self.path, ancestor, descendant,
                                              _within(self.session, bound))
            except LookupError:
                self.fetch(_within(self.session, bound))
                self.cache[key] = is_ancestor(self.path, ancestor, descendant,
                                              _within(self.session, bound))
            return self.cache[key]


def _within(session: git.Git, bound: Bound | None) -> git.Git:
    """``session`` with its command timeout cut to the time left until the
    deadline of ``bound`` (clock, deadline, and the setting that sets it, for
    the error); WaitTimeout when none is left."""
    if bound is None:
        return session
    clock, deadline, limit = bound
    left = deadline - clock.now()
    if left <= 0:
        raise WaitTimeout(f"no time left of {limit} for the ancestry check's git command; "
                          f"raise {limit}")
    if session.timeout is not None and session.timeout <= left:
        return session
    # to a tenth of a second, as the error says it ("took longer than --timeout (1.9s")
    return replace(session, timeout=max(round(left, 1), 0.1), limit=limit)


def repo_ancestry(path: str, fetch: Callable[[git.Git], object] | None = None,
                  timeout: float | None = None, found: Credentials | None = None,
                  session: git.Git | None = None) -> RepoAncestry:
    """A ``RepoAncestry`` over ``path``. Its session: ``session``, else
    ``remote_git`` for path's origin with ``found``, each command bounded by
    ``timeout``; its fetch: ``fetch``, else ``fetch_all`` of origin."""
    url = repo_url(path)
    local = session or (remote_git(url, found, timeout) if url else ambient(timeout))
    return RepoAncestry(path, local, fetch or _fetcher(path))
