"""The sentinel sweep: a distinct sentinel in every supported token variable (and a
GitHub App private key), across the hostile scenarios, through the real CLI.

Each run sets the variable under test and every variable of lower precedence (so the
ones not chosen are present too), runs ``promoter -v promote`` with a ``git`` wrapper
that logs every argv and the clone's .git/config, and then checks that no sentinel
(nor the Basic-auth encoding of one) is in stdout, stderr, the git log, any file under
the test's directory (the server's repositories included), or any request that reached
another origin; and that the temporary clone is gone.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from support.configrepo import example_copy
from support.gitserver import GitServer
from support.hostile import HostileServer, Reply, echo, flood, redirect

VARIABLES = ("PROMOTER_TOKEN", "GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN")
GIT_USER = {"GITHUB_TOKEN": "x-access-token", "GH_TOKEN": "x-access-token",
            "GITLAB_TOKEN": "oauth2", "CI_JOB_TOKEN": "gitlab-ci-token"}
Setup = Callable[[GitServer, HostileServer, HostileServer], list[str]]


@dataclass(frozen=True)
class Scenario:
    forge: str  # local | github | gitlab
    setup: Setup  # arranges the servers; returns extra CLI arguments
    exit_code: int


def _git(stage: str, mode: str, *args: str) -> Setup:
    def setup(git: GitServer, api: HostileServer, other: HostileServer) -> list[str]:
        git.modes[stage] = mode
        return list(args)

    return setup


def _api(reply: Callable[..., Reply], *args: str) -> Setup:
    def setup(git: GitServer, api: HostileServer, other: HostileServer) -> list[str]:
        api.reply = reply
        return list(args)

    return setup


def _to_other(git: GitServer, api: HostileServer, other: HostileServer) -> list[str]:
    api.reply = redirect(other.url, 307)
    return []


SCENARIOS = {
    "git-stall-push": Scenario("local", _git("POST git-receive-pack", "stall", "--network-timeout",
                                             "2s"), 5),
    "git-500-clone": Scenario("local", _git("POST git-upload-pack", "500"), 1),
    "git-html": Scenario("local", _git("*", "html"), 2),
    "git-drop-after-push": Scenario("local", _git("POST git-receive-pack", "drop",
                                                  "--direct"), 0),
    "git-trickle": Scenario("local", _git("GET git-upload-pack", "trickle", "--network-timeout",
                                          "2s"), 5),
    "github-redirect": Scenario("github", _to_other, 2),
    "github-echo": Scenario("github", _api(echo(422)), 1),
    "github-trickle": Scenario("github", _api(lambda s: Reply(body=b"{" + b" " * 99 + b"}",
                                                              trickle=0.05), "--network-timeout",
                                              "3s"), 5),
    "github-huge": Scenario("github", _api(flood(40 << 20)), 1),
    "gitlab-redirect": Scenario("gitlab", _to_other, 2),
    "gitlab-echo": Scenario("gitlab", _api(echo(400)), 1),
    "gitlab-bad-json": Scenario("gitlab", _api(lambda s: Reply(body=b'{"iid": ')), 1),
    "gitlab-html": Scenario("gitlab", _api(lambda s: Reply(headers={"Content-Type":
                                                                    "text/html"},
                                                           body=b"<html></html>")), 2),
    # --sign gitlab: the Commits API request is the first to reach the hostile server
    "gitlab-sign-echo": Scenario("gitlab", _api(echo(400), "--sign", "gitlab"), 1),
}
FORGE_VARIABLES = {
    "local": VARIABLES,
    "github": ("PROMOTER_TOKEN", "GITHUB_TOKEN", "GH_TOKEN", "APP_KEY"),
    "gitlab": ("PROMOTER_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN"),
}


def _runs() -> list[tuple[str, str]]:
    """Each scenario with one variable, rotating, so that every variable is the one
    used in at least two scenarios."""
    runs, turn = [], {forge: 0 for forge in FORGE_VARIABLES}
    for name, scenario in SCENARIOS.items():
        for _ in range(2 if scenario.forge != "local" else 1):
            choices = FORGE_VARIABLES[scenario.forge]
            runs.append((name, choices[turn[scenario.forge] % len(choices)]))
            turn[scenario.forge] += 1
    return runs


@pytest.fixture(scope="module")
def app_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _environment(variable: str, forge: str, app_key: str) -> tuple[dict[str, str], list[str]]:
    """The token variables to set (the chosen one and all after it) and the sentinels."""
    chosen = "PROMOTER_TOKEN" if variable == "APP_KEY" else variable
    env = {name: f"SENTINEL-{name}-3e8d" for name in VARIABLES[VARIABLES.index(chosen):]}
    if variable == "APP_KEY":
        env = {"PROMOTER_APP_ID": "7", "PROMOTER_APP_PRIVATE_KEY": app_key}
    secrets = list(env.values() if variable != "APP_KEY" else [app_key.splitlines()[1]])
    if forge == "gitlab" and variable != "CI_JOB_TOKEN":
        env.pop("CI_JOB_TOKEN", None)  # else it is taken for the job token
    return env, secrets


def _git_wrapper(directory: Path, log: Path) -> Path:
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True,
                          check=True).stdout.strip()
    directory.mkdir()
    (directory / "git").write_text(
        "#!/bin/sh\n"
        f'printf "argv: %s\\n" "$*" >> "{log}"\n'
        f'"{real}" "$@"\nstatus=$?\n'
        f'[ -f .git/config ] && cat .git/config >> "{log}"\n'
        "exit $status\n"
    )
    (directory / "git").chmod(0o755)
    return directory


def _user(variable: str, forge: str) -> str:
    if variable in ("PROMOTER_TOKEN", "APP_KEY"):
        return "oauth2" if forge == "gitlab" else "x-access-token"
    return GIT_USER[variable]


@pytest.mark.parametrize(("name", "variable"), _runs())
def test_no_sentinel_anywhere(tmp_path: Path, name: str, variable: str, app_key: str) -> None:
    scenario = SCENARIOS[name]
    tokens, secrets = _environment(variable, scenario.forge, app_key)
    password = tokens.get(variable, "unused-git-password")
    tmp, log = tmp_path / "tmp", tmp_path / "git.log"
    tmp.mkdir()
    bindir = _git_wrapper(tmp_path / "bin", log)
    with GitServer(tmp_path / "srv", _user(variable, scenario.forge), password) as git, \
            HostileServer() as api, HostileServer() as other:
        git.create("acme/config", example_copy(tmp_path / "tree"))
        args = scenario.setup(git, api, other)
        env = {**os.environ, **tokens, "TMPDIR": str(tmp),
               "PATH": f"{bindir}:{os.environ['PATH']}"}
        result = subprocess.run(
            [sys.executable, "-m", "promoter", "-v", "promote", "--repo",
             git.url("acme/config"), "--app", "api", "--env", "staging",
             "--image", "ghcr.io/acme/api:1.5.0", "--forge", scenario.forge,
             *(["--api-url", api.url] if scenario.forge != "local" else []), *args],
            capture_output=True, text=True, env=env, check=False, timeout=60,
        )
        assert other.seen == [], other.seen
    assert result.returncode == scenario.exit_code, result.stderr[-2000:]
    assert list(tmp.iterdir()) == []
    texts = [result.stdout, result.stderr, log.read_text() if log.exists() else ""]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            texts.append(path.read_bytes().decode("latin-1"))
    for secret in secrets:
        basic = base64.b64encode(f"{_user(variable, scenario.forge)}:{secret}".encode())
        for text in texts:
            assert secret not in text and basic.decode() not in text
