"""The downgrade guard: is the version promoter is about to write older than
the one in place?

Only tags that read as versions are compared: ``1``, ``1.4``, ``v1.4.2``,
``1.4.2-rc.1`` (semver pre-release: older than ``1.4.2``), ``+build`` ignored.
A promotion that writes a digest without a tag, or where either tag is not a
version (``latest``, ``main-abc123``), is not compared. The rule that applied
goes into the record as ``version_check``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_VERSION = re.compile(r"^v?(\d+(?:\.\d+)*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")

Key = tuple[tuple[int, ...], tuple[tuple[int, int | str], ...] | None]


def key(tag: str) -> Key | None:
    """A sortable key for a version tag, or None when ``tag`` is not one."""
    match = _VERSION.match(tag)
    if match is None:
        return None
    numbers = tuple(int(n) for n in match.group(1).split("."))
    numbers += (0,) * (4 - len(numbers)) if len(numbers) < 4 else ()
    pre = match.group(2)
    if pre is None:
        return numbers, None
    return numbers, tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))


def older(new: str, old: str) -> bool:
    """Whether version tag ``new`` sorts before ``old`` (both must be versions)."""
    a, b = key(new), key(old)
    assert a is not None and b is not None
    if a[0] != b[0]:
        return a[0] < b[0]
    if a[1] is None or b[1] is None:
        return a[1] is not None and b[1] is None  # a pre-release is older than the release
    return a[1] < b[1]


def check(new_tag: str | None, old_tags: Iterable[str | None]) -> tuple[str, str | None]:
    """(rule, the old tag ``new_tag`` would downgrade, if any)."""
    if not new_tag:
        return "not compared: digest only", None
    olds = [tag for tag in old_tags if tag]
    if key(new_tag) is None or not olds or any(key(tag) is None for tag in olds):
        return "not compared: not a version", None
    for tag in olds:
        if older(new_tag, tag):
            return "downgrade", tag
    return "newer", None
