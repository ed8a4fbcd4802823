"""Item 4: template expressions followed to a definition in the same file (Helm
tpl, ApplicationSet list elements), and skipped with the reason otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoter import images
from promoter.manifests import find_references, plan_update
from promoter.manifests.records import Plan


def run(tmp_path: Path, text: str, ref: str, **kw: object) -> Plan:
    (tmp_path / "m.yaml").write_text(text)
    return plan_update(tmp_path, ["."], images.parse_new(ref), **kw)  # type: ignore[arg-type]


def test_helm_tpl_to_another_key_of_the_values_file(tmp_path: Path) -> None:
    text = (
        "global:\n  apiTag: 1.0.0  # the release\nimage:\n  repository: x/api\n"
        "  tag: \"{{ .Values.global.apiTag }}\"\n"
        "sidecar:\n  image: 'x/api:{{ .Values.global.sidecarTag }}'\n"
        "  extra: {}\nglobalTags: {}\n"
    )
    plan = run(tmp_path, text + "x: {sidecarTag: 0.1}\n", "x/api:1.1.0")
    assert plan.edits[0].after.decode() == (text + "x: {sidecarTag: 0.1}\n").replace(
        "apiTag: 1.0.0", "apiTag: 1.1.0")
    [change] = plan.changes
    assert change.path == "global.apiTag"
    assert change.notes == ("followed {{ .Values.global.apiTag }} from image.tag to global.apiTag",)
    [skip] = plan.skipped
    assert "global.sidecarTag is not set in this file" in skip.reason
    found = find_references(tmp_path, ["."], "x/api")
    assert [(f.path, str(f.ref)) for f in found] == [("global.apiTag", "x/api:1.0.0")]


def test_full_reference_with_a_tpl_tag(tmp_path: Path) -> None:
    text = "api:\n  tag: v1\nspec:\n  image: \"x/api:{{ .Values.api.tag }}\"\n"
    plan = run(tmp_path, text, "x/api:v2")
    assert plan.edits[0].after.decode() == text.replace("tag: v1", "tag: v2")


def test_shared_helm_value_is_not_followed(tmp_path: Path) -> None:
    text = (
        "global: {tag: v1}\napi:\n  repository: x/api\n  tag: '{{ .Values.global.tag }}'\n"
        "web:\n  repository: x/web\n  tag: '{{ .Values.global.tag }}'\n"
    )
    plan = run(tmp_path, text, "x/api:v2")
    assert not plan.edits
    assert "global.tag is used by 2 places of this file" in plan.skipped[0].reason


APPSET = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: api
spec:
  generators:
  - list:
      elements:
      - cluster: staging
        imageTag: 1.0.0
{more}  template:
    metadata:
      name: 'api-{{{{cluster}}}}'
    spec:
      source:
        helm:
          parameters:
          - name: image.repository
            value: x/api
          - name: image.tag
            value: '{{{{imageTag}}}}'
"""


def test_applicationset_list_element(tmp_path: Path) -> None:
    text = APPSET.format(more="")
    plan = run(tmp_path, text, "x/api:1.1.0")
    assert plan.edits[0].after.decode() == text.replace("imageTag: 1.0.0", "imageTag: 1.1.0")
    assert plan.changes[0].path == "spec.generators[0].list.elements[0].imageTag"


def test_applicationset_with_several_elements_names_the_key(tmp_path: Path) -> None:
    text = APPSET.format(more="      - cluster: production\n        imageTag: 0.9.0\n")
    plan = run(tmp_path, text, "x/api:1.1.0")
    assert not plan.edits
    assert "2 list generator elements set imageTag" in plan.skipped[0].reason
    assert "--key, e.g. spec.generators[0].list.elements[0].imageTag" in plan.skipped[0].reason
    key = "spec.generators[0].list.elements[1].imageTag"
    plan = run(tmp_path, text, "x/api:1.1.0", keys=[key])
    assert plan.edits[0].after.decode() == text.replace("imageTag: 0.9.0", "imageTag: 1.1.0")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("image:\n  repository: x/api\n  tag: '{{ .Values.tag | default \"1\" }}'\n",
         "is not a plain value reference"),
        ("image:\n  repository: x/api\n  tag: 'v{{ .Values.v }}'\n", "is not a plain value"),
        ("t: '{{ .Values.u }}'\nu: v1\nimage:\n  repository: x/api\n  tag: '{{ .Values.t }}'\n",
         "t, which {{ .Values.t }} refers to, is itself an expression"),
        ("images:\n- name: x/api\n  newTag: ${api_tag:=1.0}\n", "api_tag is not set by a Flux"),
    ],
)
def test_unfollowable_expressions_are_skipped(tmp_path: Path, text: str, reason: str) -> None:
    plan = run(tmp_path, text, "x/api:v2")
    assert not plan.edits
    assert reason in plan.skipped[0].reason, plan.skipped
