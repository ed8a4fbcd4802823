"""Every ``promote`` run prints one record in ``--output json``, failed or not
(issue 11 item 12), and every option takes effect or is refused (item 8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.configrepo import bare_from, example_copy, heads, show


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "promoter", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, check=False, timeout=120)


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return bare_from(example_copy(tmp_path / "tree"), tmp_path / "remote.git")


def failed(done: subprocess.CompletedProcess[str], code: int) -> dict[str, object]:
    assert done.returncode == code, done.stderr
    record = json.loads(done.stdout)
    assert record["schema"] == "promoter/v1" and record["operation"] == "failed"
    assert record["exit_code"] == code and record["changed"] is False
    assert isinstance(record["error"], str) and record["error"] in done.stderr
    return record


def test_an_input_error_prints_a_failed_record(remote: Path) -> None:
    done = cli("promote", "--repo", str(remote), "--app", "nope", "--env", "staging",
               "--image", "ghcr.io/acme/api:1.5.0", "--output", "json")
    record = failed(done, 2)
    assert "unknown app 'nope'" in str(record["error"]) and record["app"] == "nope"
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_usage_error_prints_a_failed_record() -> None:
    failed(cli("promote", "--app", "api", "--output", "json"), 2)


def test_a_failure_after_the_push_prints_the_record_with_the_exit_code(remote: Path) -> None:
    done = cli("promote", "--repo", str(remote), "--app", "api", "--env", "staging",
               "--image", "ghcr.io/acme/api:1.5.0", "--direct", "--verify", "--output", "json")
    assert done.returncode == 2, done.stderr
    record = json.loads(done.stdout)
    assert (record["operation"], record["exit_code"]) == ("failed", 2)
    assert record["commit"] == heads(remote)["main"] and "nothing to verify" in record["error"]


def test_a_single_value_option_given_twice_is_refused(remote: Path) -> None:
    done = cli("promote", "--repo", str(remote), "--app", "api", "--env", "staging",
               "--image", "ghcr.io/acme/api:1.5.0", "--image", "ghcr.io/acme/api:1.6.0")
    assert done.returncode == 2
    assert done.stderr.startswith("error: --image given twice") and list(heads(remote)) == ["main"]


@pytest.mark.parametrize("option", ["--message", "--title"])
def test_unknown_placeholders_are_refused(remote: Path, option: str) -> None:
    done = cli("promote", "--repo", str(remote), "--app", "api", "--env", "staging",
               "--image", "ghcr.io/acme/api:1.5.0", option, "promote {version}")
    assert done.returncode == 2, done.stdout
    assert "{version}" in done.stderr and option in done.stderr
    assert list(heads(remote)) == ["main"]


def test_key_is_used_with_a_config_file(tmp_path: Path) -> None:
    tree = example_copy(tmp_path / "tree")
    values = tree / "apps/api/overlays/staging/chart-values.yaml"
    values.write_text("api:\n  version: 1.4.1\n")
    remote = bare_from(tree, tmp_path / "remote.git")
    done = cli("promote", "--repo", str(remote), "--app", "api", "--env", "staging",
               "--image", "ghcr.io/acme/api:1.5.0", "--key", "api.version", "--output", "json")
    assert done.returncode == 0, done.stderr
    assert "version: 1.5.0" in show(remote, "promoter/staging/api",
                                     "apps/api/overlays/staging/chart-values.yaml")


@pytest.mark.parametrize(("extra", "named"), [
    (["--direct", "--label", "x"], "--label"), (["--direct", "--auto-merge"], "--auto-merge"),
    (["--app-id", "12"], "--app-id"), (["--direct", "--force"], "--force"),
    (["--api-url", "https://example.test/api"], "--api-url"),
])
def test_options_that_would_be_ignored_are_refused(
    remote: Path, extra: list[str], named: str
) -> None:
    done = cli("promote", "--repo", str(remote), "--app", "api", "--env", "staging",
               "--image", "ghcr.io/acme/api:1.5.0", *extra)
    assert done.returncode == 2, done.stdout
    assert done.stderr.startswith("error: ") and named in done.stderr
    assert list(heads(remote)) == ["main"]
