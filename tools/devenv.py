"""Make VENV an editable install of this working tree with every extra (what
``make test`` tests), whatever was there before.

``make test`` calls this before ruff, mypy and pytest. It asks the venv's own
Python whether promoter is installed editable from this directory and whether
every requirement of every extra is satisfied, and compares a hash of
pyproject.toml and constraints.txt with the one recorded at the last install. Anything else (no
venv, the README demo's non-editable ``pip install .``, an install from another
checkout, an edited pyproject.toml) triggers ``pip install -e '.[test]' -c constraints.txt``.
Standard library only: it runs on the interpreter that creates the venv.

    python3 tools/devenv.py .venv           # check, and repair when needed
    python3 tools/devenv.py --check .venv   # only say what is wrong (exit 1)
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAMP = "promoter-dev.stamp"  # inside the venv: hash of the pyproject.toml installed

# Runs inside the venv: prints one JSON object {"problem": "..."} (empty when fine).
PROBE = r"""
import json, sys
import importlib.metadata as md
def problem():
    try:
        dist = md.distribution("promoter")
    except md.PackageNotFoundError:
        return "promoter is not installed"
    url = json.loads(dist.read_text("direct_url.json") or "{}")
    if not url.get("dir_info", {}).get("editable") or url.get("url") != sys.argv[1]:
        return f"promoter is not an editable install of {sys.argv[1]}"
    try:
        from packaging.requirements import Requirement
    except ImportError:
        return "packaging is not installed"
    extras = dist.metadata.get_all("Provides-Extra") or []
    for text in dist.requires or []:
        req = Requirement(text)
        if req.name == "promoter" or (req.marker and not any(
                req.marker.evaluate({"extra": e}) for e in extras)):
            continue
        try:
            version = md.version(req.name)
        except md.PackageNotFoundError:
            return f"{req.name} is not installed"
        if not req.specifier.contains(version, prereleases=True):
            return f"{req.name} {version} does not satisfy {req}"
    return ""
print(json.dumps({"problem": problem()}))
"""


def bindir(venv: Path) -> Path:
    return venv / ("Scripts" if sys.platform == "win32" else "bin")


def pyproject_hash() -> str:
    """Of pyproject.toml and constraints.txt (the pinned runtime dependencies)."""
    data = b"".join((ROOT / name).read_bytes() for name in ("pyproject.toml", "constraints.txt"))
    return hashlib.sha256(data).hexdigest()


def problem(venv: Path) -> str:
    """What is wrong with ``venv`` as a test environment of this tree ("" if nothing)."""
    python = bindir(venv) / "python"
    if not python.exists():
        return f"{venv} has no Python"
    done = subprocess.run([str(python), "-I", "-c", PROBE, ROOT.as_uri()],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return f"{python} does not run: {done.stderr.strip()[-200:]}"
    found: str = json.loads(done.stdout)["problem"]
    if found:
        return found
    stamp = venv / STAMP
    if not stamp.exists() or stamp.read_text().strip() != pyproject_hash():
        return "pyproject.toml or constraints.txt changed since the last install"
    return ""


def install(venv: Path) -> None:
    python = bindir(venv) / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"],
                       check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", f"{ROOT}[test]",
                    "--constraint", str(ROOT / "constraints.txt")], check=True)
    (venv / STAMP).write_text(pyproject_hash() + "\n")


def main(argv: list[str]) -> int:
    check_only = "--check" in argv
    args = [a for a in argv if a != "--check"]
    venv = Path(args[0] if args else ".venv").absolute()
    found = problem(venv)
    if not found:
        return 0
    print(f"{venv}: {found}", file=sys.stderr)
    if check_only:
        return 1
    print(f"installing promoter from {ROOT} into {venv} (editable, with the test extra)",
          file=sys.stderr)
    install(venv)
    found = problem(venv)
    if found:
        print(f"error: {venv} is still not a test environment: {found}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
