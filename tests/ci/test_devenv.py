"""`make test` tests this working tree: tools/devenv.py accepts only a venv
holding an editable install of it with every extra, and the tests run on it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ci_support import BIN, ROOT

import promoter

DEVENV = ROOT / "tools" / "devenv.py"


def check(venv: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(DEVENV), "--check", str(venv)],
                          capture_output=True, text=True, timeout=60)


def test_the_tests_import_the_working_tree() -> None:
    assert Path(promoter.__file__).resolve().parent == ROOT / "promoter"


def test_the_venv_executables_run_the_working_tree() -> None:
    done = subprocess.run([str(BIN / "python"), "-I", "-c",
                           "import promoter; print(promoter.__file__)"],
                          capture_output=True, text=True, check=True, cwd="/")
    assert Path(done.stdout.strip()).resolve().parent == ROOT / "promoter"


def test_devenv_accepts_the_venv_running_these_tests() -> None:
    done = check(BIN.parent)
    assert done.returncode == 0, done.stderr


def test_devenv_rejects_a_venv_without_promoter(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "v")],
                   check=True)
    done = check(tmp_path / "v")
    assert done.returncode == 1
    assert done.stderr.strip() == f"{tmp_path / 'v'}: promoter is not installed"


def test_devenv_rejects_a_directory_that_is_no_venv(tmp_path: Path) -> None:
    done = check(tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == f"{tmp_path}: {tmp_path} has no Python"
