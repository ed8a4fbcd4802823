"""What the registry tests share: the credentials, the images pushed into the
registries and the fixtures' values (imported by conftest.py and the tests; a
module of its own, since a second ``conftest`` module on sys.path would clash)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from support.registry import Image, Index, Registry
from support.registry_servers import TokenServer

USER = "robot"
PASSWORD = "SENTINEL-registry-pw-5d1c"
SOURCE = "https://github.com/acme/api"
LABELS_10 = {
    "org.opencontainers.image.source": SOURCE,
    "org.opencontainers.image.revision": "1111111111111111111111111111111111111111",
    "org.opencontainers.image.version": "1.0",
    "org.opencontainers.image.created": "2026-11-30T10:00:00Z",
}
LABELS_11 = {**LABELS_10, "org.opencontainers.image.revision": "2" * 40,
             "org.opencontainers.image.version": "1.1",
             "org.opencontainers.image.created": "2026-12-01T09:30:00+01:00"}

TAGS: dict[str, Image | Index] = {
    "1.0": Image(labels=LABELS_10),
    "1.1": Image(labels=LABELS_11, salt="1.1"),
    "plain": Image(salt="plain"),
    "rebuilt": Image(salt="rebuilt"),
    "multi": Index((Image(labels=LABELS_11, salt="m"), Image(arch="arm64", salt="m"))),
}


@dataclass(frozen=True)
class Images:
    layout: Path
    digests: dict[str, str]  # layout tag -> digest of what it holds


@dataclass(frozen=True)
class TokenSetup:
    registry: Registry
    tokens: TokenServer
