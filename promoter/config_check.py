"""Checks of ``.promoter.yaml`` values: each takes a raw YAML value and the key it
sits under, returns the checked value, and raises an InputError that names the
file and the key (``.promoter.yaml: environments.prod.branch: ...``).

Also the checks across the whole file: ``promote_from`` names a known
environment and the chains of ``promote_from`` have no cycle.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from promoter.errors import InputError
from promoter.template import PATH_FIELDS, braced, unknown

FILE = ".promoter.yaml"
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
GLOB = frozenset("*?[")


def fail(key: str, problem: str) -> InputError:
    return InputError(f"{FILE}: {key}: {problem}")


def mapping(value: Any, key: str, allowed: set[str] | None = None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail(key, f"expected a mapping, got {type(value).__name__}; fix the file")
    for name in value:
        if allowed is not None and name not in allowed:
            raise fail(f"{key}.{name}" if key else str(name),
                       f"unknown key; expected one of {', '.join(sorted(allowed))}")
    return value


def strings(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise fail(key, "expected a list of non-empty strings; fix the file")
    return tuple(value)


def string(value: Any, key: str, default: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        raise fail(key, f"expected a string, got {value!r}; fix the file")
    return value


def boolean(value: Any, key: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise fail(key, f"expected true or false, got {value!r}; fix the file")
    return value


def duration(value: Any, key: str) -> float | None:
    """``10m``, ``30s``, ``1h``, ``500ms`` or a number of seconds."""
    if value is None:
        return None
    match = _DURATION.match(str(value).strip())
    if match is None or isinstance(value, bool):
        raise fail(key, f"invalid duration {value!r}; use e.g. 30s, 10m or 1h")
    return float(match[1]) * _UNITS[match[2]]


def placeholders(template: str, allowed: Sequence[str], key: str) -> str:
    """Check that ``template`` uses only ``{name}`` placeholders from ``allowed``."""
    name = unknown(template, allowed)
    if name is not None:
        raise fail(key, f"unresolved placeholder {{{name}}}; use {braced(allowed)}")
    return template


def safe_path(path: str, key: str) -> str:
    """A repository-relative posix path that cannot escape the repository."""
    pure = PurePosixPath(path)
    depth = 0
    for part in pure.parts:
        depth += -1 if part == ".." else (0 if part == "." else 1)
        if depth < 0 or pure.is_absolute():
            raise fail(key, f"path {path!r} leads outside the repository; use a relative path")
    return str(pure)


def path_templates(value: Any, key: str) -> tuple[str, ...]:
    """``paths``: safe relative paths (globs allowed: ``envs/staging-*``) that
    use only ``{app}``, ``{env}`` and ``{namespace}``."""
    out = tuple(placeholders(safe_path(p, key), PATH_FIELDS, key)
                for p in strings(value, key))
    for path in out:
        if is_glob(path.split("/", 1)[0]):
            raise fail(key, f"path {path!r} starts with a wildcard; start it with a directory"
                            " (envs/staging-*), which a sparse clone checks out")
    return out


def is_glob(path: str) -> bool:
    return bool(GLOB & set(path))


def sparse_roots(paths: Sequence[str]) -> list[str]:
    """What a sparse clone must hold for ``paths``: a glob's directory before
    its first wildcard (``envs/staging-*`` -> ``envs``)."""
    out = []
    for path in paths:
        if is_glob(path):
            parts = path.split("/")
            static = list(itertools.takewhile(lambda part: not is_glob(part), parts))
            out.append("/".join(static) or ".")
        else:
            out.append(path)
    return out


def expand(root: Path, paths: Sequence[str]) -> tuple[str, ...]:
    """``paths`` with each glob replaced by the paths it matches in ``root``
    (sorted; none when nothing matches)."""
    out: list[str] = []
    for path in paths:
        if not is_glob(path):
            out.append(path)
            continue
        out += sorted(p.relative_to(root).as_posix() for p in root.glob(path)
                      if ".git" not in p.relative_to(root).parts)
    return tuple(dict.fromkeys(out))


def check_sources(sources: Mapping[str, str | None]) -> None:
    """Each environment's ``promote_from`` (``sources[env]``) names a known
    environment, and no chain of ``promote_from`` comes back to where it began."""
    for name, source in sources.items():
        if source is not None and source not in sources:
            raise fail(f"environments.{name}.promote_from",
                       f"unknown environment {source!r}; use one of {names(sources)}")
        seen = [name]
        current = source
        while current is not None:
            if current in seen:
                chain = " -> ".join([*seen, current])
                raise fail(f"environments.{name}.promote_from",
                           f"cycle {chain}; break the chain of promote_from")
            seen.append(current)
            current = sources[current]


def names(named: Mapping[str, object]) -> str:
    """The names (environments, apps) for a message: ``prod, staging`` or ``(none)``."""
    return ", ".join(sorted(named)) or "(none)"
