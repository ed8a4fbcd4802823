"""Composing: the C composer, and the pure YAML 1.2 composer as a second opinion
for a text the C one rejects, with exact positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoter import images
from promoter.errors import BadYaml, InputError
from promoter.manifests import plan_update
from promoter.manifests.nodes import bad_yaml, compose_all


def test_flow_mapping_with_colons_in_plain_scalars(tmp_path: Path) -> None:
    text = (
        "kind: Deployment\nspec:\n  template:\n    spec:\n"
        "      containers: [{name: é, image: ghcr.io/acme/sidecar:1.0.0}, "
        "{name: b, image: ghcr.io/acme/api:1.0.0}]\r\n"
    )
    (tmp_path / "d.yaml").write_text(text, newline="")
    plan = plan_update(tmp_path, ["d.yaml"], images.parse_new("ghcr.io/acme/sidecar:1.1.0"))
    assert plan.edits[0].after.decode() == text.replace("sidecar:1.0.0", "sidecar:1.1.0")
    change = plan.changes[0]
    assert (change.line, change.column) == (5, 37)
    assert change.path == "spec.template.spec.containers[0].image"


def test_anchor_defined_twice(tmp_path: Path) -> None:
    text = (
        "service:\n  main:\n    ports:\n      http:\n        port: &port 8080\n"
        "  metrics:\n    ports:\n      http:\n        port: &port 9090\n"
        "probe: {port: *port}\n"
        "image:\n  repository: ghcr.io/acme/api\n  tag: v1\n"
    )
    (tmp_path / "values.yaml").write_text(text)
    plan = plan_update(tmp_path, ["values.yaml"], images.parse_new("ghcr.io/acme/api:v2"))
    assert plan.edits[0].after.decode() == text.replace("tag: v1", "tag: v2")
    assert (plan.changes[0].line, plan.changes[0].column) == (13, 8)


def test_alias_follows_the_latest_anchor(tmp_path: Path) -> None:
    text = "a: &t v0\nb:\n  repository: x/api\n  tag: &t v1\nc:\n  repository: x/api\n  tag: *t\n"
    (tmp_path / "v.yaml").write_text(text)
    plan = plan_update(tmp_path, ["v.yaml"], images.parse_new("x/api:v2"))
    assert plan.edits[0].after.decode() == text.replace("&t v1", "&t v2")
    assert plan.changes[0].notes == ("alias at c.tag follows this anchor",)


def test_both_composers_reject_invalid_yaml(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("a: [x/api:1\nb: 2\n")
    with pytest.raises(InputError, match=r"^bad.yaml:\d+: invalid YAML"):
        plan_update(tmp_path, ["bad.yaml"], images.parse_new("x/api:2"))


def test_duplicate_anchor_message_names_the_anchor() -> None:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError

    text = "a: &port 1\nb: &port 2\n"
    with pytest.raises(MarkedYAMLError) as info:
        list(YAML(typ="safe", pure=False).compose_all(text))
    bad = bad_yaml(text, info.value)
    assert isinstance(bad, BadYaml)
    assert (bad.reason, bad.line) == ("invalid YAML: anchor &port defined twice", 2)
    assert [d.id for d in compose_all(text)] == ["mapping"]


def test_walk_skips_merge_keys_by_tag_not_by_text() -> None:
    """A plain ``<<`` and an explicitly tagged ``!!merge`` key are merges (not
    walked); a quoted ``"<<"`` is an ordinary string key (walked)."""
    from promoter.manifests.nodes import walk

    text = (
        "base: &b {image: ghcr.io/acme/api:1.0.0}\n"
        "plain:\n  <<: *b\n"
        "tagged:\n  !!merge other: *b\n"
        "quoted:\n  \"<<\": ghcr.io/acme/api:1.0.0\n"
    )
    aliases: list[tuple[str, str]] = []
    paths = [visit.path for visit in walk(compose_all(text)[0], aliases)]
    assert "quoted.<<" in paths
    assert not [p for p in paths if p.startswith(("plain.", "tagged."))]
    assert aliases == []  # the merged mapping is never reached a second time


def test_duplicate_keys_are_told_apart_by_tag() -> None:
    """``1`` (an integer) and ``"1"`` (a string) are two keys; ``a`` and ``"a"``
    are one key twice."""
    from promoter.manifests.nodes import check_document

    check_document(compose_all('m:\n  1: x\n  "1": y\n')[0])
    with pytest.raises(BadYaml, match="duplicate key 'a'"):
        check_document(compose_all('m:\n  a: x\n  "a": y\n')[0])
