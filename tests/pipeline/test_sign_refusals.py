"""``--sign github|gitlab`` refuses the git options the forge's API cannot honour
(``--author`` and ``--committer`` on GitHub, ``--committer`` on GitLab) and a
``--forge`` that is not the signing forge before anything touches the network:
the git server and the forge API receive no request, exit 2, one line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fakes.github_server import FakeGitHub
from fakes.gitlab_server import FakeGitLab
from support.configrepo import example_copy, heads
from support.gitserver import GitServer

from promoter.errors import InputError
from promoter.git import Identity
from promoter.promote import Request, promote

TOKEN = "glpat-sign-refusal-token"
IMAGE = "ghcr.io/acme/api:1.5.0"
BOT = Identity("Release Bot", "bot@acme.test")


@dataclass
class Remotes:
    github: FakeGitHub
    gitlab: FakeGitLab
    server: GitServer
    bare: Path

    def api_url(self, forge: str) -> str:
        return self.github.api_url if forge == "github" else self.gitlab.url

    def untouched(self) -> None:
        assert self.server.requests == [], "the refusal came after a clone"
        assert self.github.requests == [] and self.gitlab.requests == []
        assert list(heads(self.bare)) == ["main"]


@pytest.fixture
def remotes(tmp_path: Path) -> Iterator[Remotes]:
    with FakeGitHub(token=TOKEN, prefix="/api/v3") as github, FakeGitLab(token=TOKEN) as gitlab, \
            GitServer(tmp_path / "srv") as server:  # open: a clone would go through
        bare = server.create("acme/config", example_copy(tmp_path / "tree"))
        yield Remotes(github, gitlab, server, bare)


REFUSED = [("github", "author"), ("github", "committer"), ("gitlab", "committer")]


@pytest.mark.parametrize(("forge", "option"), REFUSED)
def test_an_option_the_forge_cannot_honour_is_refused_before_the_clone(
        remotes: Remotes, forge: str, option: str) -> None:
    request = Request(repo=remotes.server.url("acme/config"), app="api", env="staging",
                      forge=forge, api_url=remotes.api_url(forge), sign=forge, image=IMAGE,
                      **{option: BOT})  # type: ignore[arg-type]
    with pytest.raises(InputError, match=rf"^--{option} cannot be honoured with --sign {forge}"
                       ) as caught:
        promote(request, {"PROMOTER_TOKEN": TOKEN})
    assert caught.value.exit_code == 2 and "\n" not in caught.value.message
    remotes.untouched()


def test_an_app_credential_is_not_exchanged_for_a_refused_option(
        remotes: Remotes, tmp_path: Path) -> None:
    """A GitHub App token is minted over the network: not for a usage error."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "app.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    remotes.github.app_id = "1234"
    remotes.github.app_public_key = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    request = Request(repo=remotes.server.url("acme/config"), app="api", env="staging",
                      forge="github", api_url=remotes.github.api_url, sign="github",
                      image=IMAGE, committer=BOT, app_id="1234",
                      app_private_key=str(pem))
    with pytest.raises(InputError, match=r"^--committer cannot be honoured with --sign github"):
        promote(request, {})
    remotes.untouched()


@pytest.mark.parametrize(("sign", "forge"), [("github", "gitlab"), ("gitlab", "github")])
def test_a_forge_that_is_not_the_signing_one_is_refused_before_the_clone(
        remotes: Remotes, sign: str, forge: str) -> None:
    request = Request(repo=remotes.server.url("acme/config"), app="api", env="staging",
                      forge=forge, api_url=remotes.api_url(forge), sign=sign, image=IMAGE)
    with pytest.raises(InputError, match=rf"^--sign {sign} needs --forge {sign}, not {forge};"):
        promote(request, {"PROMOTER_TOKEN": TOKEN})
    remotes.untouched()


def test_the_cli_exits_2_with_one_line_and_no_request(remotes: Remotes) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "promoter", "promote", "--repo", remotes.server.url("acme/config"),
         "--app", "api", "--env", "staging", "--image", IMAGE, "--forge", "github",
         "--api-url", remotes.github.api_url, "--sign", "github",
         "--author", "Release Bot <bot@acme.test>"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "PROMOTER_TOKEN": TOKEN}, timeout=60)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("error: --author cannot be honoured with --sign github")
    assert len(run.stderr.strip().splitlines()) == 1
    remotes.untouched()
