"""Running git: the one function that starts a git process (``run``), the
session it runs with (``Git``: extra environment, secrets to redact, time
limit) and the error it raises. ``promoter.git`` re-exports these names; the
command lines themselves are built in ``promoter.git`` (the local repository)
and ``promoter.git_remote`` (the remote).

Every git process gets a stripped environment (no inherited ``GIT_DIR`` and
friends), never a prompt, and configuration only through ``GIT_CONFIG_*``
variables (``with_config``): credentials (``git_remote.session``) never go in
argv, a URL, or the clone's ``.git/config``. Failures raise promoter errors carrying
the command, the return code and git's stderr, with secrets redacted.

No git command hangs: each may run ``Git.timeout`` seconds (``--network-timeout``) and
is then killed with its children (``git_remote.session`` also makes git abort
HTTP transfers that crawl, and ``SSH_COMMAND`` gives ssh a connect timeout and
keepalives unless the user set their own ssh command).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from promoter import git_errors
from promoter.errors import PromoterError, WaitTimeout

log = logging.getLogger("promoter.git")

_KEEP = frozenset({
    "GIT_EXEC_PATH", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT", "GIT_SSL_CAINFO",
    "GIT_SSL_NO_VERIFY", "GIT_CONFIG_NOSYSTEM", "GIT_HTTP_PROXY_AUTHMETHOD",
    "GIT_ALLOW_PROTOCOL", "GIT_PROXY_COMMAND", "GIT_HTTP_LOW_SPEED_LIMIT",
    "GIT_HTTP_LOW_SPEED_TIME",
})


@dataclass(frozen=True)
class Git:
    """How to run git: extra environment and the secrets to redact."""

    env: Mapping[str, str] = field(default_factory=dict, repr=False)  # may hold a header
    secrets: tuple[str, ...] = field(default=(), repr=False)
    timeout: float | None = None  # seconds one git command may take (--network-timeout)
    limit: str = "--network-timeout"  # the option that sets ``timeout``, for the error

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with each of ``secrets`` replaced by ``***`` (the one redaction:
    promoter.http_safety uses it for every HTTP client too)."""
    for secret in sorted(secrets, key=len, reverse=True):  # a longer one may hold a shorter
        if secret:
            text = text.replace(secret, "***")
    return text


def with_config(git: Git, pairs: Sequence[tuple[str, str]], extra: Mapping[str, str]) -> Git:
    """``git`` with ``pairs`` appended to its ``GIT_CONFIG_*`` entries (later wins:
    never in argv or .git/config) and ``extra`` added to its environment."""
    env = dict(git.env)
    count = int(env.get("GIT_CONFIG_COUNT", "0"))
    for index, (key, value) in enumerate(pairs, start=count):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    env["GIT_CONFIG_COUNT"] = str(count + len(pairs))
    return replace(git, env={**env, **extra})


# ssh as git runs it when the user has set no ssh command of their own (GIT_SSH,
# GIT_SSH_COMMAND, core.sshCommand): never a passphrase prompt, and bounded as
# HTTP is by git's low-speed abort: no connection for 30 s, or a server silent
# for 2 x 15 s, ends ssh (and with it the git command).
SSH_COMMAND = ("ssh -o BatchMode=yes -o ConnectTimeout=30 -o ServerAliveInterval=15"
               " -o ServerAliveCountMax=2")


@functools.cache
def _own_ssh_command() -> bool:
    """Whether the user's git configuration (global, system) sets core.sshCommand."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("GIT_") or name in _KEEP}
    found = subprocess.run(["git", "config", "--includes", "--get", "core.sshCommand"],
                           cwd="/", env=env, capture_output=True, check=False, timeout=30)
    return bool(found.stdout.strip())


def base_env(extra: Mapping[str, str]) -> dict[str, str]:
    """os.environ without inherited git state, plus ``extra``."""
    env = {
        name: value for name, value in os.environ.items()
        if not name.startswith("GIT_") or name in _KEEP
    }
    env.pop("SSH_ASKPASS", None)
    env["GIT_TERMINAL_PROMPT"] = "0"
    if "GIT_SSH" not in env and "GIT_SSH_COMMAND" not in env and not _own_ssh_command():
        env["GIT_SSH_COMMAND"] = SSH_COMMAND
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
                       f" {git.limit} ({git.timeout:g}s; the git server stalls or is"
                       f" slow); check it, or raise {git.limit}")


def out(git: Git, args: Sequence[str], cwd: Path | None = None) -> str:
    """stdout of ``git ARGS``, stripped."""
    return run(git, args, cwd).stdout.decode().strip()


def failure(git: Git, argv: Sequence[str], code: int, stderr: str) -> PromoterError:
    """The promoter error for a failed git command (secrets redacted, one line)."""
    return git_errors.failure(git.redact, argv, code, stderr)
