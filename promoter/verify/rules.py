"""Shared vocabulary of the readiness rules: what a check returns and what it
compares against. Everything here is pure: plain dicts in, frozen values out."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from promoter.images import ImageRef, try_parse

READY = "ready"
WAITING = "waiting"
FAILED = "failed"

Obj = Mapping[str, Any]
COMMIT_SHA = re.compile(r"[0-9a-fA-F]{7,64}")  # a commit id, maybe abbreviated
Ancestry = Callable[[str, str], bool]  # (ancestor, descendant) -> bool


class Resource(NamedTuple):
    """A Kubernetes resource type, as the API path names it."""

    group: str
    version: str
    plural: str


@dataclass(frozen=True)
class Check:
    """The verdict on one object: ``ready``, ``waiting`` (with what is missing)
    or ``failed`` (terminal, with the reason and the failing resources)."""

    state: str
    reason: str
    revision: str | None = None
    resources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Expect:
    """What the cluster must show: the merged commit and, optionally, the image."""

    revision: str
    image: ImageRef | None = None
    allow_paused: bool = False
    is_ancestor: Ancestry | None = None
    repo_url: str | None = None  # the config repository, to pick a multi-source app's source
    # the targets that tie the run to the commit (Flux Kustomizations, Argo CD apps) as
    # (kind, namespace, name): a HelmRelease whose chart names no commit may pass on its
    # own state beside the one that applied it
    appliers: tuple[tuple[str, str, str], ...] = ()


def ready(reason: str, revision: str | None = None) -> Check:
    return Check(READY, reason, revision)


def waiting(reason: str, revision: str | None = None) -> Check:
    return Check(WAITING, reason, revision)


def failed(reason: str, revision: str | None = None, resources: tuple[str, ...] = ()) -> Check:
    return Check(FAILED, reason, revision, resources)


def or_list(names: Iterable[str]) -> str:
    """``a, b or c``: the choices in a message."""
    listed = list(names)
    return " or ".join(filter(None, (", ".join(listed[:-1]), listed[-1]))) if listed else ""


def short_sha(sha: str) -> str:
    return sha[:12]


def revision_matches(expect: Expect, seen: str | None) -> bool:
    """Whether ``seen`` is the merge commit or a descendant of it.

    Exact match (either may be abbreviated to 7+ hex digits) always counts;
    descendants count only when an ancestry function is available. A commit the
    ancestry function does not know (LookupError: not fetched yet) is no match,
    and so is anything that is no commit SHA (a Helm chart version, a tag or
    branch name: git would resolve it to some commit)."""
    if not seen or not COMMIT_SHA.fullmatch(seen):
        return False
    want, got = expect.revision.lower(), seen.lower()
    if got == want or (min(len(got), len(want)) >= 7 and (got.startswith(want) or
                                                          want.startswith(got))):
        return True
    if expect.is_ancestor is None:
        return False
    try:
        return expect.is_ancestor(expect.revision, seen)
    except LookupError:  # a commit unknown (not fetched yet): not a match, for now
        return False


def mismatch(expect: Expect, what: str, seen: str | None) -> str:
    """The waiting reason for a revision that is not (yet) the merged commit."""
    if not seen:
        return f"no {what} yet, waiting for {short_sha(expect.revision)}"
    text = f"{what} {short_sha(seen)} is not {short_sha(expect.revision)}"
    if expect.is_ancestor is None:
        return text + " (without --repo only an exact SHA match counts)"
    return text + " or a descendant of it"


def condition(obj: Obj, kind: str) -> Mapping[str, Any] | None:
    """The status condition of type ``kind``, or None."""
    for cond in (obj.get("status") or {}).get("conditions") or ():
        if cond.get("type") == kind:
            return dict(cond)
    return None


def deleting(obj: Obj) -> Check | None:
    """Failed when the object is being deleted: never a pass, whatever its status says."""
    when = (obj.get("metadata") or {}).get("deletionTimestamp")
    if not when:
        return None
    return failed(f"being deleted (deletionTimestamp {when}); it will not stay live")


def image_matches(want: ImageRef, text: str) -> bool:
    """Whether a container's image is ``want``: same repository and version
    (a digest, when wanted, must match; a tag, when wanted, must match)."""
    got = try_parse(text)
    if got is None or got.repository != want.repository:
        return False
    if want.digest and got.digest != want.digest:
        return False
    return not (want.tag and got.tag != want.tag and not (want.digest and got.digest))


def parse_time(text: str | None) -> datetime | None:
    """RFC 3339 timestamps as Kubernetes writes them."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None

