"""Templates: commit messages, branch names, PR titles and bodies, verify target
names and config paths.

One filler (``fill``), one meaning per placeholder, wherever it appears:

    {app}    the app name                {env}    the target environment
    {old}    the version(s) replaced     {new}    the version written (tag,
             (tag, @digest or both)               @digest or tag@digest)
    {image}  the full new reference (``ghcr.io/acme/api:1.5.0``)
    {namespace}  the app's ``namespace`` (config paths only)

Which placeholders a template may use depends on what is known when it is
filled: ``FIELDS`` (commit message, PR title and body, once the image is
chosen), ``TARGET_FIELDS`` (branch and verify target names), ``PATH_FIELDS``
(config paths). The values of a promotion come from ``values``.

Values are inserted in one pass (a value holding ``{new}`` is not expanded
again) and on one line: text taken from the config repository cannot start a
new line, and so cannot forge a commit trailer or a PR marker line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from promoter import images
from promoter.errors import InputError

TARGET_FIELDS = ("app", "env")
FIELDS = (*TARGET_FIELDS, "old", "new", "image")
PATH_FIELDS = (*TARGET_FIELDS, "namespace")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def one_line(text: str) -> str:
    """``text`` with every run of control characters (newlines, tabs) as one space."""
    return _CONTROL.sub(" ", text).strip()


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace each ``{name}`` whose name is in ``values``; other text is kept."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return one_line(values[name]) if name in values else match.group(0)

    return _PLACEHOLDER.sub(value, template)


def unknown(template: str, allowed: Sequence[str]) -> str | None:
    """The first placeholder of ``template`` not in ``allowed``, or None."""
    return next((name for name in _PLACEHOLDER.findall(template) if name not in allowed), None)


def braced(names: Sequence[str]) -> str:
    """``{app} {env}``: the placeholders ``names``, for a message."""
    return " ".join("{" + n + "}" for n in names)


def check(template: str, allowed: Sequence[str], option: str) -> str:
    """``template`` if it uses only placeholders from ``allowed``; else an InputError."""
    name = unknown(template, allowed)
    if name is not None:
        raise InputError(f"{option} {template!r} has the unknown placeholder {{{name}}}; "
                         f"use {braced(allowed)}")
    return template


def version_of(value: str, repository: str) -> str:
    """``ghcr.io/acme/api:1.4`` -> ``1.4`` when it is ``repository``'s image; else as is."""
    ref = images.try_parse(value)
    if ref is not None and images.same_repository(ref.name, repository) and ref.version:
        return ref.version
    return value


def values(app: str, env: str, image: str, olds: Iterable[str]) -> dict[str, str]:
    """The placeholder values (``FIELDS``) of a promotion writing ``image`` over
    ``olds``; ``{old}`` and ``{new}`` are ``?`` when ``image`` is not known."""
    if not image:
        return {"app": app, "env": env, "old": "?", "new": "?", "image": ""}
    ref = images.parse(image)
    old = ", ".join(sorted({version_of(value, ref.name) for value in olds})) or "?"
    return {"app": app, "env": env, "old": old, "new": ref.version or "?", "image": image}
