"""The git CLI: one function runs it; the others are named for what they return.

Every git process gets a stripped environment (no inherited ``GIT_DIR`` and
friends), never a prompt, no credential helpers, and credentials only through
``GIT_CONFIG_*`` variables (``http.<origin>.extraHeader``): never in argv, a
URL, or the clone's ``.git/config``. Failures raise promoter errors carrying
the command, the return code and git's stderr, with secrets redacted.

No git command hangs: each may run ``Git.timeout`` seconds (``--network-timeout``) and
is then killed with its children; HTTP
transfers slower than ``LOW_SPEED`` bytes/s for ``LOW_SPEED_TIME`` seconds are
aborted by git itself (``GIT_HTTP_LOW_SPEED_LIMIT``/``_TIME`` override them).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from promoter import git_errors
from promoter.credentials import Credentials
from promoter.errors import InputError, PromoterError, WaitTimeout

log = logging.getLogger("promoter.git")

_KEEP = frozenset({
    "GIT_EXEC_PATH", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT", "GIT_SSL_CAINFO",
    "GIT_SSL_NO_VERIFY", "GIT_CONFIG_NOSYSTEM", "GIT_HTTP_PROXY_AUTHMETHOD",
    "GIT_ALLOW_PROTOCOL", "GIT_PROXY_COMMAND", "GIT_HTTP_LOW_SPEED_LIMIT",
    "GIT_HTTP_LOW_SPEED_TIME",
})
LOW_SPEED, LOW_SPEED_TIME = "1000", "30"  # bytes/s, seconds: git aborts slower transfers
EMPTY_CLONE = "cloned an empty repository"


@dataclass(frozen=True)
class Git:
    """How to run git: extra environment and the secrets to redact."""

    env: Mapping[str, str] = field(default_factory=dict, repr=False)  # may hold a header
    secrets: tuple[str, ...] = field(default=(), repr=False)
    timeout: float | None = None  # seconds one git command may take (--network-timeout)

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with each of ``secrets`` replaced by ``***`` (the one redaction:
    promoter.http_safety uses it for every HTTP client too)."""
    for secret in sorted(secrets, key=len, reverse=True):  # a longer one may hold a shorter
        if secret:
            text = text.replace(secret, "***")
    return text


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
    if credentials is not None and origin is not None:
        header = credentials.header()
        config.append((f"http.{origin}.extraHeader", f"Authorization: {header}"))
        secrets = (credentials.token, header, header.split(" ", 1)[1])
        from promoter import http_safety

        http_safety.remember(*secrets)
    env = {"GIT_CONFIG_COUNT": str(len(config))}
    for index, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return Git(env=env, secrets=secrets, timeout=timeout)


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
    """Run ``git ARGS``; raise a promoter error naming the command when it fails,
    WaitTimeout when it runs longer than ``git.timeout``."""
    argv = ["git", *args]
    start = time.monotonic()
    result = _spawn(argv, cwd, base_env({**git.env, **(env or {})}), input, git.timeout)
    log.debug("%.3fs $ %s", time.monotonic() - start, git.redact(" ".join(argv)))
    if result is None:
        raise _run_out(git, argv)
    if check and result.returncode != 0:
        raise failure(git, argv, result.returncode, result.stderr.decode(errors="replace"))
    return result


def _spawn(
    argv: list[str], cwd: Path | None, env: Mapping[str, str], input: bytes | None,
    timeout: float | None,
) -> subprocess.CompletedProcess[bytes] | None:
    """The finished process, or None when ``timeout`` ran out. git runs in its own
    process group, killed whole (remote helpers included) on a timeout or when
    promoter itself is interrupted, so that no git outlives promoter's clone."""
    stdin = subprocess.PIPE if input is not None else subprocess.DEVNULL
    with subprocess.Popen(argv, cwd=cwd, env=env, stdin=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, start_new_session=True) as process:
        try:
            stdout, stderr = process.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(process)
            return None
        except BaseException:
            _kill(process)
            raise
    return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def _run_out(git: Git, argv: Sequence[str]) -> WaitTimeout:
    return WaitTimeout(f"`{git.redact(' '.join(argv[:2]))}` took longer than"
                       f" --network-timeout ({git.timeout:g}s; the git server stalls or is"
                       " slow); check it, or raise --network-timeout")


def out(git: Git, args: Sequence[str], cwd: Path | None = None) -> str:
    """stdout of ``git ARGS``, stripped."""
    return run(git, args, cwd).stdout.decode().strip()


def failure(git: Git, argv: Sequence[str], code: int, stderr: str) -> PromoterError:
    """The promoter error for a failed git command (secrets redacted, one line)."""
    return git_errors.failure(git.redact, argv, code, stderr)


# -- clone and working tree -------------------------------------------------------------


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
    """path -> new blob id for the files that differ between two commits
    (``-z``: paths come verbatim, never C-quoted)."""
    raw = run(git, ["diff-tree", "-r", "-z", "--no-renames", "--raw", old, new], work).stdout
    fields = raw.decode("utf-8", errors="surrogateescape").split("\0")
    blobs: dict[str, str] = {}
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        if meta.startswith(":"):
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
    if remote_sha(git, work, ref) == sha:  # it landed; only the answer was lost
        return PushResult(True, False, f"{ref} is at {sha} on the remote")
    raise failure(git, ["git", "push", "origin"], result.returncode, f"{status}\n{stderr}")


def remote_sha(git: Git, work: Path, ref: str) -> str | None:
    """The sha of ``ref`` on the remote as it is now, or None (unknown or unreachable)."""
    try:
        result = run(git, ["ls-remote", "origin", ref], work, check=False)
    except WaitTimeout:
        return None
    line = result.stdout.decode(errors="replace").split("\n", 1)[0]
    return line.split("\t", 1)[0] or None if result.returncode == 0 else None


def _lost_race(text: str) -> bool:
    low = text.lower()
    return any(sign in low for sign in (
        "[rejected]", "stale info", "non-fast-forward", "fetch first",
        "cannot lock ref", "failed to update ref", "incorrect old value", "failed to lock",
    )) and "hook declined" not in low


def last_change(git: Git, work: Path, branch: str, paths: Sequence[str]) -> str | None:
    """The newest commit on HEAD's first-parent line that changed ``paths``; a
    shallow clone of ``branch`` is deepened first (blobless: commits and trees)."""
    if out(git, ["rev-parse", "--is-shallow-repository"], work) == "true":
        run(git, ["fetch", "--quiet", "--filter=blob:none", "--unshallow", "--no-tags",
                  "origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}"], work)
    found = out(git, ["log", "--first-parent", "-1", "--format=%H", "HEAD", "--", *paths], work)
    return found or None
