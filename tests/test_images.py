from __future__ import annotations

import pytest

from promoter import images
from promoter.errors import InputError

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "repository", "tag", "digest"),
    [
        ("ghcr.io/acme/api:1.4.2", "ghcr.io/acme/api", "1.4.2", None),
        (f"ghcr.io/acme/api@{DIGEST}", "ghcr.io/acme/api", None, DIGEST),
        (f"ghcr.io/acme/api:1.4.2@{DIGEST}", "ghcr.io/acme/api", "1.4.2", DIGEST),
        ("registry.local:5000/team/app:2.0", "registry.local:5000/team/app", "2.0", None),
        ("localhost:5000/app:3", "localhost:5000/app", "3", None),
        ("localhost/app:3", "localhost/app", "3", None),
        ("nginx:1.27", "docker.io/library/nginx", "1.27", None),
        ("nginx", "docker.io/library/nginx", None, None),
        ("bitnami/redis:7", "docker.io/bitnami/redis", "7", None),
        ("index.docker.io/library/nginx:1", "docker.io/library/nginx", "1", None),
        ("docker.io/nginx:1", "docker.io/library/nginx", "1", None),
        ("[::1]:5000/app:1", "[::1]:5000/app", "1", None),
    ],
)
def test_parse(text: str, repository: str, tag: str | None, digest: str | None) -> None:
    ref = images.parse(text)
    assert (ref.repository, ref.tag, ref.digest) == (repository, tag, digest)
    assert str(ref) == text


@pytest.mark.parametrize(
    "text",
    ["Bad:Tag", "app:1\n", "a" * 10 + ":" + "t" * 300, "$(cmd)", "", " nginx", "nginx:",
     "nginx@sha256:abc", "acme/UPPER:1", "ghcr.io/acme/api:{{ .Values.tag }}", "ghcr.io//x:1"],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(InputError):
        images.parse(text)


def test_parse_new_needs_version() -> None:
    with pytest.raises(InputError, match="no tag or digest"):
        images.parse_new("ghcr.io/acme/api")


def test_same_repository() -> None:
    assert images.same_repository("nginx", "docker.io/library/nginx")
    assert images.same_repository("docker.io/bitnami/redis", "bitnami/redis")
    assert not images.same_repository("ghcr.io/acme/api", "ghcr.io/acme/api-worker")
