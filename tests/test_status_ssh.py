"""``promoter status`` and ``promoter config validate`` over an SSH remote are
bounded like HTTP: ssh gets a connect timeout and keepalives (unless the user
set their own ssh command), and each git command ``--network-timeout``, after
which it is killed: exit 5. A fake ``ssh`` on PATH records the options it was
given and then stalls (it never answers git), so no sshd is needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FAKE_SSH = """#!/bin/sh
printf '%s\\n' "$*" >> "$FAKE_SSH_LOG"
exec cat >/dev/null
"""
URL = "ssh://git@127.0.0.1:1/acme/config.git"
BOUNDS = ("BatchMode=yes", "ConnectTimeout=", "ServerAliveInterval=", "ServerAliveCountMax=")


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in ("ssh", "myssh"):
        (bin_dir / name).write_text(FAKE_SSH)
        (bin_dir / name).chmod(0o755)
    (tmp_path / "home").mkdir(exist_ok=True)
    env = {name: value for name, value in os.environ.items()
           if name not in ("GIT_SSH", "GIT_SSH_COMMAND") and not name.startswith("PROMOTER_")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", HOME=str(tmp_path / "home"),
               GIT_CONFIG_NOSYSTEM="1", FAKE_SSH_LOG=str(tmp_path / "ssh.log"), **extra)
    return env


def run(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([sys.executable, "-m", "promoter", *argv], capture_output=True,
                              text=True, env=env, check=False, timeout=40)
    except subprocess.TimeoutExpired:
        pytest.fail(f"promoter {argv[0]} hung on a stalled ssh past --network-timeout 2s")


@pytest.mark.parametrize("command", [["status"], ["config", "validate"]])
def test_a_stalled_ssh_remote_ends_with_exit_5_and_ssh_got_the_bounds(
    tmp_path: Path, command: list[str]
) -> None:
    env = environment(tmp_path)
    done = run(env, *command, "--repo", URL, "--network-timeout", "2s")
    given = (tmp_path / "ssh.log").read_text()
    assert all(f"-o {bound}" in given for bound in BOUNDS), given
    assert done.returncode == 5, done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert "--network-timeout" in done.stderr


def test_the_users_own_ssh_command_is_left_alone(tmp_path: Path) -> None:
    env = environment(tmp_path, GIT_SSH_COMMAND="ssh -o Mine=yes")
    done = run(env, "status", "--repo", URL, "--network-timeout", "2s")
    given = (tmp_path / "ssh.log").read_text()
    assert "-o Mine=yes" in given and "ConnectTimeout" not in given, given
    assert done.returncode == 5, done.stderr


def test_the_users_core_ssh_command_is_left_alone(tmp_path: Path) -> None:
    env = environment(tmp_path)
    (tmp_path / "home" / ".gitconfig").write_text("[core]\n\tsshCommand = myssh -o Mine=yes\n")
    done = run(env, "config", "validate", "--repo", URL, "--network-timeout", "2s")
    given = (tmp_path / "ssh.log").read_text()
    assert "-o Mine=yes" in given and "ConnectTimeout" not in given, given
    assert done.returncode == 5, done.stderr
