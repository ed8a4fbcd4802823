"""From an image reference to the registry endpoint that serves it.

The name is parsed and normalised by promoter.images (``nginx`` is
``docker.io/library/nginx``); Docker Hub's API lives on ``registry-1.docker.io``.
A registry on a loopback address is spoken to over plain HTTP, as Docker does;
every other one over HTTPS, unless it is listed as insecure (an in-cluster
registry without TLS).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from promoter.images import DEFAULT_REGISTRY, ImageRef
from promoter.registry.safety import is_loopback

HUB_API = "registry-1.docker.io"


@dataclass(frozen=True)
class Endpoint:
    """Where the manifests and blobs of one repository are."""

    registry: str  # the registry as named in references: docker.io, ghcr.io, 127.0.0.1:5000
    origin: str  # http(s)://host[:port] of its API
    repository: str  # library/nginx, acme/api

    def url(self, kind: str, reference: str) -> str:
        """``kind`` is ``manifests`` or ``blobs``; ``reference`` a tag or digest."""
        return f"{self.origin}/v2/{self.repository}/{kind}/{reference}"


def api_host(registry: str) -> str:
    """The host of the registry's API: Docker Hub's is registry-1.docker.io."""
    return HUB_API if registry == DEFAULT_REGISTRY else registry


def endpoint(ref: ImageRef, insecure: Collection[str] = ()) -> Endpoint:
    """The endpoint of ``ref``'s repository. ``insecure`` lists registries
    (``host[:port]``) to speak plain HTTP to."""
    host = api_host(ref.registry)
    plain = is_loopback(host) or ref.registry in insecure or host in insecure
    return Endpoint(ref.registry, f"{'http' if plain else 'https'}://{host}", ref.path)


def reference_of(ref: ImageRef) -> str:
    """What to ask the registry for: the digest when there is one, else the tag."""
    if ref.digest:
        return ref.digest
    if ref.tag:
        return ref.tag
    raise ValueError(f"{ref} has no tag or digest")
