"""Shared helpers for the CI wrapper tests (a unique module name: the tests
import it directly, and tests/conftest.py is also called conftest)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SENTINEL = "sentinel-7f3a9c-token"
GITLAB_CI_LOCAL = "4.65.1"  # the newest release that runs on Node 18 and 20

CONFIG = """\
version: 1
environments:
  staging:
    paths: ["apps/{app}/overlays/{env}"]
  production:
    paths: ["apps/{app}/overlays/{env}"]
    promote_from: staging
apps:
  api:
    image: ghcr.io/acme/api
"""

KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
images:
  - name: ghcr.io/acme/api
    newTag: "{tag}"  # set by promoter
"""


def config_tree(root: Path) -> Path:
    """The config repository's files: .promoter.yaml and app api in staging
    (1.4.1) and production (1.4.0)."""
    for env, tag in (("staging", "1.4.1"), ("production", "1.4.0")):
        overlay = root / "apps" / "api" / "overlays" / env
        overlay.mkdir(parents=True)
        (overlay / "kustomization.yaml").write_text(KUSTOMIZATION.format(tag=tag))
    (root / ".promoter.yaml").write_text(CONFIG)
    return root


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def read_remote(bare: Path, ref: str, path: str) -> str:
    return git(bare, "show", f"{ref}:{path}")


def files_containing(root: Path, needle: str) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle`` (runner state,
    logs, artifacts, caches)."""
    data = needle.encode()
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()
            and data in p.read_bytes()]


def history(bare: Path) -> str:
    """Everything the config repository's history says: messages, authors, diffs."""
    return git(bare, "log", "--all", "-p", "--format=%H %an <%ae> %cn <%ce>%n%B")


def missing(what: str) -> NoReturn:
    """Fail (never skip) when a tool a CI test needs is absent: a skipped runner
    test would look like a pass. ``what`` says in one line what is missing and
    how to get it (.ci/run installs all of them)."""
    pytest.fail(f"missing tool: {what}", pytrace=False)
