"""Container image references: parse, normalise, match, render.

Grammar: the OCI distribution reference grammar
(``registry[:port]/path[:tag][@digest]``), with Docker Hub normalisation:
``nginx`` == ``docker.io/library/nginx``, ``index.docker.io/x`` == ``docker.io/x``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from promoter.errors import InputError

DEFAULT_REGISTRY = "docker.io"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[_.]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[[a-fA-F0-9:]+\]"
_DOMAIN = rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}"

_REFERENCE_RE = re.compile(
    rf"(?P<name>(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*))"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?"
)
_HEX = {"sha256": 64, "sha384": 96, "sha512": 128}
MAX_NAME = 255


@dataclass(frozen=True)
class ImageRef:
    """One image reference. ``registry`` and ``path`` are normalised;
    ``written`` is the name as the user spelled it (kept when rendering)."""

    registry: str
    path: str
    tag: str | None = None
    digest: str | None = None
    written: str = ""

    @property
    def repository(self) -> str:
        """Normalised repository: ``docker.io/library/nginx``."""
        return f"{self.registry}/{self.path}"

    @property
    def name(self) -> str:
        """The name as written, or the normalised one."""
        return self.written or self.repository

    @property
    def version(self) -> str:
        """``tag``, ``@digest`` or ``tag@digest``: what a promotion changes."""
        return (self.tag or "") + (f"@{self.digest}" if self.digest else "")

    @property
    def last_component(self) -> str:
        """The last path component, present verbatim in every spelling."""
        return self.path.rsplit("/", 1)[-1]

    def __str__(self) -> str:
        return self.name + (f":{self.tag}" if self.tag else "") + (
            f"@{self.digest}" if self.digest else ""
        )

    def with_version(self, tag: str | None, digest: str | None) -> ImageRef:
        return replace(self, tag=tag, digest=digest)


def split_domain(name: str) -> tuple[str, str]:
    """Split a name into (registry, path) by Docker's rule: the first component
    is a registry when it holds a dot or a colon, or is ``localhost``."""
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        registry, path = first, rest
    else:
        registry, path = DEFAULT_REGISTRY, name
    if registry in _HUB_ALIASES:
        registry = DEFAULT_REGISTRY
        if "/" not in path:
            path = f"library/{path}"
    elif registry == DEFAULT_REGISTRY and "/" not in path:
        path = f"library/{path}"
    return registry, path


def normalise_repository(name: str) -> str:
    """``nginx`` -> ``docker.io/library/nginx``; no validation."""
    registry, path = split_domain(name)
    return f"{registry}/{path}"


def try_parse(text: str) -> ImageRef | None:
    """Parse a reference, or None when ``text`` is not one."""
    if not text or len(text) > 512 or text != text.strip():
        return None
    match = _REFERENCE_RE.fullmatch(text)
    if match is None or len(match["name"]) > MAX_NAME:
        return None
    digest = match["digest"]
    if digest is not None:
        algorithm, _, encoded = digest.partition(":")
        width = _HEX.get(algorithm)
        if width is not None and not re.fullmatch(rf"[a-f0-9]{{{width}}}", encoded):
            return None
    registry, path = split_domain(match["name"])
    return ImageRef(registry, path, match["tag"], digest, match["name"])


def parse(text: str, what: str = "image reference") -> ImageRef:
    """Parse a reference or raise InputError naming the bad value."""
    ref = try_parse(text)
    if ref is None:
        raise InputError(
            f"invalid {what} {text!r}: expected registry/path[:tag][@sha256:<64 hex>]"
        )
    return ref


def parse_new(text: str) -> ImageRef:
    """Parse the reference a promotion writes: it must carry a tag or a digest."""
    ref = parse(text)
    if ref.tag is None and ref.digest is None:
        raise InputError(f"image reference {text!r} has no tag or digest; add :TAG or @DIGEST")
    return ref


def same_repository(a: str, b: str) -> bool:
    """Whether two names denote one repository after normalisation."""
    return normalise_repository(a) == normalise_repository(b)
