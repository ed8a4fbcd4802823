"""Where references are found (and where they must not be): templates, image
keys other than ``image`` of a container, JSON6902 patches."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoter import images
from promoter.manifests import find_references, plan_update
from promoter.manifests.records import Plan


def run(tmp_path: Path, text: str, ref: str, name: str = "m.yaml") -> Plan:
    (tmp_path / name).write_text(text)
    return plan_update(tmp_path, ["."], images.parse_new(ref))


def after(tmp_path: Path, text: str, ref: str, name: str = "m.yaml") -> str:
    plan = run(tmp_path, text, ref, name)
    return plan.edits[0].after.decode() if plan.edits else text


# item 3: a value holding a template or substitution expression is never edited

TEMPLATED = [
    ("image:\n  repository: x/api\n  tag: \"{{ .Values.global.tag }}\"\n", 3),
    ("kind: ApplicationSet\nspec:\n  template:\n    spec:\n      source:\n        helm:\n"
     "          parameters:\n          - name: image.repository\n            value: x/api\n"
     "          - name: image.tag\n            value: '{{imageTag}}'\n", 11),
    ("images:\n- name: x/api\n  newTag: ${api_tag}\n", 3),
    ("spec:\n  containers:\n  - name: a\n    image: x/api:$(TAG)\n", 4),
    ("spec:\n  containers:\n  - image: \"x/api:{{ .Values.tag }}\"\n", 3),
    ("spec:\n  image: x/api@${DIGEST}\n", 2),
]


@pytest.mark.parametrize(("text", "line"), TEMPLATED)
def test_template_expressions_are_reported_never_edited(
    tmp_path: Path, text: str, line: int
) -> None:
    plan = run(tmp_path, text, "x/api:v2")
    assert not plan.edits
    [skip] = plan.skipped
    assert (skip.file, skip.line) == ("m.yaml", line)
    assert "template or substitution expression" in skip.reason
    assert not find_references(tmp_path, ["."], "x/api")


def test_template_beside_a_plain_reference(tmp_path: Path) -> None:
    text = "a:\n  repository: x/api\n  tag: '{{ .Values.t }}'\nb:\n  repository: x/api\n  tag: v1\n"
    plan = run(tmp_path, text, "x/api:v2")
    assert plan.edits[0].after.decode() == text.replace("tag: v1", "tag: v2")
    assert [s.line for s in plan.skipped] == [3]


# item 6: keys other than a container's ``image`` that hold a full reference


def test_helm_values_image_keys(tmp_path: Path) -> None:
    text = (
        "nats:\n  natsImage: nats:2.9.1  # server\n  metricsExporterImage: 'nats:2.9.1'\n"
        "reloader:\n  image: natsio/reloader:0.1\n"
    )
    plan = run(tmp_path, text, "docker.io/library/nats:2.10.0", "values.yaml")
    assert plan.edits[0].after.decode() == text.replace("nats:2.9.1", "nats:2.10.0")
    assert [(c.path, c.kind) for c in plan.changes] == [
        ("nats.natsImage", "image-key"), ("nats.metricsExporterImage", "image-key")]


def test_custom_resource_spec_image(tmp_path: Path) -> None:
    text = (
        "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata:\n  name: k8s\n"
        "  annotations:\n    example.com/image: quay.io/prometheus/prometheus:v2.37.0\n"
        "spec:\n  image: 'quay.io/prometheus/prometheus:v2.37.0'\n  version: v2.37.0\n"
        "status:\n  image: quay.io/prometheus/prometheus:v2.37.0\n"
    )
    got = after(tmp_path, text, "quay.io/prometheus/prometheus:v2.40.0")
    assert got == text.replace("image: 'quay.io/prometheus/prometheus:v2.37.0'",
                               "image: 'quay.io/prometheus/prometheus:v2.40.0'")


NEAR_MISSES = [
    "metadata:\n  annotations:\n    argocd-image-updater.argoproj.io/image-list: api=x/api:1\n"
    "    example.com/image: x/api:1\n",
    "patches:\n- path: p.yaml\n  target:\n    kind: Deployment\n    image: x/api:1\n",
    "spec:\n  image: x/api\n  imageName: x/api:1\n",
    "spec:\n  # image: x/api:1\n  config: |\n    image: x/api:1\n",
    "status:\n  image: x/api:1\n",
    "spec:\n  image: x/apiserver:1\n  otherImage: y/x/api:1\n",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_stay_byte_identical(tmp_path: Path, text: str) -> None:
    plan = run(tmp_path, text, "x/api:2")
    assert not plan.edits
    assert (tmp_path / "m.yaml").read_text() == text


@pytest.mark.parametrize("name", ["compose.yaml", "docker-compose.yml", "docker-compose.dev.yaml"])
def test_compose_files_are_not_edited(tmp_path: Path, name: str) -> None:
    text = "services:\n  api:\n    image: x/api:1\n"
    assert not run(tmp_path, text, "x/api:2", name).edits
    assert after(tmp_path, text, "x/api:2", "values.yaml") == text.replace("api:1", "api:2")


# item 7: JSON6902 patches, YAML and JSON


def test_json6902_yaml_patch(tmp_path: Path) -> None:
    text = (
        "- op: replace\n  path: /spec/template/spec/containers/0/image\n  value: x/api:1\n"
        "- op: add\n  path: /spec/template/spec/initContainers/0\n  value:\n"
        "    name: init\n    image: \"x/api:1\"\n"
        "- op: add\n  path: /spec/template/spec/containers\n  value:\n"
        "  - {name: a, image: x/api:1}\n"
        "- op: test\n  path: /spec/template/spec/containers/0/image\n  value: x/api:1\n"
        "- op: replace\n  path: /metadata/labels/image\n  value: x/web:1\n"
    )
    plan = run(tmp_path, text, "x/api:2", "patch.yaml")
    want = text.replace("value: x/api:1\n- op: add", "value: x/api:2\n- op: add").replace(
        '"x/api:1"', '"x/api:2"').replace("image: x/api:1}", "image: x/api:2}")
    assert plan.edits[0].after.decode() == want
    assert [(c.path, c.kind) for c in plan.changes] == [
        ("[0].value", "json6902"), ("[1].value.image", "json6902"),
        ("[2].value[0].image", "json6902")]


def test_json6902_json_patch(tmp_path: Path) -> None:
    text = (
        '[\n  {"op": "replace", "path": "/spec/containers/0/image", "value": "x/api:1"},\n'
        '  {"op": "add", "path": "/spec/containers/-",\n'
        '   "value": {"name": "b", "image": "x/api:1@sha256:' + "a" * 64 + '"}}\n]\n'
    )
    got = after(tmp_path, text, "x/api:2", "patch.json")
    assert got == text.replace('"x/api:1"', '"x/api:2"').replace(
        '"x/api:1@sha256:' + "a" * 64 + '"', '"x/api:2"')
