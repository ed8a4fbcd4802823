"""promoter.registry.check against a real registry (CNCF Distribution) on
127.0.0.1: exists, missing, pinning, multi-arch, re-pushed tags, auth failures,
an unreachable or silent registry."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from registry_setup import PASSWORD, USER, Images
from support.registry import Registry

from promoter import images as refs
from promoter.errors import AuthError, ConflictError, InputError, PromoterError
from promoter.registry import check
from promoter.registry.check import Options

CREDS = {"PROMOTER_REGISTRY_USER": USER, "PROMOTER_REGISTRY_PASSWORD": PASSWORD}


def _client(ref: refs.ImageRef, environ: dict[str, str] | None = None, timeout: float = 5.0
            ) -> check.Client:
    return check.connect(ref, Options(timeout=timeout), CREDS if environ is None else environ)


def _verified(text: str, pin: bool = False, environ: dict[str, str] | None = None
              ) -> refs.ImageRef:
    ref = refs.parse(text)
    return check.verified(_client(ref, environ), ref, pin)


@pytest.mark.linux_tools
def test_existing_tag_passes_unchanged(registry: Registry) -> None:
    text = f"{registry.host}/acme/api:1.0"
    assert str(_verified(text)) == text


@pytest.mark.linux_tools
def test_pin_writes_the_registry_digest(registry: Registry) -> None:
    pinned = _verified(f"{registry.host}/acme/api:1.0", pin=True)
    assert pinned.tag == "1.0"
    assert pinned.digest == registry.digest("acme/api", "1.0")


@pytest.mark.linux_tools
def test_multi_arch_pins_the_index_digest(registry: Registry, images: Images) -> None:
    pinned = _verified(f"{registry.host}/acme/api:multi", pin=True)
    assert pinned.digest == images.digests["multi"]  # the index, not a platform image


@pytest.mark.linux_tools
def test_docker_v2_manifest_and_list_digests(registry: Registry) -> None:
    for tag in ("docker", "dlist"):
        pinned = _verified(f"{registry.host}/acme/api:{tag}", pin=True)
        assert pinned.digest == registry.digest("acme/api", tag)
    assert _verified(f"{registry.host}/acme/api:dlist", pin=True).digest != (
        _verified(f"{registry.host}/acme/api:multi", pin=True).digest)


@pytest.mark.linux_tools
def test_missing_tag_is_an_input_error_with_the_registry_answer(registry: Registry) -> None:
    with pytest.raises(InputError) as caught:
        _verified(f"{registry.host}/acme/api:9.9.9")
    assert caught.value.exit_code == 2
    assert "tag 9.9.9 of" in caught.value.message
    assert "404 MANIFEST_UNKNOWN" in caught.value.message


@pytest.mark.linux_tools
def test_missing_digest(registry: Registry) -> None:
    with pytest.raises(InputError, match=r"digest sha256:0{64} .*404"):
        _verified(f"{registry.host}/acme/api@sha256:{'0' * 64}")


@pytest.mark.linux_tools
def test_missing_repository(registry: Registry) -> None:
    with pytest.raises(InputError, match="404"):
        _verified(f"{registry.host}/acme/nothing:1.0")


@pytest.mark.linux_tools
def test_digest_only_reference_exists(registry: Registry) -> None:
    digest = registry.digest("acme/api", "1.1")
    assert _verified(f"{registry.host}/acme/api@{digest}", pin=True).digest == digest


@pytest.mark.linux_tools
def test_tag_and_matching_digest_pass(registry: Registry) -> None:
    digest = registry.digest("acme/api", "1.0")
    assert _verified(f"{registry.host}/acme/api:1.0@{digest}").digest == digest


@pytest.mark.linux_tools
def test_re_pushed_tag_is_refused_naming_both_digests(registry: Registry,
                                                      images: Images) -> None:
    registry.push(images.layout, "plain", "acme/moving", "2.0")
    before = registry.digest("acme/moving", "2.0")
    registry.push(images.layout, "rebuilt", "acme/moving", "2.0")
    after = registry.digest("acme/moving", "2.0")
    assert before != after
    ref = refs.parse(f"{registry.host}/acme/moving:2.0@{before}")
    with pytest.raises(ConflictError) as caught:
        check.verified(_client(ref), ref, pin=False, source="staging")
    assert caught.value.exit_code == 1
    assert before in caught.value.message and after in caught.value.message
    assert "staging" in caught.value.message


@pytest.mark.linux_tools
def test_no_credentials_is_unauthorised(registry: Registry) -> None:
    with pytest.raises(AuthError) as caught:
        _verified(f"{registry.host}/acme/api:1.0", environ={})
    assert caught.value.exit_code == 3
    assert "401" in caught.value.message and "without credentials" in caught.value.message


@pytest.mark.linux_tools
def test_wrong_password_is_unauthorised_and_not_quoted(registry: Registry) -> None:
    wrong = {"PROMOTER_REGISTRY_USER": USER, "PROMOTER_REGISTRY_PASSWORD": "SENTINEL-wrong-81f"}
    with pytest.raises(AuthError) as caught:
        _verified(f"{registry.host}/acme/api:1.0", environ=wrong)
    assert "PROMOTER_REGISTRY_PASSWORD" in caught.value.message
    assert "SENTINEL" not in caught.value.message


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again: nothing listens there


def test_unreachable_registry_is_one_line_exit_1(closed_port: int) -> None:
    with pytest.raises(PromoterError) as caught:
        _verified(f"127.0.0.1:{closed_port}/acme/api:1.0")
    assert type(caught.value) is PromoterError and caught.value.exit_code == 1
    assert "unreachable (connection refused)" in caught.value.message
    assert "--no-registry" in caught.value.message


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the backlog) but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def test_silent_registry_times_out(silent_port: int) -> None:
    ref = refs.parse(f"127.0.0.1:{silent_port}/acme/api:1.0")
    with pytest.raises(PromoterError, match=r"no answer within 0.3s"):
        check.verified(_client(ref, timeout=0.3), ref, pin=False)
