"""``promoter promote``, ``status``, ``config validate`` and ``demo`` as a user runs
them: a subprocess, its exit code, stdout and stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.configrepo import bare_from, example_copy, heads
from support.gitserver import GitServer

IMAGE = "ghcr.io/acme/api:1.5.0"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "promoter", *args], capture_output=True, text=True,
        env={**os.environ, **(env or {})}, check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return example_copy(tmp_path / "tree")


def test_json_record_has_the_v1_fields(tree: Path, tmp_path: Path) -> None:
    remote = bare_from(tree, tmp_path / "remote.git")
    result = cli("promote", "--repo", str(remote), "--app", "api", "--env", "staging",
                 "--image", IMAGE, "--output", "json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["schema"] == "promoter/v1"
    assert set(record) >= {"changed", "operation", "repo", "base", "branch", "commit", "files",
                           "changes", "dry_run", "pull_request", "superseded", "merge", "verify"}
    assert (record["operation"], record["pull_request"], record["merge"]) == (
        "created", None, None)


def test_options_come_from_promoter_variables(tree: Path, tmp_path: Path) -> None:
    remote = bare_from(tree, tmp_path / "remote.git")
    result = cli("promote", env={"PROMOTER_REPO": str(remote), "PROMOTER_APP": "web",
                                 "PROMOTER_ENV": "staging", "PROMOTER_IMAGE": "ghcr.io/acme/web:3",
                                 "PROMOTER_DIRECT": "true"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("promoted web to staging (ghcr.io/acme/web:3): pushed")


def test_dry_run_prints_the_diff_and_pushes_nothing(tree: Path, tmp_path: Path) -> None:
    remote = bare_from(tree, tmp_path / "remote.git")
    result = cli("promote", "--repo", str(remote), "--app", "api", "--env", "staging",
                 "--image", IMAGE, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "dry run: would promote" in result.stdout and '+    newTag: "1.5.0"' in result.stdout
    assert 'would push promoter/staging/api and open or update the pull request "' in (
        result.stdout)
    assert list(heads(remote)) == ["main"]


def _config_edit(old: str, new: str) -> Callable[[Path], None]:
    def edit(tree: Path) -> None:
        path = tree / ".promoter.yaml"
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))
    return edit


def _symlink_out(tree: Path) -> None:
    target = tree / "apps/api/overlays/staging/kustomization.yaml"
    target.unlink()
    target.symlink_to("../../../../../../../../etc/hostname")


def _drop_overlay(tree: Path) -> None:
    (tree / "apps/worker/overlays/production/kustomization.yaml").unlink()
    (tree / "apps/worker/overlays/production").rmdir()


BAD = {
    "missing path": (_drop_overlay, ["--app", "worker", "--env", "production", "--image",
                                     "ghcr.io/acme/worker:1"], 2,
                     "apps/worker/overlays/production does not exist on main"),
    "unknown app": (None, ["--app", "nope", "--env", "staging", "--image", IMAGE], 2,
                    "unknown app 'nope'"),
    "unknown env": (None, ["--app", "api", "--env", "qa", "--image", IMAGE], 2,
                    "unknown environment 'qa'"),
    "cycle": (_config_edit("  staging:\n", "  staging:\n    promote_from: production\n"),
              ["--app", "api", "--env", "staging", "--image", IMAGE], 2, "cycle"),
    "path escapes": (_config_edit('paths: ["apps/{app}/overlays/{env}"]\n    pull_request:\n'
                                  "      labels: [promotion, staging]",
                                  'paths: ["../{app}"]'),
                     ["--app", "api", "--env", "staging", "--image", IMAGE], 2, "outside"),
    "symlink outside": (_symlink_out, ["--app", "api", "--env", "staging", "--image", IMAGE], 2,
                        "outside"),
    "no base": (None, ["--app", "api", "--env", "staging", "--image", IMAGE, "--base", "nope"], 2,
                "base branch 'nope' does not exist"),
    "image and from": (None, ["--app", "api", "--env", "production", "--image", IMAGE,
                              "--from", "staging"], 2, "exclude each other"),
    "other image": (None, ["--app", "api", "--env", "staging", "--image", "ghcr.io/x/y:1"], 2,
                    "is not app api's image"),
    "cluster flag without verify": (None, ["--app", "api", "--env", "staging", "--image", IMAGE,
                                            "--context", "prod"], 2,
                                    "--context has no effect without --verify"),
    "record in a dry run": (None, ["--app", "api", "--env", "staging", "--image", IMAGE,
                                   "--dry-run", "--record"], 2,
                            "--record has no effect with --dry-run"),
    "branch placeholder": (None, ["--app", "api", "--env", "staging", "--image", IMAGE,
                                  "--branch", "promoter/{tag}"], 2,
                           "error: --branch 'promoter/{tag}' has the unknown placeholder {tag};"
                           " use {app} {env}"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_exits_with_one_line_and_pushes_nothing(
    case: str, tree: Path, tmp_path: Path
) -> None:
    change, args, code, words = BAD[case]
    if change is not None:
        change(tree)
    remote = bare_from(tree, tmp_path / "remote.git")
    before = heads(remote)
    result = cli("promote", "--repo", str(remote), *args)
    assert result.returncode == code, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert words in result.stderr
    assert result.stdout == "" and heads(remote) == before


def test_unreachable_remote_exits_2(tmp_path: Path) -> None:
    with GitServer(tmp_path / "srv") as server:
        url = server.url("config")
    result = cli("promote", "--repo", url, "--app", "api", "--env", "staging", "--image", IMAGE)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ") and url in result.stderr


def test_wrong_password_exits_3_and_pushes_nothing(tree: Path, tmp_path: Path) -> None:
    with GitServer(tmp_path / "srv", "x-access-token", "right") as server:
        server.create("config", tree)
        result = cli("promote", "--repo", server.url("config"), "--app", "api", "--env",
                     "staging", "--image", IMAGE, env={"PROMOTER_TOKEN": "wrong"})
        pushes = [r for r in server.requests if r.service == "git-receive-pack"]
    assert result.returncode == 3 and result.stderr.count("\n") == 1, result.stderr
    assert "wrong" not in result.stderr.replace("wrong password", "")
    assert pushes == [] and list(heads(server.path("config"))) == ["main"]


def test_status_prints_the_matrix_as_text_and_json(tree: Path, tmp_path: Path) -> None:
    remote = bare_from(tree, tmp_path / "remote.git")
    text = cli("status", "--repo", remote.as_uri())
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["APP", "STAGING", "PRODUCTION"]
    assert lines[1].split() == ["api", "1.4.1", "1.4.0"]
    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    as_json = json.loads(cli("status", "--repo", str(tree), "--output", "json").stdout)
    assert as_json["apps"]["billing"] == {"staging": "3.3.0-rc.1", "production": "3.2.0"}


def test_config_validate_accepts_the_example_and_names_the_key(tree: Path, tmp_path: Path) -> None:
    remote = bare_from(tree, tmp_path / "remote.git")
    good = cli("config", "validate", "--repo", remote.as_uri())
    assert good.returncode == 0 and "4 apps" in good.stdout, good.stderr
    _config_edit("    image: ghcr.io/acme/web\n", "    image: ghcr.io/acme/web\n    tag: x\n")(tree)
    bad = cli("config", "validate", "--repo", str(tree))
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "error: .promoter.yaml: apps.web.tag: unknown key; expected one of environments, image,"
        " keys, namespace, paths"
    )


def test_config_validate_reports_missing_paths(tree: Path, tmp_path: Path) -> None:
    (tree / "apps/worker/overlays/production/kustomization.yaml").unlink()
    (tree / "apps/worker/overlays/production").rmdir()
    remote = bare_from(tree, tmp_path / "remote.git")
    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    for repo in (str(tree), remote.as_uri()):  # in place, and a sparse clone
        result = cli("config", "validate", "--repo", repo)
        assert result.returncode == 2, result.stderr
        assert "apps.worker in environments.production: path apps/worker/overlays/production" in (
            result.stderr)


def test_demo_runs_real_promotions() -> None:
    result = cli("demo")
    assert result.returncode == 0, result.stderr
    assert "promoted api to staging (ghcr.io/acme/api:1.5.0): pushed" in result.stdout
    assert "promoted api to production (ghcr.io/acme/api:1.5.0): created" in result.stdout
    assert "already proposes" in result.stdout
    assert "promoter/production/api" in result.stdout.split("branches on the remote:")[1]
