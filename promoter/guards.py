"""The checks a promotion passes before and while it pushes: options that would
have no effect, target files that cannot be edited, the downgrade guard, and a
push refused by branch protection (said as such, exit 3, on every forge)."""

from __future__ import annotations

from promoter import git_remote, images, versions
from promoter.errors import AuthError, InputError, PromoterError
from promoter.manifests import Plan
from promoter.promotion import Job, Request
from promoter.template import version_of


def refuse_ignored(request: Request, direct: bool) -> None:
    """Options that would have no effect are refused, not silently dropped."""
    options = request.pull_request
    if direct and request.force:
        raise InputError("--force has no effect on a direct push (it never force-pushes); "
                         "drop it")
    if direct:
        for name, value in vars(options).items():
            if value not in (None, ()):
                flag = "--" + name.replace("_", "-").removesuffix("s")
                raise InputError(f"{flag} has no effect on a direct push (no pull request); "
                                 "drop it, or promote through a pull request")


def refuse_skips(job: Job, edits: Plan) -> None:
    """A target file that holds the image but cannot be edited is an InputError:
    promoting without it would leave that place on the old image, silently."""
    needle = images.parse(job.target.image).path
    for skip in edits.skipped:
        data = (job.ws.work / skip.file).read_bytes()
        if needle.encode() in data or job.target.image.encode() in data:
            raise InputError(
                f"{skip.file}:{skip.line}: holds {job.target.image} but cannot be edited "
                f"({skip.reason}); fix the file, or pass --skip-uneditable to promote "
                "without it (nothing was pushed)"
            )


PROTECTED = ("protected branch", "gh006", "protected_branch")


def push(job: Job, sha: str, branch: str, lease: str | None) -> git_remote.PushResult:
    """git_remote.push, with a refusal by branch protection said as such (exit 3, both forges)."""
    try:
        return git_remote.push(job.ws.git, job.ws.work, sha, branch, lease)
    except PromoterError as exc:
        refused = protected(exc, branch, job.request.repo, job.direct)
        if refused is None:
            raise
        raise refused from exc


def protected(error: PromoterError, branch: str, repo: str, direct: bool) -> AuthError | None:
    """The exit-3 error for a push that branch protection refused, or None when
    ``error`` is another failure."""
    if not any(sign in error.message.lower() for sign in PROTECTED):
        return None
    return AuthError(
        f"branch {branch} of {repo} is protected: the server refused the push "
        f"({error.message.split('; ')[0]}); let promoter's token push to it, or use a "
        "branch and pull request instead of --direct"
        if direct else
        f"branch {branch} of {repo} is protected: the server refused the push "
        f"({error.message.split('; ')[0]}); promoter needs to force-push its own branch: "
        "lift the protection for it, or pick another --branch"
    )


def version_rule(job: Job, edits: Plan) -> str | None:
    """The downgrade guard: refuse writing an older version unless allowed."""
    if not edits.changes:
        return None
    tags = [version_of(c.old, job.target.image).partition("@")[0] for c in edits.changes]
    rule, old = versions.check(job.ref.tag, tags)
    if rule != "downgrade":
        return rule
    if job.request.allow_downgrade:
        return "downgrade allowed by --allow-downgrade"
    if job.request.allow_downgrade is None and job.target.allow_downgrade:
        return f"downgrade allowed by environments.{job.target.env}.allow_downgrade"
    change = next(c for c, t in zip(edits.changes, tags, strict=True) if t == old)
    raise PromoterError(
        f"{change.file}:{change.line}: {old} -> {job.ref.tag} is a downgrade of app "
        f"{job.target.app} in {job.target.env}; pass --allow-downgrade (or set "
        f"environments.{job.target.env}.allow_downgrade: true) if it is meant "
        "(nothing was pushed)"
    )
