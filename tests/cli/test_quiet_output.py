"""promoter's output is its own: other libraries' log records (urllib3's
"Retrying (Retry(total=...)) after connection broken by ...: /apis/..." when a
connection drops, which names the request's URL) and their ``warnings``
(urllib3's InsecureRequestWarning under a kubeconfig's
``insecure-skip-tls-verify``) print nothing on stderr; --verbose still shows
them as debug lines. The real CLI in a subprocess, against servers on
127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.kube_server import FakeKube
from support.configrepo import bare_from, example_copy

sys.path.insert(0, str(Path(__file__).parents[1] / "verify"))
import verify_objects as o

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
# the lines promoter itself writes on stderr in these runs: verify's heartbeat
# and the one error line
OWN = ("verify ", "error: ")


@contextlib.contextmanager
def dropping_server() -> Iterator[str]:
    """http://127.0.0.1:PORT where every connection is read from and closed
    without an answer (urllib3: RemoteDisconnected, retried)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.05)
    stop = threading.Event()

    def drop() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            with contextlib.suppress(OSError):
                conn.settimeout(1)
                conn.recv(65536)
            conn.close()

    thread = threading.Thread(target=drop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        server.close()


def kubeconfig_at(server: str, tmp_path: Path) -> str:
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
              "clusters": [{"name": "c", "cluster": {"server": server}}],
              "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
              "users": [{"name": "u", "user": {"token": "t0ken-of-the-test"}}]}
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))
    return str(path)


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([sys.executable, "-m", "promoter", *argv], capture_output=True,
                              text=True, env=dict(os.environ), check=False, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"promoter {argv[0]} hung")


def strays(stderr: str) -> list[str]:
    """The stderr lines that are not promoter's own."""
    return [line for line in stderr.splitlines() if not line.startswith(OWN)]


def test_promote_verify_against_a_dropping_api_server_prints_no_retry_line(
        tmp_path: Path) -> None:
    """``promote`` sets up logging for its own diagnostics: urllib3's warnings
    must not come out through it, as ``promoter: Retrying ...`` lines."""
    remote = bare_from(example_copy(tmp_path / "tree"), tmp_path / "remote.git")
    with dropping_server() as url:
        done = run("promote", "--repo", str(remote), "--app", "api", "--env", "production",
                   "--image", f"{o.IMAGE}:1.5.0", "--direct", "--verify", "--timeout", "3s",
                   "--kubeconfig", kubeconfig_at(url, tmp_path))
    assert done.returncode in (1, 5), done.stderr
    assert strays(done.stderr) == [], done.stderr
    assert "Retrying" not in done.stderr and "Retrying" not in done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and done.stderr.splitlines()[-1] == errors[0], done.stderr


def test_verify_against_a_dropping_api_server_prints_no_retry_line(tmp_path: Path) -> None:
    with dropping_server() as url:
        done = run("verify", "--argocd-app", "api", "--revision", SHA, "--timeout", "2s",
                   "--settle", "0s", "--kubeconfig", kubeconfig_at(url, tmp_path))
    assert done.returncode in (1, 5), done.stderr
    assert strays(done.stderr) == [], done.stderr
    assert done.stderr.splitlines()[-1].startswith("error: "), done.stderr


def test_verbose_still_shows_the_libraries_debug_lines(tmp_path: Path) -> None:
    """--verbose promises debug logs: the retries are shown there."""
    with dropping_server() as url:
        done = run("--verbose", "verify", "--argocd-app", "api", "--revision", SHA,
                   "--timeout", "3s", "--settle", "0s", "--kubeconfig",
                   kubeconfig_at(url, tmp_path))
    assert done.returncode in (1, 5), done.stderr
    assert "Retrying (Retry(total=2" in done.stderr, done.stderr
    assert "t0ken-of-the-test" not in done.stderr


def insecure_kubeconfig(kube: FakeKube, tmp_path: Path) -> str:
    config = json.loads(Path(kube.kubeconfig()).read_text())
    cluster = config["clusters"][0]["cluster"]
    del cluster["certificate-authority-data"]
    cluster["insecure-skip-tls-verify"] = True
    path = tmp_path / "insecure-kubeconfig"
    path.write_text(json.dumps(config))
    return str(path)


def test_insecure_skip_tls_verify_prints_no_urllib3_warning(tmp_path: Path) -> None:
    """The kubeconfig asked for it (kubectl says nothing either): urllib3's
    InsecureRequestWarning on every request is not promoter's output."""
    kube = FakeKube(tmp_path)
    try:
        kube.apply(o.application(SHA))
        done = run("verify", "--argocd-app", "api", "--revision", SHA, "--timeout", "10s",
                   "--settle", "0s", "--kubeconfig", insecure_kubeconfig(kube, tmp_path))
    finally:
        kube.close()
    assert done.returncode == 0, done.stderr
    assert strays(done.stderr) == [], done.stderr
    assert done.stdout.startswith("verify: verified"), done.stdout


LOGGING = """
import logging, warnings, click
from promoter.cli.common import setup_logging
ctx = click.Context(click.Command("x"), obj={"verbose": %s})
setup_logging(ctx)
logging.getLogger("promoter.git").warning("own warning")
logging.getLogger("promoter.registry").debug("own debug")
logging.getLogger("urllib3.connectionpool").warning("Retrying after broken: /api/v1/x")
logging.getLogger("github").error("a library's error")
warnings.warn("a library's warning")
"""


@pytest.mark.parametrize("verbose", [False, True])
def test_the_set_up_prints_promoters_records_and_others_only_with_verbose(
        verbose: bool) -> None:
    done = subprocess.run([sys.executable, "-c", LOGGING % verbose], capture_output=True,
                          text=True, check=True, timeout=30)
    lines = done.stderr.splitlines()
    if not verbose:
        assert lines == ["promoter: own warning"], done.stderr
        return
    assert lines[:2] == ["promoter: own warning", "promoter: own debug"], done.stderr
    assert "promoter: Retrying after broken: /api/v1/x" in lines
    assert "promoter: a library's error" in lines
    assert [line for line in lines if "UserWarning: a library's warning" in line], done.stderr
