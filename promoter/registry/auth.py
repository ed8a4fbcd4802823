"""Registry credentials, as users already have them, and the token challenge.

For the registry of the image (``host[:port]`` as in the reference), the first
of these that is set:

    PROMOTER_REGISTRY_USER + PROMOTER_REGISTRY_PASSWORD   (or PROMOTER_REGISTRY_TOKEN,
                                      the password; user "promoter" when none is set)
    $DOCKER_CONFIG/config.json, else ~/.docker/config.json: ``auths`` (``auth`` or
                                      ``username``/``password``); credential helpers are
                                      not run
    GITHUB_TOKEN                      for ghcr.io only (user $GITHUB_ACTOR)
    CI_REGISTRY_USER + CI_REGISTRY_PASSWORD   for $CI_REGISTRY only (GitLab CI)

Without any, requests are anonymous. A Bearer challenge (``WWW-Authenticate:
Bearer realm=...,service=...,scope=...``) is answered by asking the realm for a
token, with the credentials when safety.may_receive_credentials allows it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from promoter.credentials import Credentials
from promoter.errors import InputError
from promoter.images import DEFAULT_REGISTRY

DEFAULT_USER = "promoter"
_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io",
             "registry-1.docker.io", "https://registry-1.docker.io")
_PARAM = re.compile(r'([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "bearer" or "basic", lower-case
    params: dict[str, str]


def lookup(registry: str, environ: Mapping[str, str]) -> Credentials | None:
    """The credentials for ``registry`` (as named in references), or None."""
    user = environ.get("PROMOTER_REGISTRY_USER", "").strip()
    secret = environ.get("PROMOTER_REGISTRY_PASSWORD") or environ.get("PROMOTER_REGISTRY_TOKEN")
    if secret:
        source = ("PROMOTER_REGISTRY_PASSWORD" if environ.get("PROMOTER_REGISTRY_PASSWORD")
                  else "PROMOTER_REGISTRY_TOKEN")
        return Credentials(user or DEFAULT_USER, secret, source)
    found = from_docker_config(registry, environ)
    if found is not None:
        return found
    return from_ci(registry, environ)


def from_ci(registry: str, environ: Mapping[str, str]) -> Credentials | None:
    """GITHUB_TOKEN for ghcr.io; CI_REGISTRY_USER/PASSWORD for $CI_REGISTRY."""
    token = environ.get("GITHUB_TOKEN", "").strip()
    if registry == "ghcr.io" and token:
        return Credentials(environ.get("GITHUB_ACTOR") or "x-access-token", token, "GITHUB_TOKEN")
    user, password = environ.get("CI_REGISTRY_USER", ""), environ.get("CI_REGISTRY_PASSWORD", "")
    if user and password and registry == environ.get("CI_REGISTRY", "").strip().lower():
        return Credentials(user, password, "CI_REGISTRY_PASSWORD")
    return None


def docker_config_path(environ: Mapping[str, str]) -> Path:
    directory = environ.get("DOCKER_CONFIG")
    if directory:
        return Path(directory) / "config.json"
    return Path(environ.get("HOME") or os.path.expanduser("~")) / ".docker" / "config.json"


def from_docker_config(registry: str, environ: Mapping[str, str]) -> Credentials | None:
    """The ``auths`` entry of Docker's config file for ``registry``."""
    path = docker_config_path(environ)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not readable JSON ({type(exc).__name__}); fix it, "
                         "or point DOCKER_CONFIG elsewhere") from None
    auths = data.get("auths") if isinstance(data, dict) else None
    if not isinstance(auths, dict):
        return None
    for key, entry in auths.items():
        if _config_key(str(key)) == registry and isinstance(entry, dict):
            return _entry(entry, path, str(key))
    return None


def _config_key(key: str) -> str:
    """``https://ghcr.io/v1/`` -> ``ghcr.io``; Docker Hub's keys -> ``docker.io``."""
    if key in _HUB_KEYS:
        return DEFAULT_REGISTRY
    bare = key.split("://", 1)[-1].split("/", 1)[0].lower()
    return DEFAULT_REGISTRY if bare in ("index.docker.io", "registry-1.docker.io") else bare


def _entry(entry: dict[str, object], path: Path, key: str) -> Credentials | None:
    user, password = entry.get("username"), entry.get("password")
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise InputError(f"{path}: auths.{key}.auth is not base64 of user:password; "
                             "log in again") from None
    if isinstance(user, str) and isinstance(password, str) and user and password:
        return Credentials(user, password, f"{path} ({key})")
    return None


def parse_challenge(header: str | None) -> Challenge | None:
    """``Bearer realm="...",service="...",scope="..."`` -> Challenge."""
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    params = {name.lower(): bare or quoted.replace('\\"', '"')
              for name, quoted, bare in _PARAM.findall(rest)}
    return Challenge(scheme.lower(), params)
