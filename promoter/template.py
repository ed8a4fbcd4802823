"""Templates: commit messages, branch names, PR titles and bodies, verify names.

One filler, one meaning per placeholder (the values come from
``plan.template_values``):

    {app}    the app name                {env}    the target environment
    {old}    the version(s) replaced     {new}    the version written (tag,
             (tag, @digest or both)               @digest or tag@digest)
    {image}  the full new reference (``ghcr.io/acme/api:1.5.0``)

Values are inserted in one pass (a value holding ``{new}`` is not expanded
again) and on one line: text taken from the config repository cannot start a
new line, and so cannot forge a commit trailer or a PR marker line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from promoter import images
from promoter.errors import InputError

FIELDS = ("app", "env", "old", "new", "image")
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


def check(template: str, allowed: Sequence[str], option: str) -> str:
    """``template`` if it uses only placeholders from ``allowed``; else an InputError."""
    for name in _PLACEHOLDER.findall(template):
        if name not in allowed:
            braced = " ".join("{" + n + "}" for n in allowed)
            raise InputError(
                f"{option} {template!r} has the unknown placeholder {{{name}}}; use {braced}"
            )
    return template


def short(value: str, repository: str) -> str:
    """``ghcr.io/acme/api:1.4`` -> ``1.4`` when it is ``repository``'s image; else as is."""
    ref = images.try_parse(value)
    if ref is not None and images.same_repository(ref.name, repository) and ref.version:
        return ref.version
    return value


def values(app: str, env: str, image: str, olds: Iterable[str]) -> dict[str, str]:
    """The placeholder values of a promotion writing ``image`` over ``olds``."""
    ref = images.parse(image)
    old = ", ".join(sorted({short(value, ref.name) for value in olds})) or "?"
    return {"app": app, "env": env, "old": old, "new": ref.version or "?", "image": image}
