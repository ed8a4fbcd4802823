"""Real registries on 127.0.0.1 for the registry tests, one set per test
session (per xdist worker): Basic auth (htpasswd) and Bearer tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from registry_setup import PASSWORD, TAGS, USER, Images, TokenSetup
from support.registry import Registry, write_layout
from support.registry_servers import TokenServer


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> Images:
    layout = tmp_path_factory.mktemp("oci") / "layout"
    return Images(layout, write_layout(layout, TAGS))


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory, images: Images) -> Iterator[Registry]:
    """htpasswd registry holding acme/api:1.0, 1.1, plain, multi (OCI) and
    docker, dlist (Docker v2 manifest and list)."""
    with Registry(tmp_path_factory.mktemp("registry"), USER, PASSWORD) as server:
        for tag in ("1.0", "1.1", "plain", "multi"):
            server.push(images.layout, tag, "acme/api")
        server.push(images.layout, "1.0", "acme/api", "docker", docker_format=True)
        server.push(images.layout, "multi", "acme/api", "dlist", docker_format=True)
        yield server


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory, images: Images
                   ) -> Iterator[TokenSetup]:
    """Bearer-token registry: public/app:1.0 (anonymous pull), private/app:1.0."""
    root = tmp_path_factory.mktemp("token-registry")
    tokens = TokenServer(root / "tokens", USER, PASSWORD, public={"public/app"})
    try:
        with Registry(root / "registry", USER, PASSWORD, token_realm=tokens.realm,
                      token_cert=tokens.cert_path) as server:
            server.push(images.layout, "1.0", "public/app")
            server.push(images.layout, "1.0", "private/app")
            yield TokenSetup(server, tokens)
    finally:
        tokens.close()
