"""Write constraints.txt: exact versions of promoter's runtime dependencies, for
every Python and platform promoter supports, preferring the versions installed
in the running environment.

The action installs its own source with ``--constraint constraints.txt``, so a
release installs the same dependency versions every time; ``make test``
installs the dev environment with it too, so the suite tests those versions.
The published wheel keeps the ranges of pyproject.toml. Regenerate after
changing dependencies (uv resolves for all Pythons >= 3.10 from the index,
taking this venv's versions wherever they fit):

    .venv/bin/python tools/constraints.py constraints.txt
"""

from __future__ import annotations

import importlib.metadata as md
import re
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(requirements: list[str]) -> list[md.Distribution]:
    """The installed distributions ``requirements`` need, transitively, with extras
    (a requirement whose marker names an extra counts only under that extra)."""
    found: dict[str, md.Distribution] = {}
    done: set[tuple[str, str]] = set()
    todo = [(Requirement(r), "") for r in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker and not req.marker.evaluate({"extra": extra}):
            continue
        dist = found.setdefault(_key(req.name), md.distribution(req.name))
        if dist.version not in req.specifier:
            raise LookupError(f"{dist.name} {dist.version} does not satisfy {req}")
        for wanted in {"", *req.extras} - {e for k, e in done if k == _key(req.name)}:
            done.add((_key(req.name), wanted))
            todo += [(Requirement(r), wanted) for r in dist.requires or []]
    return list(found.values())


def runtime_pins() -> dict[str, str]:
    """{normalised name: installed version} of promoter's runtime dependencies,
    every extra but test included."""
    pins = {_key(d.name): d.version for d in closure(["promoter[all]"])
            if _key(d.name) != "promoter"}
    return dict(sorted(pins.items()))


HEADER = """\
# promoter's runtime dependencies pinned for every supported Python and platform,
# preferring the versions of the dev venv. Written by tools/constraints.py; regenerate
# with `.venv/bin/python tools/constraints.py constraints.txt`.
"""


def main(out: Path) -> None:
    # uv prefers the versions already in its output file: start from this venv's.
    out.write_text("".join(f"{name}=={version}\n" for name, version in runtime_pins().items()))
    uv = Path(sys.executable).parent / "uv"
    subprocess.run([str(uv), "pip", "compile", str(ROOT / "pyproject.toml"), "--universal",
                    "--extra", "all", "--python-version", "3.10", "--no-header",
                    "--no-annotate", "--quiet", "--output-file", str(out)], check=True)
    out.write_text(HEADER + out.read_text())


if __name__ == "__main__":
    main(Path(sys.argv[1]))
