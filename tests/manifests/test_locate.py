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
