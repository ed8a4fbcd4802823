"""Signed promotion commits (``--sign gpg`` / ``--sign ssh``) with git's own signing.

The key comes from ``PROMOTER_SIGNING_KEY`` (an ASCII-armored GPG secret key
without passphrase, or an unencrypted OpenSSH private key). It is written only
into a private temporary directory (0700; the GNUPGHOME for gpg) that is removed
when the promotion ends, failed or not. git learns what to sign with through
``GIT_CONFIG_*`` variables (``gpg.format``, ``user.signingkey``,
``commit.gpgSign``): the key never appears in argv, a URL, a log line or the
clone's .git/config.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from promoter.errors import InputError
from promoter.git import Git, with_config

MODES = ("gpg", "ssh")
VARIABLE = "PROMOTER_SIGNING_KEY"


@contextmanager
def signing(session: Git, mode: str | None, environ: Mapping[str, str]) -> Iterator[Git]:
    """``session`` set up to sign every commit with the key of ``mode`` (None:
    unchanged); the key's directory is removed on leaving, even on an error."""
    if mode is None or mode in ("github", "gitlab"):  # the forge signs (promoter.forge_commit)
        yield session
        return
    if mode not in MODES:
        raise InputError(f"--sign {mode!r} is not one of {', '.join(MODES)}, github, gitlab;"
                         " fix the value")
    key = environ.get(VARIABLE, "").strip()
    if not key:
        raise InputError(f"--sign {mode} needs the private key in {VARIABLE}; set it")
    with tempfile.TemporaryDirectory(prefix="promoter-sign-", dir=_short_tmp()) as tmp:
        home = Path(tmp)
        home.chmod(0o700)
        try:
            if mode == "gpg":
                yield with_config(session, _gpg(home, key), {"GNUPGHOME": tmp})
            else:
                yield with_config(session, _ssh(home, key), {})
        finally:
            if mode == "gpg":
                _tool(["gpgconf", "--kill", "gpg-agent"], {"GNUPGHOME": tmp}, check=False)


def _short_tmp() -> str | None:
    """The temp root, or /tmp when it is too long for gpg-agent's socket path
    (sockaddr_un holds about 100 bytes)."""
    root = tempfile.gettempdir()
    return "/tmp" if len(root) > 60 and os.path.isdir("/tmp") else None


def _gpg(home: Path, key: str) -> list[tuple[str, str]]:
    """Import the armored secret key into ``home``; the config that signs with it."""
    if "BEGIN PGP PRIVATE KEY BLOCK" not in key:
        raise InputError(f"--sign gpg: {VARIABLE} is not an armored GPG secret key"
                         " (gpg --armor --export-secret-keys); fix the variable")
    env = {"GNUPGHOME": str(home)}
    _tool(["gpg", "--batch", "--quiet", "--import"], env, stdin=key.encode() + b"\n",
          what="importing the GPG key of " + VARIABLE)
    listing = _tool(["gpg", "--batch", "--with-colons", "--list-secret-keys"], env,
                    what="reading the GPG key of " + VARIABLE)
    fingerprints = [line.split(":")[9] for line in listing.splitlines()
                    if line.startswith("fpr:")]
    if not fingerprints:
        raise InputError(f"--sign gpg: {VARIABLE} holds no secret key; export one with"
                         " gpg --armor --export-secret-keys")
    return [("gpg.format", "openpgp"), ("gpg.openpgp.program", "gpg"),
            ("user.signingKey", fingerprints[0]), ("commit.gpgSign", "true")]


def _ssh(home: Path, key: str) -> list[tuple[str, str]]:
    """Write the OpenSSH private key into ``home`` (0600); the config that signs with it."""
    if "PRIVATE KEY-----" not in key:
        raise InputError(f"--sign ssh: {VARIABLE} is not an OpenSSH private key; fix the"
                         " variable (the public key is not enough)")
    path = home / "signing_key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    # -P "": an encrypted key fails here, with a clear message, instead of at commit time
    _tool(["ssh-keygen", "-y", "-P", "", "-f", str(path)], {},
          what=f"reading the SSH key of {VARIABLE} (it must be unencrypted)")
    return [("gpg.format", "ssh"), ("gpg.ssh.program", "ssh-keygen"),
            ("user.signingKey", str(path)), ("commit.gpgSign", "true")]


def _tool(argv: list[str], env: dict[str, str], *, stdin: bytes | None = None,
          what: str = "", check: bool = True) -> str:
    """Run gpg, gpgconf or ssh-keygen (never with the key in argv); stdout."""
    try:
        result = subprocess.run(argv, input=stdin, capture_output=True, check=False,
                                env={**os.environ, **env, "LC_ALL": "C"}, timeout=60)
    except FileNotFoundError:
        raise InputError(f"{what}: {argv[0]} is not installed; install"
                         f" {'gnupg' if argv[0].startswith('gpg') else 'openssh-client'}") from None
    if check and result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines()
        last = next((line for line in reversed(lines) if "PRIVATE" not in line), "no output")
        raise InputError(f"{what} failed: {argv[0]}: {last[:200]}; check {VARIABLE}")
    return result.stdout.decode(errors="replace")
