"""Pure parts of promoter.registry: endpoints, the origin rule, redaction,
credential sources, challenges, labels."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from promoter import images
from promoter.errors import InputError
from promoter.registry import auth, labels, safety
from promoter.registry.reference import endpoint


@pytest.mark.parametrize(("text", "origin", "repository"), [
    ("nginx:1.27", "https://registry-1.docker.io", "library/nginx"),
    ("docker.io/library/nginx:1", "https://registry-1.docker.io", "library/nginx"),
    ("index.docker.io/acme/api:1", "https://registry-1.docker.io", "acme/api"),
    ("ghcr.io/acme/api:1", "https://ghcr.io", "acme/api"),
    ("127.0.0.1:5000/acme/api:1", "http://127.0.0.1:5000", "acme/api"),
    ("localhost:5000/api:1", "http://localhost:5000", "api"),
    ("[::1]:5000/api:1", "http://[::1]:5000", "api"),
    ("registry.internal:5000/api:1", "https://registry.internal:5000", "api"),
])
def test_endpoint(text: str, origin: str, repository: str) -> None:
    where = endpoint(images.parse(text))
    assert (where.origin, where.repository) == (origin, repository)


def test_insecure_registry_is_plain_http_only_when_listed() -> None:
    ref = images.parse("registry.cluster.local:5000/api:1")
    assert endpoint(ref, ("registry.cluster.local:5000",)).origin.startswith("http://")
    assert endpoint(ref, ("other:5000",)).origin.startswith("https://")


@pytest.mark.parametrize(("a", "b", "same"), [
    ("https://ghcr.io/v2/x", "https://ghcr.io:443/token", True),
    ("https://GHCR.io/v2/x", "https://ghcr.io/v2/y", True),
    ("https://ghcr.io/v2/x", "http://ghcr.io/v2/x", False),
    ("https://ghcr.io/v2/x", "https://pkg-containers.githubusercontent.com/blob", False),
    ("http://127.0.0.1:5000/v2/", "http://127.0.0.1:5001/v2/", False),
    ("https://ghcr.io/", "https://ghcr.io.evil.test/", False),
])
def test_same_origin(a: str, b: str, same: bool) -> None:
    assert safety.same_origin(a, b) is same


def test_realm_gets_credentials_only_safely() -> None:
    hub = "https://registry-1.docker.io"
    assert safety.may_receive_credentials("https://auth.docker.io/token", hub)
    assert not safety.may_receive_credentials("http://auth.evil.test/token", hub)
    assert not safety.may_receive_credentials("http://127.0.0.1:9/token", hub)
    assert safety.may_receive_credentials("http://127.0.0.1:9/token", "http://127.0.0.1:5000")
    assert safety.may_receive_credentials("http://reg.cluster:5000/t", "http://reg.cluster:5000")


def test_redirects_never_downgrade_off_loopback() -> None:
    assert not safety.allowed_redirect("https://ghcr.io/v2/", "http://storage.test/blob")
    assert not safety.allowed_redirect("https://ghcr.io/v2/", "file:///etc/passwd")
    assert safety.allowed_redirect("https://ghcr.io/v2/", "https://storage.test/blob")


def test_redact_masks_secrets_and_bounds_one_line() -> None:
    text = safety.redact("bad token SENTINEL-123\nsecond line " + "x" * 500, ["SENTINEL-123"])
    assert "SENTINEL" not in text and "\n" not in text and len(text) <= safety.QUOTE_LIMIT


def _docker_config(tmp_path: Path, auths: dict[str, object]) -> dict[str, str]:
    (tmp_path / "config.json").write_text(json.dumps({"auths": auths}))
    return {"DOCKER_CONFIG": str(tmp_path)}


def test_docker_config_auths(tmp_path: Path) -> None:
    encoded = base64.b64encode(b"hubuser:hubpass").decode()
    environ = _docker_config(tmp_path, {
        "https://index.docker.io/v1/": {"auth": encoded},
        "https://ghcr.io": {"username": "gh", "password": "ghpass"},
        "127.0.0.1:5000": {"auth": base64.b64encode(b"local:pw").decode()},
    })
    hub = auth.lookup("docker.io", environ)
    assert hub is not None and (hub.user, hub.token) == ("hubuser", "hubpass")
    ghcr = auth.lookup("ghcr.io", environ)
    assert ghcr is not None and ghcr.user == "gh"
    assert auth.lookup("127.0.0.1:5000", environ) is not None
    assert auth.lookup("quay.io", environ) is None
    assert "hubpass" not in repr(hub)


def test_home_docker_config_when_no_docker_config(tmp_path: Path) -> None:
    (tmp_path / ".docker").mkdir()
    _docker_config(tmp_path / ".docker", {"quay.io": {"username": "q", "password": "p"}})
    assert auth.lookup("quay.io", {"HOME": str(tmp_path)}) is not None


def test_broken_docker_config_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(InputError, match=r"config\.json: not readable JSON"):
        auth.lookup("ghcr.io", {"DOCKER_CONFIG": str(tmp_path)})


def test_explicit_variables_win_over_everything(tmp_path: Path) -> None:
    environ = {**_docker_config(tmp_path, {"ghcr.io": {"username": "a", "password": "b"}}),
               "PROMOTER_REGISTRY_USER": "me", "PROMOTER_REGISTRY_TOKEN": "tok",
               "GITHUB_TOKEN": "ghs"}
    found = auth.lookup("ghcr.io", environ)
    assert found is not None and (found.user, found.token, found.source) == (
        "me", "tok", "PROMOTER_REGISTRY_TOKEN")


def test_ci_tokens_only_for_their_registry() -> None:
    environ = {"GITHUB_TOKEN": "ghs_x", "GITHUB_ACTOR": "octo", "CI_REGISTRY": "registry.gl.test",
               "CI_REGISTRY_USER": "gitlab-ci-token", "CI_REGISTRY_PASSWORD": "job"}
    ghcr = auth.lookup("ghcr.io", environ)
    assert ghcr is not None and (ghcr.user, ghcr.source) == ("octo", "GITHUB_TOKEN")
    gitlab = auth.lookup("registry.gl.test", environ)
    assert gitlab is not None and gitlab.token == "job"
    assert auth.lookup("docker.io", environ) is None  # GITHUB_TOKEN never goes elsewhere


def test_parse_challenge_with_commas_in_scope() -> None:
    found = auth.parse_challenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/nginx:pull,push"')
    assert found is not None and found.scheme == "bearer"
    assert found.params == {"realm": "https://auth.docker.io/token",
                            "service": "registry.docker.io",
                            "scope": "repository:library/nginx:pull,push"}
    basic = auth.parse_challenge('Basic realm="test"')
    assert basic is not None and basic.scheme == "basic"


def test_labels_are_accepted_only_in_shape() -> None:
    found = labels.from_labels({
        "org.opencontainers.image.source": "git@github.com:acme/api.git",
        "org.opencontainers.image.revision": "abc123",
        "org.opencontainers.image.version": "1.4.0 [click](javascript:alert(1))",
        "org.opencontainers.image.created": "yesterday",
    })
    assert found == labels.ImageLabels(source="https://github.com/acme/api", revision="abc123")
    assert labels.source_url("javascript:alert(1)") is None
    assert labels.source_url("https://gitlab.example/acme/api/") == "https://gitlab.example/acme/api"


def test_compare_links_per_forge() -> None:
    assert labels.compare_url("https://gitlab.com/acme/api", "a", "b") == (
        "https://gitlab.com/acme/api/-/compare/a...b")
    assert labels.compare_url("https://git.example/acme/api", "a", "b") is None


def test_summary_without_old_labels_lists_the_new_revision() -> None:
    new = labels.ImageLabels(source="https://github.com/acme/api", revision="b" * 40)
    text = labels.summary(labels.Provenance(None, new))
    assert text == f"- Image source: https://github.com/acme/api\n- Revision: `{'b' * 40}`"
    assert labels.summary(labels.Provenance(None, labels.ImageLabels())) == ""


def test_environment_registry_settings_are_checked_booleans() -> None:
    from promoter import config

    data = {"environments": {"prod": {"paths": ["x"], "pin_digest": True, "registry": False},
                             "dev": {"paths": ["y"]}},
            "apps": {"api": {"image": "ghcr.io/acme/api"}}}
    parsed = config.parse(data)
    assert parsed.environments["prod"].registry == config.RegistrySettings(False, True)
    assert parsed.environments["dev"].registry == config.RegistrySettings(True, False)
    assert config.resolve(parsed, "api", "prod").registry.pin_digest
    data["environments"]["dev"]["registry"] = "no"
    with pytest.raises(InputError, match=r"environments\.dev\.registry: expected true or false"):
        config.parse(data)
