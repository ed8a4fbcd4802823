"""The git commands that talk to the remote (``origin``): clone, fetch, push, ls-remote.

They run through ``promoter.git.run`` like every git command, in a ``session``:
no credential helper but promoter's, no prompt, the token only in the environment
of a credential helper scoped to the remote's origin (``HELPER``); HTTP transfers slower than
``LOW_SPEED`` bytes/s for ``LOW_SPEED_TIME`` seconds are aborted by git itself
(``GIT_HTTP_LOW_SPEED_LIMIT``/``_TIME`` override them).
Fetches are blobless: commits and trees come, blobs on demand. What the
remote's answers mean (a lost race, a branch that does not exist, a branch
with no commits of its own) is read here, once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from promoter import git_errors, remote
from promoter.credentials import Credentials
from promoter.errors import InputError, PromoterError
from promoter.git import Git, failure, is_shallow, rev, run, with_config

# The token's one way into git: a credential helper scoped to the remote's origin
# (``credential.<origin>.helper``). git asks it when that origin answers 401, and
# asks again for the URL it ended up at after a redirect, where the scope no longer
# matches: another origin never gets it. (``http.<origin>.extraHeader`` would not
# do: git matches it once, then sends it to wherever the first request redirected.)
# The token comes from the helper's environment, never its argv.
HELPER = ('!f() { cat >/dev/null; test "$1" = get || exit 0;'
          ' printf "username=%s\\npassword=%s\\n" "$PROMOTER_GIT_USERNAME"'
          ' "$PROMOTER_GIT_PASSWORD"; }; f')
LOW_SPEED, LOW_SPEED_TIME = "1000", "30"  # bytes/s, seconds: git aborts slower transfers
EMPTY_CLONE = "cloned an empty repository"
# What git says when --shallow-exclude leaves no commit to fetch, i.e. the branch is
# all on the base: over file:// and protocol v0/v1, and over smart HTTP (v2).
NOTHING_OF_ITS_OWN = ("no commits selected for shallow", "error processing shallow info")


def session(url: str, credentials: Credentials | None, timeout: float | None = None) -> Git:
    """A Git for talking to ``url``; credentials go into GIT_CONFIG_* only."""
    config: list[tuple[str, str]] = [
        ("credential.helper", ""),
        ("core.askPass", ""),
        ("commit.gpgSign", "false"),
        ("uploadpack.allowFilter", "true"),  # for file:// remotes, whose upload-pack is local
        ("advice.detachedHead", "false"),
        ("http.lowSpeedLimit", LOW_SPEED),
        ("http.lowSpeedTime", LOW_SPEED_TIME),
    ]
    if os.environ.get("SSL_CERT_FILE") and not os.environ.get("GIT_SSL_CAINFO"):
        config.append(("http.sslCAInfo", os.environ["SSL_CERT_FILE"]))  # gnutls ignores it
    secrets: tuple[str, ...] = ()
    origin = http_origin(url)
    extra: dict[str, str] = {}
    if credentials is not None and origin is not None:
        header = credentials.header()
        config.append((f"credential.{origin}.helper", HELPER))
        extra = {"PROMOTER_GIT_USERNAME": credentials.user,
                 "PROMOTER_GIT_PASSWORD": credentials.token}
        secrets = (credentials.token, header, header.split(" ", 1)[1])
        from promoter import http_safety

        http_safety.remember(*secrets)
    return with_config(Git(secrets=secrets, timeout=timeout), config, extra)


def http_origin(url: str) -> str | None:
    """``https://host[:port]/`` of an http(s) URL, else None."""
    parsed = remote.parse(url)  # the one URL parser
    if parsed.scheme not in ("http", "https"):
        return None
    return f"{parsed.scheme}://{parsed.host}{':' + parsed.port if parsed.port else ''}/"


def clone(git: Git, url: str, dest: Path, branch: str | None) -> None:
    """Partial (blobless), shallow, sparse clone of ``branch``; blobs come on demand.

    A server without partial-clone support ignores the filter: the clone is then
    merely shallow. An http(s) "empty repository" that never spoke git's smart
    protocol is a web page (HTML 200), not a git server: InputError."""
    result = run(git, [
        "clone", "--quiet", "--filter=blob:none", "--depth=1", "--sparse", "--no-tags",
        "--single-branch", *(["--branch", branch] if branch else []), "--", url, str(dest),
    ])
    stderr = result.stderr.decode(errors="replace")
    moved = git_errors.other_origin([url], stderr)
    if moved:
        raise InputError(f"cloning {git.redact(url)}: {moved}")
    if EMPTY_CLONE in stderr and http_origin(url):
        probe = run(git, ["ls-remote", "origin"], dest, env={"GIT_TRACE_PACKET": "1"},
                    check=False)
        if b"packet:" not in probe.stderr:
            raise InputError(f"{git.redact(url)} is not a git server (it answered like a web"
                             " page?); check --repo: it must be the repository's clone URL")


def clone_bare(git: Git, url: str, dest: Path) -> None:
    """A bare blobless clone of every branch of ``url`` into ``dest``; a redirect
    to another origin is refused as in ``clone`` (not --quiet: git names the
    redirect only in its progress messages)."""
    result = run(git, ["clone", "--bare", "--filter=blob:none", "--", url, str(dest)])
    moved = git_errors.other_origin([url], result.stderr.decode(errors="replace"))
    if moved:
        raise InputError(f"cloning {git.redact(url)}: {moved}")


def _fetch(git: Git, work: Path, refspec: str, *options: str) -> None:
    run(git, ["fetch", "--quiet", "--filter=blob:none", "--no-tags", *options, "origin",
              refspec], work)


def fetch(git: Git, work: Path, ref: str, local: str) -> str:
    """Fetch remote ``refs/heads/ref`` into ``local`` (the commits since the
    shallow boundary, not a new deepening); its sha."""
    _fetch(git, work, f"+refs/heads/{ref}:{local}")
    return rev(git, work, local)


def fetch_history(git: Git, work: Path, refspec: str) -> None:
    """Fetch ``refspec``; a shallow clone is deepened to the whole history."""
    _fetch(git, work, refspec, *(["--unshallow"] if is_shallow(git, work) else []))


def fetch_own_commits(git: Git, work: Path, branch: str, base: str, local: str) -> bool | None:
    """Fetch remote ``branch`` into ``local`` with every commit it has that ``base``
    has not (``--shallow-exclude``): True; False when it has none (it is all on
    the base: fetched at depth 1 instead); None when there is no such branch."""
    refspec = f"+refs/heads/{branch}:{local}"
    try:
        _fetch(git, work, refspec, f"--shallow-exclude=refs/heads/{base}")
    except PromoterError as exc:
        low = str(exc).lower()
        if "couldn't find remote ref" in low:
            return None
        if not any(sign in low for sign in NOTHING_OF_ITS_OWN):
            raise
        _fetch(git, work, refspec, "--depth=1")
        return False
    return True


def remote_head(git: Git, work: Path, ref: str) -> str | None:
    """The sha ``ref`` has on the remote now, or None when it does not exist."""
    found = run(git, ["ls-remote", "origin", ref], work).stdout.decode(errors="replace")
    return found.split()[0] if found.strip() else None


def remote_sha(git: Git, work: Path, ref: str) -> str | None:
    """``remote_head``, or None when the remote cannot tell (unreachable, too slow)."""
    try:
        return remote_head(git, work, ref)
    except PromoterError:
        return None


# -- push -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushResult:
    ok: bool
    rejected: bool  # lost a race (non-fast-forward, stale lease, ref lock): fetch and retry
    detail: str


def push(git: Git, work: Path, sha: str, branch: str, lease: str | None) -> PushResult:
    """Push ``sha`` to ``refs/heads/branch``. With ``lease`` (the expected old sha,
    "" for "must not exist") force-with-lease; without it a fast-forward push."""
    ref = f"refs/heads/{branch}"
    args = ["push", "--porcelain", "--no-verify"]
    if lease is not None:
        args.append(f"--force-with-lease={ref}:{lease}")
    result = run(git, [*args, "origin", f"{sha}:{ref}"], work, check=False)
    text = git.redact(result.stdout.decode(errors="replace"))
    if result.returncode == 0:
        return PushResult(True, False, text)
    stderr = result.stderr.decode(errors="replace")
    status = " ".join(line for line in text.splitlines() if line.startswith("!"))
    taken = _NAME_TAKEN.search(stderr)
    if taken:  # no race: no later try can create this ref
        raise InputError(
            f"branch {branch} cannot be created on the remote: {taken[1]} exists (git keeps"
            " branch names as paths, so one branch cannot be a directory of another);"
            " pick another --branch, or rename or delete that branch")
    if _lost_race(status + " " + stderr):
        return PushResult(False, True, status or git.redact(stderr))
    if remote_sha(git, work, ref) == sha:  # it landed; only the answer was lost
        return PushResult(True, False, f"{ref} is at {sha} on the remote")
    raise failure(git, ["git", "push", "origin"], result.returncode, f"{status}\n{stderr}")


def delete_branch(git: Git, work: Path, branch: str, sha: str) -> None:
    """Delete ``branch`` on the remote, only if it still points at ``sha``."""
    ref = f"refs/heads/{branch}"
    run(git, ["push", "--porcelain", "--no-verify", f"--force-with-lease={ref}:{sha}",
              "origin", f":{ref}"], work)


# git's refusal of a ref whose name is another ref's directory (or the reverse)
_NAME_TAKEN = re.compile(r"cannot lock ref '[^']+': '([^']+)' exists; cannot create")


def _lost_race(text: str) -> bool:
    low = text.lower()
    return any(sign in low for sign in (
        "[rejected]", "stale info", "non-fast-forward", "fetch first",
        "cannot lock ref", "failed to update ref", "incorrect old value", "failed to lock",
    )) and "hook declined" not in low


def last_change(git: Git, work: Path, branch: str, paths: Sequence[str]) -> str | None:
    """The newest commit on HEAD's first-parent line that changed ``paths``; a
    shallow clone of ``branch`` is deepened first (blobless: commits and trees)."""
    if is_shallow(git, work):
        _fetch(git, work, f"+refs/heads/{branch}:refs/remotes/origin/{branch}", "--unshallow")
    found = run(git, ["log", "--first-parent", "-1", "--format=%H", "HEAD", "--", *paths],
                work).stdout.decode().strip()
    return found or None
