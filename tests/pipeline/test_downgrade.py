"""The downgrade guard (issue 11 item 6): writing an older version than the one
in place is refused unless --allow-downgrade or the environment allows it;
digests and tags that are not versions are exempt; the record names the rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.configrepo import bare_from, example_copy, heads

from promoter.errors import PromoterError
from promoter.promote import Request, promote

DIGEST = "sha256:" + "cd" * 32
PRODUCTION = "apps/api/overlays/production/kustomization.yaml"


def remote_at(tmp_path: Path, staging: str, production: str, allow: bool = False) -> Path:
    tree = example_copy(tmp_path / "tree")
    for env, version in (("staging", staging), ("production", production)):
        path = tree / f"apps/api/overlays/{env}/kustomization.yaml"
        text = path.read_text()
        path.write_text(text[:text.index("newTag:")] + f'newTag: "{version}"\n')
    if allow:
        config = tree / ".promoter.yaml"
        source = "    promote_from: staging\n"
        config.write_text(config.read_text().replace(
            source, source + "    allow_downgrade: true\n"))
    return bare_from(tree, tmp_path / "remote.git")


def prod(remote: Path, **kw: object) -> Request:
    return Request(repo=str(remote), app="api", env="production", **kw)  # type: ignore[arg-type]


def test_from_an_older_environment_is_refused(tmp_path: Path) -> None:
    remote = remote_at(tmp_path, "2.0", "3.0")
    with pytest.raises(PromoterError, match=rf"{PRODUCTION}:\d+: 3\.0 -> 2\.0 is a downgrade") \
            as info:
        promote(prod(remote, from_env="staging"), {})
    assert info.value.exit_code == 1 and "--allow-downgrade" in str(info.value)
    assert list(heads(remote)) == ["main"]


def test_allow_downgrade_lets_it_through_and_the_record_says_so(tmp_path: Path) -> None:
    remote = remote_at(tmp_path, "2.0", "3.0")
    result = promote(prod(remote, from_env="staging", allow_downgrade=True), {})
    assert result.operation == "created"
    assert result.record()["version_check"] == "downgrade allowed by --allow-downgrade"


def test_the_environment_setting_allows_it(tmp_path: Path) -> None:
    remote = remote_at(tmp_path, "2.0", "3.0", allow=True)
    result = promote(prod(remote, from_env="staging"), {})
    assert result.record()["version_check"] == (
        "downgrade allowed by environments.production.allow_downgrade")
    with pytest.raises(PromoterError, match="downgrade"):
        promote(prod(remote, image="ghcr.io/acme/api:1.0", allow_downgrade=False), {})


@pytest.mark.parametrize(("image", "rule"), [
    (f"ghcr.io/acme/api@{DIGEST}", "not compared: digest only"),
    ("ghcr.io/acme/api:main-abc123", "not compared: not a version"),
    ("ghcr.io/acme/api:3.1.0", "newer"),
    ("ghcr.io/acme/api:v3.0.1-rc.1", "newer"),
])
def test_exemptions_and_upgrades(tmp_path: Path, image: str, rule: str) -> None:
    remote = remote_at(tmp_path, "2.0", "3.0")
    result = promote(prod(remote, image=image), {})
    assert result.operation == "created" and result.record()["version_check"] == rule


def test_a_prerelease_of_the_same_version_is_older(tmp_path: Path) -> None:
    remote = remote_at(tmp_path, "2.0", "3.0.0")
    with pytest.raises(PromoterError, match="downgrade"):
        promote(prod(remote, image="ghcr.io/acme/api:3.0.0-rc.1"), {})
