"""OCI image labels -> the "what changed" lines of a pull request.

Labels are read from an image's config (``org.opencontainers.image.source``,
``.revision``, ``.version``, ``.created``), with the manifest's annotations
filling gaps. They are written by whoever built the image, so each value is
accepted only in its expected shape (an http(s) URL, a revision or version
word, an RFC 3339 time) and is otherwise dropped. No labels, no lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from promoter import remote

PREFIX = "org.opencontainers.image."
_WORD = re.compile(r"[0-9A-Za-z][0-9A-Za-z._+-]{0,63}")
_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~/-]*)?")


@dataclass(frozen=True)
class ImageLabels:
    """What an image says about itself; None where it says nothing usable."""

    source: str | None = None
    revision: str | None = None
    version: str | None = None
    created: str | None = None  # UTC, "2026-12-01 09:30 UTC"


@dataclass(frozen=True)
class Provenance:
    """The labels of the image a promotion replaces and of the one it writes."""

    old: ImageLabels | None
    new: ImageLabels | None


def from_labels(labels: Mapping[str, object]) -> ImageLabels:
    def get(name: str) -> str | None:
        value = labels.get(PREFIX + name)
        return value.strip() if isinstance(value, str) and value.strip() else None

    revision, version = get("revision"), get("version")
    return ImageLabels(
        source=source_url(get("source")),
        revision=revision if revision and _WORD.fullmatch(revision) else None,
        version=version if version and _WORD.fullmatch(version) else None,
        created=_time(get("created")),
    )


def source_url(value: str | None) -> str | None:
    """``git@github.com:acme/api.git`` or ``https://github.com/acme/api.git`` ->
    ``https://github.com/acme/api``; anything else that is no plain URL -> None."""
    if not value:
        return None
    where = remote.parse(value)
    scp = where.scheme == "scp" and where.userinfo == "git"
    url = f"https://{where.host}/{where.path}" if scp else value
    if not _URL.fullmatch(url):
        return None
    return url.removesuffix("/").removesuffix(".git")


def _time(value: str | None) -> str | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def compare_url(source: str, old: str, new: str) -> str | None:
    """The forge's compare page of ``old...new`` (GitHub, GitLab), else None."""
    host = remote.parse(source).host
    if "github" in host:
        return f"{source}/compare/{old}...{new}"
    if "gitlab" in host:
        return f"{source}/-/compare/{old}...{new}"
    return None


def summary(provenance: Provenance | None) -> str:
    """Markdown lines for the pull request body; empty without labels."""
    if provenance is None or provenance.new is None:
        return ""
    new, old = provenance.new, provenance.old or ImageLabels()
    lines = []
    if new.source:
        lines.append(f"- Image source: {new.source}")
    lines += _revision(old, new)
    if new.version:
        lines.append("- Version: " + _pair(old.version, new.version))
    if new.created:
        lines.append("- Image created: " + _pair(old.created, new.created, plain=True))
    return "\n".join(lines)


def _revision(old: ImageLabels, new: ImageLabels) -> list[str]:
    if not new.revision:
        return []
    same_source = old.source in (None, new.source)
    if old.revision and old.revision != new.revision and new.source and same_source:
        link = compare_url(new.source, old.revision, new.revision)
        if link:
            return [f"- Changes: [`{old.revision[:12]}...{new.revision[:12]}`]({link})"]
    return ["- Revision: " + _pair(old.revision, new.revision)]


def _pair(old: str | None, new: str, plain: bool = False) -> str:
    quote = "" if plain else "`"
    text = f"{quote}{new}{quote}"
    return f"{quote}{old}{quote} -> {text}" if old and old != new else text
