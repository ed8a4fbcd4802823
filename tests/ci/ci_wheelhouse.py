"""An offline wheelhouse: promoter's runtime dependencies and its build backend,
repacked as wheels from the distributions installed in this environment.

pip can then install promoter from its source tree with ``PIP_NO_INDEX=1`` and
``PIP_FIND_LINKS=<wheelhouse>``, resolving every dependency itself, as on an
air-gapped runner. Repacking works for distributions that pip installed from
wheels (their RECORD lists every file and WHEEL their tags); files installed
outside site-packages (scripts, data) are left out: pip regenerates console
scripts from entry_points.txt.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as md
import importlib.util
import re
import sys
import zipfile
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "promoter_constraints", Path(__file__).resolve().parents[2] / "tools" / "constraints.py")
assert _spec and _spec.loader
constraints = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = constraints
_spec.loader.exec_module(constraints)
closure = constraints.closure  # tools/constraints.py: the same closure pins constraints.txt

BUILD_REQUIRES = ("setuptools>=77", "setuptools-scm>=9")  # pyproject.toml [build-system] requires
SKIPPED = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def _tag(dist: md.Distribution) -> str:
    """The compressed tag set of WHEEL's Tag lines, e.g. py2.py3-none-any."""
    tags = [line.split(":", 1)[1].strip() for line in (dist.read_text("WHEEL") or "").splitlines()
            if line.startswith("Tag:")]
    parts: list[list[str]] = [[], [], []]
    for tag in tags:
        for seen, part in zip(parts, tag.split("-"), strict=True):
            if part not in seen:
                seen.append(part)
    return "-".join(".".join(p) for p in parts)


def repack(dist: md.Distribution, out: Path) -> Path:
    """Write ``dist``'s installed files back into a wheel in ``out``."""
    files = [f for f in dist.files or [] if ".." not in f.parts and f.suffix != ".pyc"
             and not (f.parts[0].endswith(".dist-info") and f.name in SKIPPED)]
    if not files or not dist.read_text("WHEEL"):
        raise LookupError(f"{dist.name} was not installed from a wheel; cannot repack it")
    info = next(f.parts[0] for f in files if f.parts[0].endswith(".dist-info"))
    name = re.sub(r"[-_.]+", "_", dist.name)
    wheel = out / f"{name}-{dist.version}-{_tag(dist)}.whl"
    record = []
    with zipfile.ZipFile(wheel, "w") as archive:
        for file in files:
            data = Path(str(dist.locate_file(file))).read_bytes()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            archive.writestr(file.as_posix(), data)
            record.append(f"{file.as_posix()},sha256={digest.decode()},{len(data)}")
        record.append(f"{info}/RECORD,,")
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel


def build_wheelhouse(out: Path) -> Path:
    """Fill ``out`` with wheels of promoter's dependencies and build backend."""
    out.mkdir(parents=True, exist_ok=True)
    for dist in closure(["promoter[all]", *BUILD_REQUIRES]):
        if constraints._key(dist.name) != "promoter":
            repack(dist, out)
    return out
