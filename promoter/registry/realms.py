"""Token realms learned from registries' Bearer challenges, kept between runs.

A registry that answers with ``WWW-Authenticate: Bearer realm=...,service=...``
costs three requests the first time (the 401, the token, the request again).
Its realm and service (never a token, a password or a scope) are remembered
per registry origin, so the next run asks the realm first: token and request,
two. Docker Hub's realm is known without learning it (KNOWN, from Docker's
documentation of its pull limits, docs.docker.com/docker-hub/usage/pulls/).

The file (``Realms.path``): ``$PROMOTER_REGISTRY_CACHE`` (``off`` turns it
off), else ``$XDG_CACHE_HOME/promoter/registry-realms.json``, else
``$HOME/.cache/promoter/registry-realms.json``; none without one of those in
the environment. Its directory is created 0700, the file is written 0600 by
replacing it whole. A file that is not valid, is a symbolic link, is not owned
by this user or is writable by others is ignored (and replaced when a realm is
learned). Whether a remembered realm may be asked, and with the credentials,
is safety.may_ask_remembered's rule. Failing to read or write the file never
fails a check.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("promoter.registry")
FILE_NAME = "registry-realms.json"
OFF = frozenset({"off", "false", "0", "no"})
READ_LIMIT = 256 * 1024
MAX_ENTRIES = 100
MAX_URL = 2048


@dataclass(frozen=True)
class Realm:
    """Where a registry's tokens come from: the realm URL and its ``service``."""

    url: str
    service: str | None = None


KNOWN = {
    "https://registry-1.docker.io": Realm("https://auth.docker.io/token", "registry.docker.io"),
}


def cache_path(environ: Mapping[str, str]) -> Path | None:
    """The cache file for this environment; None: no cache."""
    chosen = environ.get("PROMOTER_REGISTRY_CACHE", "").strip()
    if chosen.lower() in OFF:
        return None
    if chosen:
        return Path(chosen).expanduser()
    base = environ.get("XDG_CACHE_HOME", "").strip()
    if base and os.path.isabs(base):
        return Path(base) / "promoter" / FILE_NAME
    home = environ.get("HOME", "").strip()
    return Path(home) / ".cache" / "promoter" / FILE_NAME if home else None


class Realms:
    """The realms remembered in ``path`` (None: nothing is kept between runs)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._entries: dict[str, Realm] | None = None

    def remembered(self, origin: str) -> Realm | None:
        """The realm learned for the registry at ``origin``, else the known one."""
        return self._loaded().get(origin) or KNOWN.get(origin)

    def learn(self, origin: str, realm: Realm) -> None:
        """Remember ``realm`` for ``origin`` (the file is written only on a change)."""
        entries = self._loaded()
        if entries.get(origin) == realm or len(realm.url) > MAX_URL:
            return
        entries.pop(origin, None)
        entries[origin] = realm
        while len(entries) > MAX_ENTRIES:
            entries.pop(next(iter(entries)))
        self._write(entries)

    def forget(self, origin: str) -> None:
        entries = self._loaded()
        if entries.pop(origin, None) is not None:
            self._write(entries)

    def _loaded(self) -> dict[str, Realm]:
        if self._entries is None:
            self._entries = _read(self.path) if self.path is not None else {}
        return self._entries

    def _write(self, entries: dict[str, Realm]) -> None:
        if self.path is None:
            return
        data = {"version": 1, "realms": {origin: {"realm": realm.url, "service": realm.service}
                                         for origin, realm in entries.items()}}
        try:
            _replace(self.path, json.dumps(data, indent=1, sort_keys=True).encode())
        except OSError as exc:
            log.info("registry realm cache %s not written: %s", self.path, exc.strerror or exc)


def _read(path: Path) -> dict[str, Realm]:
    """The entries of the file at ``path``; empty when it is missing or not trusted."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(descriptor, "rb") as handle:
            if not _trusted(os.fstat(handle.fileno())):
                log.info("registry realm cache %s ignored: not a regular file of this user "
                         "that only they can write", path)
                return {}
            raw = handle.read(READ_LIMIT + 1)
    except OSError:
        return {}
    try:
        found = json.loads(raw) if len(raw) <= READ_LIMIT else None
    except ValueError:
        found = None
    realms = found.get("realms") if isinstance(found, dict) else None
    if not isinstance(realms, dict):
        log.info("registry realm cache %s ignored: not a realm cache", path)
        return {}
    return {origin: realm for origin, realm in
            ((str(k), _entry(v)) for k, v in realms.items()) if realm is not None}


def _entry(value: object) -> Realm | None:
    if not isinstance(value, dict):
        return None
    url, service = value.get("realm"), value.get("service")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return None
    if len(url) > MAX_URL or not (service is None or isinstance(service, str)):
        return None
    return Realm(url, service)


def _trusted(status: os.stat_result) -> bool:
    mine = getattr(os, "getuid", None)
    owned = mine is None or status.st_uid == mine()
    return stat.S_ISREG(status.st_mode) and owned and not status.st_mode & 0o022


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, mode 0600, in a directory made 0700."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
