"""--sign gpg / --sign ssh: the promotion commit verifies with `git verify-commit`
against throwaway keys made here; the key's directory is gone afterwards and the
key never shows up in the record."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.configrepo import bare_from, example_copy, heads

from promoter.errors import InputError
from promoter.promote import Request, promote

IMAGE = "ghcr.io/acme/api:1.5.0"


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed; apt-get install gnupg openssh-client (.ci/run)")


def _run(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
         stdin: bytes | None = None) -> str:
    result = subprocess.run(argv, capture_output=True, env={**os.environ, **(env or {})},
                            cwd=cwd, input=stdin, check=False)
    assert result.returncode == 0, f"{argv[:3]}: {result.stderr.decode()}"
    return result.stdout.decode() + result.stderr.decode()


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return bare_from(example_copy(tmp_path / "tree"), tmp_path / "remote.git")


@pytest.fixture
def scratch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """promoter's temporary directories land here, to see that they are removed
    (a short path: gpg-agent's socket lives in the GNUPGHOME)."""
    where = Path(tempfile.mkdtemp(prefix="gs-", dir="/tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    yield where
    shutil.rmtree(where, ignore_errors=True)


@pytest.fixture
def gpg_home() -> Iterator[Path]:
    """A keyring (short path: gpg-agent's socket) with one throwaway signing key."""
    _need("gpg")
    home = Path(tempfile.mkdtemp(prefix="gk-", dir="/tmp"))
    env = {"GNUPGHOME": str(home)}
    _run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key",
          "Signer <signer@example.test>", "ed25519", "sign", "never"], env)
    yield home
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env={**os.environ, **env}, check=False)
    shutil.rmtree(home, ignore_errors=True)


def _armored(home: Path) -> str:
    return _run(["gpg", "--batch", "--armor", "--export-secret-keys"],
                {"GNUPGHOME": str(home)}).strip()


def _leftovers(scratch: Path) -> list[str]:
    return [p.name for p in scratch.iterdir() if p.name.startswith("promoter-sign-")]


def test_gpg_signed_promotion_commit_verifies(remote: Path, scratch: Path,
                                               gpg_home: Path) -> None:
    key = _armored(gpg_home)
    result = promote(Request(repo=str(remote), app="api", env="staging", image=IMAGE,
                             sign="gpg"), {"PROMOTER_SIGNING_KEY": key})
    assert result.commit == heads(remote)["promoter/staging/api"]
    out = _run(["git", "verify-commit", "--raw", str(result.commit)],
               {"GNUPGHOME": str(gpg_home)}, cwd=remote)
    assert "GOODSIG" in out and "VALIDSIG" in out
    assert _leftovers(scratch) == []
    assert "PRIVATE KEY" not in json.dumps(result.record())


def test_ssh_signed_promotion_commit_verifies(remote: Path, scratch: Path,
                                               tmp_path: Path) -> None:
    _need("ssh-keygen")
    key = tmp_path / "id_ed25519"
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "signer", "-f", str(key)])
    result = promote(Request(repo=str(remote), app="api", env="staging", image=IMAGE,
                             sign="ssh"), {"PROMOTER_SIGNING_KEY": key.read_text()})
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"promoter@localhost {(tmp_path / 'id_ed25519.pub').read_text()}")
    out = _run(["git", "-c", f"gpg.ssh.allowedSignersFile={signers}", "verify-commit",
                str(result.commit)], cwd=remote)
    assert 'Good "git" signature for promoter@localhost' in out
    assert _leftovers(scratch) == []


def test_unsigned_commit_does_not_verify(remote: Path) -> None:
    """The check above can fail: an unsigned promotion commit is refused."""
    result = promote(Request(repo=str(remote), app="api", env="staging", image=IMAGE), {})
    check = subprocess.run(["git", "verify-commit", str(result.commit)], cwd=remote,
                           capture_output=True, check=False)
    assert check.returncode != 0


@pytest.mark.parametrize(("mode", "key", "says"), [
    ("gpg", "", "needs the private key in PROMOTER_SIGNING_KEY"),
    ("gpg", "ssh-ed25519 AAAA not-a-gpg-key", "not an armored GPG secret key"),
    ("ssh", "ssh-ed25519 AAAA only-the-public-key", "not an OpenSSH private key"),
    ("ssh", "-----BEGIN OPENSSH PRIVATE KEY-----\ngarbage\n-----END OPENSSH PRIVATE KEY-----",
     "reading the SSH key of PROMOTER_SIGNING_KEY"),
    ("x509", "whatever", "is not one of gpg, ssh, github"),
])
def test_bad_key_is_an_input_error_and_pushes_nothing(
    remote: Path, scratch: Path, mode: str, key: str, says: str
) -> None:
    before = heads(remote)
    with pytest.raises(InputError, match=says) as caught:
        promote(Request(repo=str(remote), app="api", env="staging", image=IMAGE, sign=mode),
                {"PROMOTER_SIGNING_KEY": key})
    assert heads(remote) == before
    assert _leftovers(scratch) == []
    assert "garbage" not in str(caught.value)


def test_encrypted_ssh_key_is_refused_before_anything_is_pushed(
    remote: Path, scratch: Path, tmp_path: Path
) -> None:
    _need("ssh-keygen")
    key = tmp_path / "id_locked"
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "s3cret", "-f", str(key)])
    with pytest.raises(InputError, match="must be unencrypted"):
        promote(Request(repo=str(remote), app="api", env="staging", image=IMAGE, sign="ssh"),
                {"PROMOTER_SIGNING_KEY": key.read_text()})
    assert "promoter/staging/api" not in heads(remote)
    assert _leftovers(scratch) == []


def test_cli_sign_ssh_keeps_the_key_out_of_argv_and_output(
    remote: Path, tmp_path: Path
) -> None:
    """Through the CLI, with a ``git`` first on PATH that logs every argv and the
    clone's .git/config: the key text appears in none of them."""
    _need("ssh-keygen")
    key = tmp_path / "id_ed25519"
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)])
    secret = key.read_text()
    body = "".join(secret.strip().splitlines()[1:-1])  # the base64 lines of the key
    log, bindir = tmp_path / "git.log", tmp_path / "bin"
    bindir.mkdir()
    real = shutil.which("git")
    (bindir / "git").write_text(
        f'#!/bin/sh\nprintf "argv: %s\\n" "$*" >> "{log}"\n"{real}" "$@"\nstatus=$?\n'
        f'[ -f .git/config ] && cat .git/config >> "{log}"\nexit $status\n')
    (bindir / "git").chmod(0o755)
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}",
           "PROMOTER_SIGNING_KEY": secret}
    done = subprocess.run(
        [sys.executable, "-m", "promoter", "--verbose", "promote", "--repo", str(remote),
         "--app", "api", "--env", "staging", "--image", IMAGE, "--sign", "ssh",
         "--output", "json"], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    audit = log.read_text()
    assert "commit --quiet" in audit
    for text in (done.stdout, done.stderr, audit):
        assert body[:40] not in text and "PRIVATE KEY" not in text
    sha = json.loads(done.stdout)["commit"]
    signed = subprocess.run(["git", "cat-file", "commit", sha], cwd=remote,
                            capture_output=True, text=True, check=True).stdout
    assert "-----BEGIN SSH SIGNATURE-----" in signed
