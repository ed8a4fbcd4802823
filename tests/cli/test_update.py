"""``promoter update`` / ``promoter diff`` through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

POD = "spec:\n  containers:\n  - image: ghcr.io/acme/api:1.0  # {\"$imagepolicy\": \"ns:p\"}\n"


def promoter(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "promoter", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, **(env or {})}, timeout=60,
    )


def test_update_writes_and_reports(tmp_path: Path) -> None:
    (tmp_path / "dep.yaml").write_text(POD)
    result = promoter(tmp_path, "update", "ghcr.io/acme/api:1.1")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "dep.yaml").read_text() == POD.replace("1.0", "1.1")
    assert "dep.yaml:3:12: spec.containers[0].image" in result.stdout


def test_dry_run_and_diff_write_nothing(tmp_path: Path) -> None:
    (tmp_path / "dep.yaml").write_text(POD)
    for args in (["update", "--dry-run"], ["diff"]):
        result = promoter(tmp_path, *args, "ghcr.io/acme/api:1.1", ".")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("--- a/dep.yaml\n+++ b/dep.yaml\n")
        assert (tmp_path / "dep.yaml").read_text() == POD


def test_json_output_schema(tmp_path: Path) -> None:
    (tmp_path / "dep.yaml").write_text(POD)
    (tmp_path / "bad.yaml").write_text("a: [ghcr.io/acme/api:1\n")
    result = promoter(tmp_path, "update", "ghcr.io/acme/api:1.1", env={"PROMOTER_OUTPUT": "json"})
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["changes"] == [{
        "file": "dep.yaml", "line": 3, "column": 12, "path": "spec.containers[0].image",
        "kind": "container-image", "old": "ghcr.io/acme/api:1.0", "new": "ghcr.io/acme/api:1.1",
        "notes": [],
    }]
    assert [(s["file"], s["line"]) for s in out["skipped"]] == [("bad.yaml", 1)]


@pytest.mark.parametrize(
    "ref", ["Bad:Tag", "ghcr.io/acme/api:1\n", "ghcr.io/acme/api:" + "t" * 300, "$(cmd)", "api"]
)
def test_invalid_ref_exit_2(tmp_path: Path, ref: str) -> None:
    (tmp_path / "dep.yaml").write_text(POD)
    result = promoter(tmp_path, "update", ref)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert (tmp_path / "dep.yaml").read_text() == POD


def test_bad_named_file_exit_2_nothing_written(tmp_path: Path) -> None:
    (tmp_path / "dep.yaml").write_text(POD)
    (tmp_path / "dup.yaml").write_text("image: ghcr.io/acme/api:1\nimage: x\n")
    result = promoter(tmp_path, "update", "ghcr.io/acme/api:2", "dep.yaml", "dup.yaml")
    assert result.returncode == 2
    assert result.stderr == (
        "error: dup.yaml:2: duplicate key 'image'; fix the file or leave it out"
        " (nothing was written)\n"
    )
    assert (tmp_path / "dep.yaml").read_text() == POD


def test_expect_mismatch_exit_1(tmp_path: Path) -> None:
    (tmp_path / "dep.yaml").write_text(POD)
    result = promoter(tmp_path, "update", "--expect", "0.9", "ghcr.io/acme/api:1.1")
    assert result.returncode == 1 and "not '0.9'" in result.stderr
    assert (tmp_path / "dep.yaml").read_text() == POD
    assert promoter(tmp_path, "update", "--expect", "1.0", "ghcr.io/acme/api:1.1").returncode == 0


def test_key_option(tmp_path: Path) -> None:
    (tmp_path / "values.yaml").write_text("api:\n  version: '1.0'\n")
    result = promoter(tmp_path, "update", "--key", "api.version", "ghcr.io/acme/api:1.1")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "values.yaml").read_text() == "api:\n  version: '1.1'\n"


def test_symlink_path_out_of_tree_exit_2(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(POD)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "link.yaml").symlink_to(outside)
    result = promoter(repo, "update", "ghcr.io/acme/api:1.1", "link.yaml")
    assert result.returncode == 2 and "link.yaml leads outside" in result.stderr
    assert outside.read_text() == POD


def test_files_are_named_relative_to_the_repository(tmp_path: Path) -> None:
    repo = tmp_path / "config"
    env = repo / "envs/staging"
    env.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (env / "dep.yaml").write_text(POD)
    (env / "bad.yaml").write_text("a: [ghcr.io/acme/api:1\n")
    for cwd, path in ((tmp_path, "config/envs/staging"), (env, ".")):
        result = promoter(cwd, "update", "--dry-run", "--output", "json",
                          "ghcr.io/acme/api:1.1", path)
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        assert [c["file"] for c in out["changes"]] == ["envs/staging/dep.yaml"]
        assert [s["file"] for s in out["skipped"]] == ["envs/staging/bad.yaml"]


def test_output_complete_when_the_process_ends_early(tmp_path: Path) -> None:
    """update and diff end their process without the interpreter's teardown
    (update.py): what they printed, over a pipe's buffer, is all there."""
    for n in range(400):
        (tmp_path / f"dep-{n:03d}.yaml").write_text(POD)
    diff = promoter(tmp_path, "diff", "ghcr.io/acme/api:1.1")
    assert diff.returncode == 0, diff.stderr
    assert len(diff.stdout) > 1 << 16
    assert diff.stdout.count("\n+++ b/dep-") == 400
    assert diff.stdout.endswith('+  - image: ghcr.io/acme/api:1.1  # {"$imagepolicy": "ns:p"}\n')
    update = promoter(tmp_path, "update", "ghcr.io/acme/api:1.1", "--output", "json")
    assert update.returncode == 0, update.stderr
    assert len(json.loads(update.stdout)["changes"]) == 400
    assert (tmp_path / "dep-399.yaml").read_text() == POD.replace("1.0", "1.1")
    text = promoter(tmp_path, "update", "ghcr.io/acme/api:1.2")
    assert text.returncode == 0, text.stderr
    assert text.stdout.count("\n") == 400
    assert text.stderr.endswith("400 value(s) changed in 400 file(s)\n")
