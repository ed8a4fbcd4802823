"""``--sign gitlab``: GitLab makes (and signs) the promotion commit.

Part of the GitLab adapter (no SDK import; the connected ``GitLabForge``'s
project and ``_call``). GitLab's Commits API has no compare-and-swap on a
branch head (``force`` overwrites whatever is there), and its Branches API
cannot move a branch at all. So GitLab never writes the promoter branch:

1. ``POST /projects/:id/repository/commits`` with ``start_sha`` = the base head
   and ``branch`` = a fresh temporary branch ``promoter-sign/<branch>/<random>``
   (no ``force``: GitLab refuses a branch that already exists), the files as
   base64 ``update``/``create`` actions, the message with its trailers;
2. ``GET .../commits/:sha/signature``: no signature (404) is refused before
   anything else moves (the instance does not sign the commits it creates);
3. git fetches that commit and pushes it to the promoter branch with
   ``--force-with-lease`` (the branch must still be where promoter read it, or
   not exist; for ``--direct`` a plain fast-forward push onto the base): the
   compare-and-swap happens in git's receive-pack, atomically; a lost race is
   answered like a rejected push (fetch, plan again, retry);
4. the temporary branch is deleted, whatever happened.

The signed object is the same commit whichever ref points at it, so the move
keeps GitLab's signature. The author is ``--author`` (``author_name``,
``author_email``), else the token's user; the committer is the one the
instance signs as (GitLab.com: ``GitLab <noreply@gitlab.com>``): the API has
no committer, so ``--committer`` is refused (promoter.forge_commit.check).
"""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import Mapping
from typing import Any

from promoter import git, git_remote, workspace
from promoter.errors import InputError, PromoterError
from promoter.forges.gitlab import GitLabForge

log = logging.getLogger(__name__)
PREFIX = "promoter-sign/"
FETCHED = "refs/promoter/signed"
UNSIGNED = (
    "--sign gitlab: GitLab did not sign the commit {sha} it made in {slug}: this instance"
    " does not sign the commits it creates (self-managed: give Gitaly a signing key,"
    " GitLab 17.0 or later; GitLab.com: turn on web-based commit signing for the group or"
    " project); configure it, or use --sign gpg or --sign ssh"
)


def attempt(forge: GitLabForge, ws: workspace.Workspace, branch: str, lease: str | None,
            files: Mapping[str, bytes], message: str,
            author: git.Identity | None = None) -> str | None:
    """The sha of the signed commit now at ``branch``, or None when another push
    won the race. ``lease`` None: a fast-forward onto ``branch`` (the base);
    ``author`` None: the token's user."""
    temporary = f"{PREFIX}{branch}/{secrets.token_hex(6)}"
    try:
        sha = create_commit(forge, temporary, ws, files, message, author)
        signature = signature_of(forge, sha)
        if signature is None:
            raise InputError(UNSIGNED.format(sha=sha, slug=forge.slug))
        log.info("GitLab signed %s (%s, %s)", sha, signature.get("signature_type"),
                 signature.get("verification_status"))
        fetched = git_remote.fetch(ws.git, ws.work, temporary, FETCHED)
        if fetched != sha:
            raise PromoterError(f"branch {temporary} of {forge.slug} moved to {fetched}"
                                f" instead of holding {sha}; run promoter again")
        pushed = git_remote.push(ws.git, ws.work, sha, branch, lease)
        return sha if pushed.ok else None
    finally:
        delete_branch(forge, temporary)


def create_commit(forge: GitLabForge, branch: str, ws: workspace.Workspace,
                  files: Mapping[str, bytes], message: str,
                  author: git.Identity | None = None) -> str:
    """The sha of the commit GitLab made on the new ``branch``, on ``ws.head``."""
    paths = sorted(files)
    kinds = git.object_types(ws.git, ws.work, ws.head, paths)
    data: dict[str, Any] = {
        "branch": branch, "start_sha": ws.head, "commit_message": message,
        "actions": [{"action": "update" if kinds[path] else "create", "file_path": path,
                     "encoding": "base64",
                     "content": base64.b64encode(files[path]).decode()} for path in paths],
    }
    if author is not None:
        data.update(author_name=author.name, author_email=author.email)
    commits = forge.project.commits
    made = forge._call(f"creating the promotion commit on {branch}",
                       lambda: commits.create(data))
    if list(made.parent_ids) != [ws.head]:
        raise PromoterError(f"GitLab made commit {made.id} of {forge.slug} on"
                            f" {made.parent_ids}, not on the base head {ws.head};"
                            " run promoter again")
    return str(made.id)


def signature_of(forge: GitLabForge, sha: str) -> dict[str, Any] | None:
    """GitLab's signature record of commit ``sha``, or None when it is unsigned."""
    commit = forge.project.commits.get(sha, lazy=True)
    found = forge._call_or_none(f"reading the signature of commit {sha}", commit.signature)
    return found if isinstance(found, dict) else None


def delete_branch(forge: GitLabForge, branch: str) -> None:
    """Delete the temporary ``branch`` (gone already: fine); a failure is logged,
    never raised over what already happened (the branch names itself as promoter's)."""
    branches = forge.project.branches
    try:
        forge._call_or_none(f"deleting the temporary branch {branch}",
                            lambda: branches.delete(branch))
    except PromoterError as exc:
        log.warning("could not delete the temporary branch %s of %s: %s; delete it by hand",
                    branch, forge.slug, exc.message)
