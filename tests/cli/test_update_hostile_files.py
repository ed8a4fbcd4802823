"""Hostile files under ``promoter update`` / ``diff``: FIFOs and other
non-regular files, and nesting deep enough to crash the C composer. Every run
is a real subprocess, bounded by a timeout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from promoter.manifests.depth import MAX_DEPTH, too_deep

POD = "spec:\n  containers:\n  - image: ghcr.io/acme/api:1.0\n"
NEW = "ghcr.io/acme/api:1.1"
DEEP = 50_000  # the C composer segfaults past about 20,000 levels


def promoter(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "promoter", *args], cwd=cwd, capture_output=True, text=True,
        timeout=15,
    )


@pytest.mark.parametrize("command", [["update"], ["diff"]])
def test_fifo_met_while_walking_is_skipped(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "dep.yaml").write_text(POD)
    os.mkfifo(tmp_path / "pipe.yaml")  # nobody ever writes: opening it would block
    result = promoter(tmp_path, *command, NEW)
    assert result.returncode == 0, result.stderr
    if command == ["update"]:
        assert "skipped pipe.yaml:0: not a regular file (FIFO); not read" in result.stderr
        assert (tmp_path / "dep.yaml").read_text() == POD.replace("1.0", "1.1")
    else:
        assert result.stdout.startswith("--- a/dep.yaml\n")


def test_fifo_named_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dep.yaml").write_text(POD)
    os.mkfifo(tmp_path / "pipe.yaml")
    result = promoter(tmp_path, "update", NEW, "dep.yaml", "pipe.yaml")
    assert result.returncode == 2
    assert result.stderr == (
        "error: pipe.yaml: not a regular file (FIFO); not read;"
        " fix the file or leave it out (nothing was written)\n"
    )
    assert (tmp_path / "dep.yaml").read_text() == POD


def test_symlink_to_fifo_named_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "link.yaml").symlink_to(tmp_path / "pipe")
    result = promoter(tmp_path, "update", NEW, "link.yaml")
    assert result.returncode == 2 and "not a regular file (FIFO)" in result.stderr


def deep_texts() -> dict[str, str]:
    return {
        "flow": "image: ghcr.io/acme/api:1.0\nx: " + "[" * DEEP + "]" * DEEP + "\n",
        "mapping": "image: ghcr.io/acme/api:1.0\nx: " + "{a: " * DEEP + "1" + "}" * DEEP + "\n",
        "compact": "image: ghcr.io/acme/api:1.0\nx:\n" + "- " * DEEP + "x\n",
        "unclosed": "image: ghcr.io/acme/api:1.0\nx: " + "[" * DEEP + "\n",
    }


@pytest.mark.parametrize("kind", sorted(deep_texts()))
def test_deep_nesting_is_refused_not_a_crash(tmp_path: Path, kind: str) -> None:
    (tmp_path / "dep.yaml").write_text(POD)
    (tmp_path / "deep.yaml").write_text(deep_texts()[kind])
    line = 3 if kind == "compact" else 2
    walked = promoter(tmp_path, "update", NEW)
    assert walked.returncode == 0, walked.stderr
    assert f"skipped deep.yaml:{line}: nesting deeper than {MAX_DEPTH} levels" in walked.stderr
    named = promoter(tmp_path, "diff", NEW, "deep.yaml")
    assert named.returncode == 2, named.stderr
    assert named.stderr.startswith(
        f"error: deep.yaml:{line}: nesting deeper than {MAX_DEPTH} levels"
    )
    assert named.stderr.count("\n") == 1


def test_deep_config_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".promoter.yaml").write_text("environments: " + "[" * DEEP + "]" * DEEP + "\n")
    result = promoter(tmp_path, "config", "validate")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(
        f"error: .promoter.yaml:1: nesting deeper than {MAX_DEPTH} levels"
    )


def test_depth_bound_exact_at_the_limit() -> None:
    at, over = MAX_DEPTH - 1, MAX_DEPTH + 1  # the document itself is no level
    assert too_deep("a: " + "[" * at + "]" * at) is None
    assert too_deep("a: " + "[" * over + "]" * over) == 1
    assert too_deep("".join(" " * i + "a:\n" for i in range(0, 3 * MAX_DEPTH))) == MAX_DEPTH + 1
    assert too_deep("\r".join(" " * i + "a:" for i in range(3 * MAX_DEPTH))) == MAX_DEPTH + 1
    assert too_deep("a: '" + "[" * 5000 + "'\n") is None  # brackets in a string are no depth


def test_deep_kustomization_without_the_image_is_no_crash(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "dep.yaml").write_text(POD)
    (tmp_path / "base" / "kustomization.yaml").write_text("resources:\n- dep.yaml\n")
    (tmp_path / "overlay").mkdir()
    (tmp_path / "overlay" / "kustomization.yaml").write_text(
        "resources:\n- ../base\nx: " + "[" * DEEP + "]" * DEEP + "\n"
    )
    result = promoter(tmp_path, "update", NEW, "overlay")
    assert result.returncode in (0, 2), result  # before: -11 (SIGSEGV)
    assert (tmp_path / "base" / "dep.yaml").read_text() == POD
