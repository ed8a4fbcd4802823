"""``--sign github`` / ``--sign gitlab``: one attempt at the promotion commit
through the forge (promoter.forges.github_commit, promoter.forges.gitlab_commit)
instead of ``git commit`` + ``git push``.

The branch contract holds: one branch per app and environment, rebuilt from
the base head with a lease (the branch must still be where it was fetched, or
not exist), the commit message with its trailers. A lost race (the branch or
the base moved) returns None, like a rejected push, and the caller fetches and
tries again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from promoter import git, guards, workspace
from promoter.errors import InputError, PromoterError
from promoter.promotion import Job, Request

FORGES = ("github", "gitlab")  # --sign NAME: the forge NAME makes the commit


# the git options the forge's API cannot honour, and why (--message and --signoff
# are the message, which both APIs take; GitLab takes --author as author_name/_email)
UNHONOURED = {
    "github": {"author": "GitHub's createCommitOnBranch commits as the token's user or App",
               "committer": "GitHub's createCommitOnBranch commits as the token's user or App"},
    "gitlab": {"committer": "GitLab's Commits API sets the committer (the identity the"
                            " instance signs as)"},
}


def check(request: Request, forge_name: str) -> None:
    """--sign github|gitlab needs that forge, and no option the forge cannot honour;
    a usage error, so checked before anything touches the network."""
    sign = request.sign
    if sign in FORGES and forge_name != sign:
        raise InputError(f"--sign {sign} needs --forge {sign}, not {forge_name};"
                         " use --sign gpg or --sign ssh")
    for option, why in UNHONOURED.get(sign or "", {}).items():
        if getattr(request, option) is not None:
            raise InputError(f"--{option} cannot be honoured with --sign {sign}: {why};"
                             f" drop --{option}, or use --sign gpg or --sign ssh")


def attempt(forge: Any, ws: workspace.Workspace, branch: str, lease: str | None,
            files: Mapping[str, bytes], message: str,
            author: git.Identity | None = None) -> str | None:
    """The new commit's sha, or None when another push won the race. ``lease``
    None: a direct commit on ``branch`` (the base) at ``ws.head``. ``author``
    (--author; None: the token's user) only where the forge takes one (GitLab)."""
    if type(forge).__module__ == "promoter.forges.gitlab":  # --sign gitlab
        from promoter.forges import gitlab_commit

        try:  # git moves the branch there: a protected one is exit 3, as for any push
            return gitlab_commit.attempt(forge, ws, branch, lease, files, message, author)
        except PromoterError as exc:
            refused = guards.protected(exc, branch, ws.url, lease is None)
            if refused is None:
                raise
            raise refused from exc
    from promoter.forges import github_commit

    expected = ws.head if lease is None else (lease or None)  # where the branch must be
    try:
        if lease is not None:
            github_commit.move_branch(forge, branch, lease or None, ws.head)
            expected = ws.head
        return github_commit.create_commit(forge, branch, ws.head, files, message)
    except PromoterError:
        now = workspace.fetch_branch(ws, branch)
        if (now.sha if now else None) != expected:
            return None  # the branch moved under us: fetch, plan again, retry
        raise


def prepared(job: Job, forge_name: str, forge: Any, environ: Mapping[str, str]) -> Job:
    """``job`` with the forge that will commit (--sign github|gitlab), connected here;
    the request passed ``check`` before the clone."""
    if job.request.sign not in FORGES:
        return job
    if forge is None:
        from promoter.credentials import connect_forge

        forge = connect_forge(job.request, forge_name, environ)
    return replace(job, forge=forge)


def with_signoff(message: str, signoff: bool, who: str) -> str:
    """git's --signoff, for a commit git does not make."""
    trailer = f"Signed-off-by: {who}"
    if not signoff or trailer in message:
        return message
    return message.rstrip("\n") + ("\n" if "\n\n" in message.strip() else "\n\n") + trailer + "\n"
