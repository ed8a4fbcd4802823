"""Session-wide guards: tests never write to $HOME and never inherit git state."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest
from support import linux_tools


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Before -m selects: every test that uses a Linux-tool fixture is marked
    linux_tools, so the macOS job's subset is exactly the rest."""
    offenders = linux_tools.unmarked(items)
    if offenders:
        raise pytest.UsageError(
            f"{len(offenders)} tests use a Linux-only tool fixture without "
            f"@pytest.mark.{linux_tools.MARKER}: {', '.join(offenders[:5])}")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    linux_tools.running.item = item


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    linux_tools.running.item = None


@pytest.fixture(autouse=True)
def isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """A throwaway HOME and git identity; no GIT_* or PROMOTER_* leaks in from outside."""
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith(("GIT_", "PROMOTER_", "GITHUB_", "GITLAB_", "CI_")) or name == "CI":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))  # the registry's realm cache
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.test")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Committer")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "committer@example.test")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    # The test images (ghcr.io/acme/...) exist in no registry and tests reach only
    # 127.0.0.1: CLI runs are air-gapped unless a test turns the check on
    # (tests/registry runs it against a real registry on 127.0.0.1).
    monkeypatch.setenv("PROMOTER_REGISTRY", "false")
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    yield


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A port on 127.0.0.1 that records connection attempts and never answers
    (``support.loopback.connections`` counts them): a test's proof that nothing
    was sent there."""
    from support.loopback import silent_port

    with silent_port() as server:
        yield server
