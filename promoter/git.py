"""The git CLI: one function runs it; the others are named for what they return.

Every git process gets a stripped environment (no inherited ``GIT_DIR`` and
friends), never a prompt, no credential helpers, and credentials only through
``GIT_CONFIG_*`` variables (``http.<origin>.extraHeader``): never in argv, a
URL, or the clone's ``.git/config``. Failures raise promoter errors carrying
the command, the return code and git's stderr, with secrets redacted.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from promoter.credentials import Credentials
from promoter.errors import AuthError, InputError, PromoterError

log = logging.getLogger("promoter.git")

_KEEP = frozenset({
    "GIT_EXEC_PATH", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT", "GIT_SSL_CAINFO",
    "GIT_SSL_NO_VERIFY", "GIT_CONFIG_NOSYSTEM", "GIT_HTTP_PROXY_AUTHMETHOD",
    "GIT_ALLOW_PROTOCOL", "GIT_PROXY_COMMAND",
})
_AUTH_SIGNS = (
    "authentication failed", "could not read username", "could not read password",
    "terminal prompts disabled", "returned error: 401", "returned error: 403",
    "permission denied", "access denied", "invalid username or password",
    "http basic: access denied", "you are not allowed", "write access to repository not granted",
)
_REACH_SIGNS = (
    "could not resolve host", "connection refused", "does not appear to be a git repository",
    "repository not found", "returned error: 404", "could not read from remote repository",
    "failed to connect", "unable to access", "no such file or directory", "not found",
    "timed out",
)


@dataclass(frozen=True)
class Git:
    """How to run git: extra environment and the secrets to redact."""

    env: Mapping[str, str] = field(default_factory=dict, repr=False)  # may hold a header
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with each of ``secrets`` replaced by ``***`` (the one redaction:
    promoter.http_safety uses it for every HTTP client too)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def session(url: str, credentials: Credentials | None) -> Git:
    """A Git for talking to ``url``; credentials go into GIT_CONFIG_* only."""
    config: list[tuple[str, str]] = [
        ("credential.helper", ""),
        ("core.askPass", ""),
        ("commit.gpgSign", "false"),
        ("uploadpack.allowFilter", "true"),  # for file:// remotes, whose upload-pack is local
        ("advice.detachedHead", "false"),
    ]
    secrets: tuple[str, ...] = ()
    origin = http_origin(url)
    if credentials is not None and origin is not None:
        header = credentials.header()
        config.append((f"http.{origin}.extraHeader", f"Authorization: {header}"))
        secrets = (credentials.token, header, header.split(" ", 1)[1])
    env = {"GIT_CONFIG_COUNT": str(len(config))}
    for index, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return Git(env=env, secrets=secrets)


def http_origin(url: str) -> str | None:
    """``https://host[:port]/`` of an http(s) URL, else None."""
    if not url.startswith(("http://", "https://")):
        return None
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0].rpartition('@')[2]}/"


def base_env(extra: Mapping[str, str]) -> dict[str, str]:
    """os.environ without inherited git state, plus ``extra``."""
    env = {
        name: value for name, value in os.environ.items()
        if not name.startswith("GIT_") or name in _KEEP
    }
    env.pop("SSH_ASKPASS", None)
    env["GIT_TERMINAL_PROMPT"] = "0"
    if "GIT_SSH" not in env and "GIT_SSH_COMMAND" not in env:
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"  # never prompt for a passphrase
    env["LC_ALL"] = "C"
    env.update(extra)
    return env


def run(
    git: Git, args: Sequence[str], cwd: Path | None = None, *,
    env: Mapping[str, str] | None = None, input: bytes | None = None, check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git ARGS``; raise a promoter error naming the command when it fails."""
    argv = ["git", *args]
    start = time.monotonic()
    result = subprocess.run(
        argv, cwd=cwd, env=base_env({**git.env, **(env or {})}),
        input=input, capture_output=True, check=False,
    )
    log.debug("%.3fs $ %s", time.monotonic() - start, git.redact(" ".join(argv)))
    if check and result.returncode != 0:
        raise failure(git, argv, result.returncode, result.stderr.decode(errors="replace"))
    return result


def out(git: Git, args: Sequence[str], cwd: Path | None = None) -> str:
    """stdout of ``git ARGS``, stripped."""
    return run(git, args, cwd).stdout.decode().strip()


def failure(git: Git, argv: Sequence[str], code: int, stderr: str) -> PromoterError:
    """The promoter error for a failed git command (secrets redacted, one line)."""
    lines = [line.strip() for line in git.redact(stderr).splitlines() if line.strip()]
    detail = " / ".join(line for line in lines if not line.startswith("hint:"))[-400:]
    what = f"`{git.redact(' '.join(argv[:3]))}` failed (exit {code}): {detail or 'no output'}"
    low = stderr.lower()
    if any(sign in low for sign in _AUTH_SIGNS):
        return AuthError(f"{what}; check the token (PROMOTER_TOKEN) and its write access")
    if any(sign in low for sign in _REACH_SIGNS):
        return InputError(f"{what}; check --repo and that the remote is reachable")
    return PromoterError(f"{what}; see git's message")


# -- clone and working tree -------------------------------------------------------------


def clone(git: Git, url: str, dest: Path, branch: str | None) -> None:
    """Partial (blobless), shallow, sparse clone of ``branch``; blobs come on demand.

    A server without partial-clone support ignores the filter: the clone is then
    merely shallow."""
    run(git, [
        "clone", "--quiet", "--filter=blob:none", "--depth=1", "--sparse", "--no-tags",
        "--single-branch", *(["--branch", branch] if branch else []), "--", url, str(dest),
    ])


def sparse_set(git: Git, work: Path, directories: Sequence[str]) -> None:
    """Check out exactly ``directories`` (cone mode, sparse index; root files are
    always present)."""
    run(git, ["sparse-checkout", "set", "--cone", "--sparse-index", "--",
              *sorted(set(directories))], work)


def object_types(git: Git, work: Path, rev: str, paths: Sequence[str]) -> dict[str, str | None]:
    """path -> ``tree``, ``blob`` or None (missing) at ``rev``, in one git process."""
    lines = "".join(f"{rev}:{path}\n" for path in paths).encode()
    result = run(git, ["cat-file", "--batch-check=%(objecttype)"], work, input=lines)
    answers = result.stdout.decode().splitlines()
    return {path: (None if answer.endswith("missing") else answer)
            for path, answer in zip(paths, answers, strict=True)}


def fetch(git: Git, work: Path, ref: str, local: str) -> str:
    """Fetch remote ``refs/heads/ref`` into ``local`` (blobless; the commits since
    the shallow boundary, not a new deepening); its sha."""
    run(git, [
        "fetch", "--quiet", "--filter=blob:none", "--no-tags", "origin",
        f"+refs/heads/{ref}:{local}",
    ], work)
    return rev(git, work, local)


def rev(git: Git, work: Path, name: str) -> str:
    return out(git, ["rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"], work)


def reset_hard(git: Git, work: Path, sha: str) -> None:
    run(git, ["reset", "--quiet", "--hard", sha], work)


def changed_blobs(git: Git, work: Path, old: str, new: str) -> dict[str, str]:
    """path -> new blob id for the files that differ between two commits."""
    text = out(git, ["diff-tree", "-r", "--no-renames", "--raw", old, new], work)
    blobs: dict[str, str] = {}
    for line in text.splitlines():
        meta, _, path = line.partition("\t")
        blobs[path] = meta.split()[3]
    return blobs


def parent(git: Git, work: Path, sha: str) -> str | None:
    result = run(git, ["rev-parse", "--verify", "--quiet", f"{sha}^"], work, check=False)
    return result.stdout.decode().strip() or None


def blob_id(data: bytes) -> str:
    """The git blob id of ``data`` (sha1 repositories)."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(frozen=True)
class Identity:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


def commit(
    git: Git, work: Path, files: Sequence[str], message: str,
    author: Identity, committer: Identity, signoff: bool = False,
) -> str:
    """Commit ``files`` with ``message``; the new commit's sha."""
    run(git, ["add", "--sparse", "--", *files], work)
    identity = {
        "GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email,
        "GIT_COMMITTER_NAME": committer.name, "GIT_COMMITTER_EMAIL": committer.email,
    }
    args = ["commit", "--quiet", "--no-verify", "--file=-", *(["--signoff"] if signoff else [])]
    run(git, args, work, env=identity, input=message.encode())
    return rev(git, work, "HEAD")


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
    if _lost_race(status + " " + stderr):
        return PushResult(False, True, status or git.redact(stderr))
    raise failure(git, ["git", "push", "origin"], result.returncode, f"{status}\n{stderr}")


def _lost_race(text: str) -> bool:
    low = text.lower()
    return any(sign in low for sign in (
        "[rejected]", "stale info", "non-fast-forward", "fetch first",
        "cannot lock ref", "failed to update ref", "incorrect old value", "failed to lock",
    )) and "hook declined" not in low
