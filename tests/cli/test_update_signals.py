"""``promoter update`` is all-or-none under real signals sent to a real
process editing thousands of files: SIGINT/SIGTERM roll back the staging or
finish the renames; after SIGKILL the next run completes or rolls back from
the journal. Every run is bounded by a deadline."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from promoter.manifests.journal import NAME

FILES = 3000
OLD = "spec:\n  containers:\n  - image: ghcr.io/acme/api:1.0\n"
NEW = OLD.replace("1.0", "1.1")
DEADLINE = 60.0


def make_tree(root: Path) -> Path:
    apps = root / "apps"
    apps.mkdir()
    for n in range(FILES):
        (apps / f"dep-{n:04d}.yaml").write_text(OLD)
    return apps


def start(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "promoter", "update", *args, "ghcr.io/acme/api:1.1"],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )


def journal(root: Path) -> dict[str, str]:
    try:
        return dict(json.loads((root / NAME).read_text()))
    except (OSError, ValueError):
        return {}


def state(root: Path) -> str | None:
    return journal(root).get("state")


def temps(apps: Path) -> list[str]:
    return [name for name in os.listdir(apps) if name.endswith(".promoter")]


def wait_until(proc: subprocess.Popen[str], ready: Callable[[], bool]) -> bool:
    """Poll until ``ready()`` (True) or the process ended (False), bounded."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if ready():
            return True
        try:
            proc.wait(timeout=0.001)
            return False
        except subprocess.TimeoutExpired:
            continue
    proc.kill()
    raise AssertionError("promoter update never reached the awaited state")


def contents(apps: Path) -> set[str]:
    return {path.read_text() for path in apps.glob("*.yaml")}


def staging(root: Path, apps: Path) -> Callable[[], bool]:
    """The journal says staging and the 100th temp file exists."""

    def ready() -> bool:
        run = journal(root)
        tenth = apps / f".dep-0099.yaml.{run.get('id')}.promoter"
        return run.get("state") == "staging" and tenth.exists()

    return ready


def committing(root: Path, apps: Path) -> Callable[[], bool]:
    return lambda: state(root) == "committing"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_while_staging_rolls_back(tmp_path: Path, signum: int) -> None:
    apps = make_tree(tmp_path)
    proc = start(tmp_path)
    assert wait_until(proc, staging(tmp_path, apps)), proc.communicate()[1]
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=DEADLINE)
    name = signal.Signals(signum).name
    assert proc.returncode == 1
    assert err == f"error: interrupted by {name}; nothing was written\n"
    assert contents(apps) == {OLD}
    assert temps(apps) == [] and not (tmp_path / NAME).exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_while_renaming_finishes(tmp_path: Path, signum: int) -> None:
    apps = make_tree(tmp_path)
    caught = 0
    for _ in range(5):  # the rename phase is short: retry
        for path in apps.glob("*.yaml"):
            path.write_text(OLD)
        proc = start(tmp_path)
        hit = wait_until(proc, committing(tmp_path, apps))
        if hit:
            proc.send_signal(signum)
        _, err = proc.communicate(timeout=DEADLINE)
        assert contents(apps) == {NEW}, err
        assert temps(apps) == [] and not (tmp_path / NAME).exists()
        if proc.returncode == 1 and "while writing" in err:
            assert err == (
                f"error: interrupted by {signal.Signals(signum).name} while writing;"
                f" all {FILES} file(s) were written first (the update is complete)\n"
            )
            caught += 1
        else:
            assert proc.returncode in (0, 1), err  # the signal came after the renames
        if caught:
            break
    assert caught, "no signal arrived during the renames in 5 runs"


def test_sigkill_while_staging_next_run_rolls_back(tmp_path: Path) -> None:
    apps = make_tree(tmp_path)
    proc = start(tmp_path)
    assert wait_until(proc, staging(tmp_path, apps)), proc.communicate()[1]
    proc.kill()
    proc.communicate(timeout=DEADLINE)
    assert contents(apps) == {OLD} and temps(apps) and (tmp_path / NAME).exists()
    diff = subprocess.run(
        [sys.executable, "-m", "promoter", "diff", "ghcr.io/acme/api:1.1"],
        cwd=tmp_path, capture_output=True, text=True, timeout=DEADLINE,
    )
    assert diff.returncode == 1 and "run promoter update" in diff.stderr
    other = subprocess.run(  # another image: only the recovery writes
        [sys.executable, "-m", "promoter", "update", "ghcr.io/acme/web:2"],
        cwd=tmp_path, capture_output=True, text=True, timeout=DEADLINE,
    )
    assert other.returncode == 0, other.stderr
    assert other.stderr.startswith(
        f"note: an interrupted update of {FILES} file(s) was rolled back (nothing was written)\n"
    )
    assert contents(apps) == {OLD}
    assert temps(apps) == [] and not (tmp_path / NAME).exists()


def test_sigkill_while_renaming_next_run_completes(tmp_path: Path) -> None:
    apps = make_tree(tmp_path)
    for _ in range(5):
        for path in apps.glob("*.yaml"):
            path.write_text(OLD)
        proc = start(tmp_path)
        hit = wait_until(proc, committing(tmp_path, apps))
        if hit:
            proc.kill()
        proc.communicate(timeout=DEADLINE)
        if hit and (tmp_path / NAME).exists():
            break
    else:
        raise AssertionError("no SIGKILL landed during the renames in 5 runs")
    other = subprocess.run(
        [sys.executable, "-m", "promoter", "update", "ghcr.io/acme/web:2"],
        cwd=tmp_path, capture_output=True, text=True, timeout=DEADLINE,
    )
    assert other.returncode == 0, other.stderr
    assert other.stderr.startswith(f"note: an interrupted update of {FILES} file(s) was completed")
    assert contents(apps) == {NEW}
    assert temps(apps) == [] and not (tmp_path / NAME).exists()
