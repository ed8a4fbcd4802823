"""Bearer token challenges, blob redirects to another origin, and OCI labels,
against real registries on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from registry_setup import LABELS_11, PASSWORD, SOURCE, USER, TokenSetup
from support.registry import Registry
from support.registry_servers import RedirectProxy, Storage

from promoter import images as refs
from promoter.errors import AuthError
from promoter.registry import check
from promoter.registry.check import Options
from promoter.registry.labels import summary
from promoter.registry.transport import Credential

CREDS = {"PROMOTER_REGISTRY_USER": USER, "PROMOTER_REGISTRY_PASSWORD": PASSWORD}


def _client(text: str, environ: dict[str, str]) -> tuple[check.Client, refs.ImageRef]:
    ref = refs.parse(text)
    return check.connect(ref, Options(timeout=5.0), environ), ref


@pytest.mark.linux_tools
def test_anonymous_bearer_challenge_on_a_public_repository(token_registry: TokenSetup) -> None:
    tokens = token_registry.tokens
    before = len(tokens.seen)
    client, ref = _client(f"{token_registry.registry.host}/public/app:1.0", {})
    assert check.verified(client, ref, pin=True).digest
    asked = tokens.seen[before:]
    assert len(asked) == 1 and "Authorization" not in asked[0][2]
    assert "scope=repository%3Apublic%2Fapp%3Apull" in asked[0][1]
    assert client.transport.sent == 3  # 401, token, HEAD again
    pinned = check.verified(client, ref, pin=True)
    assert client.transport.sent == 3  # the tag's digest is known to this client
    assert pinned.digest and client.manifest(pinned.digest).status == 200
    assert client.transport.sent == 4 and len(tokens.seen) == before + 1  # token reused


@pytest.mark.linux_tools
def test_private_repository_without_credentials_is_exit_3(token_registry: TokenSetup) -> None:
    client, ref = _client(f"{token_registry.registry.host}/private/app:1.0", {})
    with pytest.raises(AuthError, match=r"refused access to private/app .*without credentials"):
        check.verified(client, ref, pin=False)


@pytest.mark.linux_tools
def test_private_repository_with_credentials(token_registry: TokenSetup) -> None:
    tokens = token_registry.tokens
    before = len(tokens.seen)
    client, ref = _client(f"{token_registry.registry.host}/private/app:1.0", CREDS)
    assert check.verified(client, ref, pin=True).digest
    assert tokens.seen[before][2]["Authorization"].startswith("Basic ")


@pytest.mark.linux_tools
def test_wrong_credentials_refused_by_the_token_service(token_registry: TokenSetup) -> None:
    wrong = {**CREDS, "PROMOTER_REGISTRY_PASSWORD": "SENTINEL-nope-2b9"}
    client, ref = _client(f"{token_registry.registry.host}/private/app:1.0", wrong)
    with pytest.raises(AuthError) as caught:
        check.verified(client, ref, pin=False)
    assert caught.value.exit_code == 3 and "SENTINEL" not in caught.value.message


@pytest.fixture
def redirecting(registry: Registry) -> Iterator[tuple[RedirectProxy, Storage]]:
    creds = check.auth.lookup(registry.host, CREDS)
    assert creds is not None
    storage = Storage(registry.host, creds.header())
    proxy = RedirectProxy(registry.host, storage)
    try:
        yield proxy, storage
    finally:
        proxy.close()
        storage.close()


@pytest.mark.linux_tools
def test_blob_redirect_to_another_origin_carries_no_credentials(
    redirecting: tuple[RedirectProxy, Storage]
) -> None:
    proxy, storage = redirecting
    host = proxy.url.removeprefix("http://")
    client, ref = _client(f"{host}/acme/api:1.1", CREDS)
    labels = check.labels_of(client, check.digest_of(client, ref))
    assert labels is not None and labels.version == "1.1"
    assert storage.seen, "the config blob was fetched from the storage origin"
    assert all("Authorization" not in headers for _, _, headers in storage.seen)
    assert all("Authorization" in headers for _, _, headers in proxy.seen)


@pytest.mark.linux_tools
def test_bearer_token_never_follows_a_redirect(redirecting: tuple[RedirectProxy, Storage],
                                               registry: Registry) -> None:
    proxy, storage = redirecting
    client, _ = _client(f"{proxy.url.removeprefix('http://')}/acme/api:1.0", CREDS)
    manifest = json.loads(client.manifest(registry.digest("acme/api", "1.0")).body)
    digest = manifest["config"]["digest"]
    sent = client.transport.send("GET", f"{proxy.url}/v2/acme/api/blobs/{digest}", {},
                                 Credential("Bearer SENTINEL-tok", proxy.url), 1 << 20)
    assert sent.status == 200 and sent.url.startswith(storage.url)
    assert all("SENTINEL" not in str(headers) for _, _, headers in storage.seen)


@pytest.mark.linux_tools
def test_labels_of_single_multi_arch_and_docker_images(registry: Registry) -> None:
    client, _ = _client(f"{registry.host}/acme/api:1.0", CREDS)
    single = check.labels_of(client, registry.digest("acme/api", "1.0"))
    assert single is not None
    assert (single.source, single.version, single.created) == (
        SOURCE, "1.0", "2026-11-30 10:00 UTC")
    multi = check.labels_of(client, registry.digest("acme/api", "multi"))
    assert multi is not None
    assert multi.revision == LABELS_11["org.opencontainers.image.revision"]  # amd64 child
    assert multi.created == "2026-12-01 08:30 UTC"
    docker = check.labels_of(client, registry.digest("acme/api", "docker"))
    assert docker == single


@pytest.mark.linux_tools
def test_no_labels_no_lines(registry: Registry) -> None:
    client, ref = _client(f"{registry.host}/acme/api:plain", CREDS)
    old = refs.parse(f"{registry.host}/acme/api:1.0")
    assert summary(check.provenance(client, ref, old)) == ""


@pytest.mark.linux_tools
def test_provenance_links_the_revisions(registry: Registry) -> None:
    client, ref = _client(f"{registry.host}/acme/api:1.1", CREDS)
    old = refs.parse(f"{registry.host}/acme/api:1.0")
    text = summary(check.provenance(client, ref, old))
    assert f"{SOURCE}/compare/{'1' * 40}...{'2' * 40}" in text
    assert "- Version: `1.0` -> `1.1`" in text
    assert "2026-11-30 10:00 UTC -> 2026-12-01 08:30 UTC" in text


@pytest.mark.linux_tools
def test_provenance_of_a_deleted_old_image_keeps_the_new(registry: Registry) -> None:
    client, ref = _client(f"{registry.host}/acme/api:1.1", CREDS)
    old = refs.parse(f"{registry.host}/acme/api:0.1-gone")
    found = check.provenance(client, ref, old)
    assert found is not None and found.old is None and found.new is not None
