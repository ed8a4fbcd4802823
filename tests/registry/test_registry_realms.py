"""Token realms remembered between runs (promoter.registry.realms) against the
real Bearer-token registry on 127.0.0.1: the first check with a challenge is
3 requests, every later one 2; stale, corrupt and poisoned entries."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_setup import PASSWORD, USER, Images, TokenSetup
from support.registry import Registry
from support.registry_servers import Canned

from promoter import images as refs
from promoter.errors import AuthError
from promoter.registry import check, realms
from promoter.registry.check import Options
from promoter.registry.safety import may_ask_remembered

CREDS = {"PROMOTER_REGISTRY_USER": USER, "PROMOTER_REGISTRY_PASSWORD": PASSWORD}


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "xdg" / "promoter" / realms.FILE_NAME


def _env(tmp_path: Path, more: dict[str, str] | None = None) -> dict[str, str]:
    return {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home"), **(more or {})}


def _check(host: str, repository: str, environ: dict[str, str], images: Images) -> check.Client:
    """One run's check of ``host/repository:1.0`` with a fresh client."""
    ref = refs.parse(f"{host}/{repository}:1.0")
    client = check.connect(ref, Options(timeout=5.0), environ)
    assert check.verified(client, ref, pin=True).digest == images.digests["1.0"]
    return client


def _entry(origin: str, realm: str, service: str | None = "test-registry") -> bytes:
    return json.dumps({"version": 1, "realms": {origin: {"realm": realm, "service": service}}}
                      ).encode()


def _write(path: Path, data: bytes, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)


@pytest.mark.linux_tools
def test_first_run_learns_the_realm_later_runs_take_two_requests(
    token_registry: TokenSetup, images: Images, tmp_path: Path, cache: Path
) -> None:
    host, tokens = token_registry.registry.host, token_registry.tokens
    first = _check(host, "public/app", _env(tmp_path), images)
    assert first.transport.sent == 3  # nothing cached: 401, token, HEAD again
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700
    learned = json.loads(cache.read_bytes())["realms"]
    assert learned == {f"http://{host}": {"realm": tokens.realm, "service": "test-registry"}}
    before = len(tokens.seen)
    for _ in range(2):
        assert _check(host, "public/app", _env(tmp_path), images).transport.sent == 2
    asked = tokens.seen[before:]
    assert len(asked) == 2 and all("Authorization" not in headers for _, _, headers in asked)
    assert all("scope=repository%3Apublic%2Fapp%3Apull" in path for _, path, _ in asked)


@pytest.mark.linux_tools
def test_with_credentials_two_requests_and_no_secret_in_the_file(
    token_registry: TokenSetup, images: Images, tmp_path: Path, cache: Path
) -> None:
    host, tokens = token_registry.registry.host, token_registry.tokens
    environ = _env(tmp_path, CREDS)
    assert _check(host, "private/app", environ, images).transport.sent == 3
    before = len(tokens.seen)
    second = _check(host, "private/app", environ, images)
    assert second.transport.sent == 2
    assert tokens.seen[before][2]["Authorization"].startswith("Basic ")
    data = cache.read_bytes()
    token = second._token
    assert token and token.encode() not in data and token.split(".")[1].encode() not in data
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode())
    assert PASSWORD.encode() not in data and basic not in data and b"SENTINEL" not in data
    assert b"scope" not in data and b"private/app" not in data


@pytest.mark.linux_tools
def test_a_stale_realm_falls_back_once_and_is_replaced(
    token_registry: TokenSetup, images: Images, tmp_path: Path, cache: Path
) -> None:
    host, tokens = token_registry.registry.host, token_registry.tokens
    moved = Canned(200, b'{"token": "SENTINEL-stale-token"}')  # the old token service
    try:
        _write(cache, _entry(f"http://{host}", f"{moved.url}/token"))
        client = _check(host, "public/app", _env(tmp_path), images)
    finally:
        moved.close()
    assert client.transport.sent == 4  # old realm, 401 naming the new one, token, HEAD
    assert len(moved.seen) == 1
    assert json.loads(cache.read_bytes())["realms"][f"http://{host}"]["realm"] == tokens.realm
    assert _check(host, "public/app", _env(tmp_path), images).transport.sent == 2


@pytest.mark.linux_tools
def test_a_realm_that_is_gone_falls_back(
    token_registry: TokenSetup, images: Images, tmp_path: Path, cache: Path
) -> None:
    host = token_registry.registry.host
    gone = Canned(200)
    url = f"{gone.url}/token"
    gone.close()  # nothing listens there any more: connection refused
    _write(cache, _entry(f"http://{host}", url))
    assert _check(host, "public/app", _env(tmp_path), images).transport.sent == 4
    assert _check(host, "public/app", _env(tmp_path), images).transport.sent == 2


@pytest.mark.linux_tools
def test_a_registry_now_on_basic_auth_forgets_its_realm(
    registry: Registry, token_registry: TokenSetup, images: Images, tmp_path: Path, cache: Path
) -> None:
    _write(cache, _entry(f"http://{registry.host}", token_registry.tokens.realm))
    environ = _env(tmp_path, CREDS)
    assert _check(registry.host, "acme/api", environ, images).transport.sent == 3
    assert json.loads(cache.read_bytes())["realms"] == {}
    assert _check(registry.host, "acme/api", environ, images).transport.sent == 1


@pytest.mark.linux_tools
def test_basic_auth_is_one_request_and_writes_nothing(
    registry: Registry, images: Images, tmp_path: Path, cache: Path
) -> None:
    for _ in range(2):
        assert _check(registry.host, "acme/api", _env(tmp_path, CREDS), images).transport.sent == 1
    assert not cache.exists()


@pytest.mark.linux_tools
@pytest.mark.parametrize("content", [b"{not json", b"[]", b'{"realms": {"x": 1}}', b"\xff" * 10])
def test_a_corrupt_file_is_ignored_and_rewritten(
    token_registry: TokenSetup, images: Images, tmp_path: Path, cache: Path, content: bytes
) -> None:
    host = token_registry.registry.host
    _write(cache, content)
    assert _check(host, "public/app", _env(tmp_path), images).transport.sent == 3
    assert f"http://{host}" in json.loads(cache.read_bytes())["realms"]
    assert _check(host, "public/app", _env(tmp_path), images).transport.sent == 2


@pytest.fixture
def poison() -> Iterator[Canned]:
    server = Canned(200, b'{"token": "SENTINEL-poison"}')
    try:
        yield server
    finally:
        server.close()


@pytest.mark.linux_tools
def test_a_cached_realm_on_another_host_never_gets_the_credentials(
    token_registry: TokenSetup, images: Images, tmp_path: Path, cache: Path, poison: Canned
) -> None:
    host = token_registry.registry.host
    other_host = poison.url.replace("127.0.0.1", "localhost")  # another host name
    _write(cache, _entry(f"http://{host}", f"{other_host}/token"))
    client = _check(host, "private/app", _env(tmp_path, CREDS), images)
    assert client.transport.sent == 3 and poison.seen == []  # the challenge flow, as uncached
    learned = json.loads(cache.read_bytes())["realms"][f"http://{host}"]
    assert learned["realm"] == token_registry.tokens.realm  # the registry's own answer wins


@pytest.mark.linux_tools
@pytest.mark.parametrize("mode", [0o666, 0o620])
def test_a_file_others_can_write_is_not_trusted(
    token_registry: TokenSetup, images: Images, tmp_path: Path, cache: Path, poison: Canned,
    mode: int,
) -> None:
    host = token_registry.registry.host
    _write(cache, _entry(f"http://{host}", f"{poison.url}/token"), mode)
    client = _check(host, "private/app", _env(tmp_path, CREDS), images)
    assert client.transport.sent == 3 and poison.seen == []
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600  # replaced by the learned realm


@pytest.mark.linux_tools
def test_a_symbolic_link_is_not_followed(
    token_registry: TokenSetup, images: Images, tmp_path: Path, cache: Path, poison: Canned
) -> None:
    host = token_registry.registry.host
    elsewhere = tmp_path / "planted.json"
    _write(elsewhere, _entry(f"http://{host}", f"{poison.url}/token"))
    cache.parent.mkdir(parents=True)
    cache.symlink_to(elsewhere)
    client = _check(host, "private/app", _env(tmp_path, CREDS), images)
    assert client.transport.sent == 3 and poison.seen == []
    assert not cache.is_symlink() and f"{poison.url}" in elsewhere.read_text()


@pytest.mark.linux_tools
def test_wrong_credentials_with_a_cached_realm_are_still_exit_3(
    token_registry: TokenSetup, images: Images, tmp_path: Path
) -> None:
    host = token_registry.registry.host
    _check(host, "public/app", _env(tmp_path), images)  # learns the realm
    wrong = _env(tmp_path, {**CREDS, "PROMOTER_REGISTRY_PASSWORD": "SENTINEL-nope-7c1"})
    ref = refs.parse(f"{host}/private/app:1.0")
    client = check.connect(ref, Options(timeout=5.0), wrong)
    with pytest.raises(AuthError) as caught:
        check.verified(client, ref, pin=False)
    assert caught.value.exit_code == 3 and "SENTINEL" not in caught.value.message
    assert client.transport.sent == 3  # the cached realm refuses them; 401; refused again
    assert _check(host, "public/app", _env(tmp_path), images).transport.sent == 2  # kept


@pytest.mark.linux_tools
@pytest.mark.parametrize("setting", ["off", "false"])
def test_turned_off_nothing_is_written(
    token_registry: TokenSetup, images: Images, tmp_path: Path, setting: str
) -> None:
    host = token_registry.registry.host
    environ = _env(tmp_path, {"PROMOTER_REGISTRY_CACHE": setting})
    for _ in range(2):
        assert _check(host, "public/app", environ, images).transport.sent == 3
    assert not (tmp_path / "xdg").exists()


@pytest.mark.linux_tools
def test_the_cache_file_can_be_put_elsewhere(
    token_registry: TokenSetup, images: Images, tmp_path: Path
) -> None:
    host = token_registry.registry.host
    chosen = tmp_path / "ci-cache" / "realms.json"
    environ = _env(tmp_path, {"PROMOTER_REGISTRY_CACHE": str(chosen)})
    assert _check(host, "public/app", environ, images).transport.sent == 3
    assert _check(host, "public/app", environ, images).transport.sent == 2
    assert chosen.is_file() and not (tmp_path / "xdg").exists()


@pytest.mark.parametrize(("environ", "expected"), [
    ({"PROMOTER_REGISTRY_CACHE": "/c/r.json", "XDG_CACHE_HOME": "/x"}, "/c/r.json"),
    ({"PROMOTER_REGISTRY_CACHE": "OFF", "HOME": "/h"}, None),
    ({"XDG_CACHE_HOME": "/x", "HOME": "/h"}, f"/x/promoter/{realms.FILE_NAME}"),
    ({"XDG_CACHE_HOME": "relative", "HOME": "/h"}, f"/h/.cache/promoter/{realms.FILE_NAME}"),
    ({"HOME": "/h"}, f"/h/.cache/promoter/{realms.FILE_NAME}"),
    ({}, None),
])
def test_cache_path(environ: dict[str, str], expected: str | None) -> None:
    found = realms.cache_path(environ)
    assert (str(found) if found else None) == expected


def test_docker_hub_realm_is_known_and_may_get_the_credentials(tmp_path: Path) -> None:
    known = realms.Realms(tmp_path / "none.json").remembered("https://registry-1.docker.io")
    assert known == realms.Realm("https://auth.docker.io/token", "registry.docker.io")
    assert may_ask_remembered(known.url, "https://registry-1.docker.io",
                                    known=True, credentials=True)
    assert not may_ask_remembered(known.url, "https://registry-1.docker.io",
                                        known=False, credentials=True)


@pytest.mark.parametrize(("realm", "origin", "credentials", "allowed"), [
    ("https://ghcr.io/token", "https://ghcr.io", True, True),
    ("https://ghcr.io:8443/token", "https://ghcr.io", True, True),  # same host
    ("https://evil.example/token", "https://ghcr.io", True, False),
    ("https://evil.example/token", "https://ghcr.io", False, True),  # nothing secret sent
    ("http://evil.example/token", "https://ghcr.io", False, False),  # never plain HTTP off loopback
    ("http://127.0.0.1:9/token", "http://127.0.0.1:5000", True, True),
    ("http://localhost:9/token", "http://127.0.0.1:5000", True, False),
])
def test_may_ask_remembered(realm: str, origin: str, credentials: bool, allowed: bool) -> None:
    assert may_ask_remembered(realm, origin, known=False,
                                    credentials=credentials) is allowed


def test_unwritable_cache_never_fails(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    store = realms.Realms(blocked / "sub" / realms.FILE_NAME)  # parent is a file
    store.learn("https://ghcr.io", realms.Realm("https://ghcr.io/token", "ghcr.io"))
    assert store.remembered("https://ghcr.io") == realms.Realm("https://ghcr.io/token", "ghcr.io")
    assert os.listdir(tmp_path) == ["file"]


@pytest.mark.linux_tools
def test_the_cli_keeps_the_realm_in_the_user_cache_dir(
    token_registry: TokenSetup, tmp_path: Path
) -> None:
    host, tokens = token_registry.registry.host, token_registry.tokens
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n"
                        "  template:\n    spec:\n      containers:\n        - name: api\n"
                        f"          image: {host}/private/app:0.9\n")
    environ = {k: v for k, v in os.environ.items() if k != "PROMOTER_REGISTRY"}
    cache = Path(environ["XDG_CACHE_HOME"]) / "promoter" / realms.FILE_NAME
    before = len(tokens.seen)
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "promoter", "update", "--check-registry",
             f"{host}/private/app:1.0", str(manifest)],
            env={**environ, **CREDS}, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert cache.is_file() and PASSWORD.encode() not in cache.read_bytes()
    assert len(tokens.seen) == before + 2  # one token a run: the second asked it first
    assert json.loads(cache.read_bytes())["realms"][f"http://{host}"]["realm"] == tokens.realm
