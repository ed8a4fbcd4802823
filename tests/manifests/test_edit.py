"""The engine on hand-written texts: each case checks the exact bytes after."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.kustomize import render_with

from promoter import images
from promoter.manifests import plan_update
from promoter.manifests.records import Plan

DIGEST = "sha256:" + "b" * 64
OLD_DIGEST = "sha256:" + "a" * 64


def run(tmp_path: Path, text: str | bytes, ref: str, name: str = "m.yaml", **kw: object) -> Plan:
    data = text.encode() if isinstance(text, str) else text
    (tmp_path / name).write_bytes(data)
    return plan_update(tmp_path, ["."], images.parse_new(ref), **kw)  # type: ignore[arg-type]


def after(tmp_path: Path, text: str | bytes, ref: str, **kw: object) -> str:
    plan = run(tmp_path, text, ref, **kw)
    return plan.edits[0].after.decode() if plan.edits else (
        text if isinstance(text, str) else text.decode()
    )


POD = "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: {}\n"


@pytest.mark.parametrize(
    ("value", "ref", "want"),
    [
        ("ghcr.io/acme/api:1.0", "ghcr.io/acme/api:1.1", "ghcr.io/acme/api:1.1"),
        ("'ghcr.io/acme/api:1.0'", "ghcr.io/acme/api:1.1", "'ghcr.io/acme/api:1.1'"),
        ('"ghcr.io/acme/api:1.0"', "ghcr.io/acme/api:1.1", '"ghcr.io/acme/api:1.1"'),
        ("nginx", "docker.io/library/nginx:1.27", "nginx:1.27"),
        ("docker.io/library/nginx:1.0", "nginx:1.27", "docker.io/library/nginx:1.27"),
        ("localhost:5000/app:3", "localhost:5000/app:4", "localhost:5000/app:4"),
        (f"ghcr.io/acme/api:1.0@{OLD_DIGEST}", "ghcr.io/acme/api:1.1", "ghcr.io/acme/api:1.1"),
        ("ghcr.io/acme/api:1.0", f"ghcr.io/acme/api@{DIGEST}", f"ghcr.io/acme/api@{DIGEST}"),
        ("ghcr.io/acme/other:1.0", "ghcr.io/acme/api:1.1", "ghcr.io/acme/other:1.0"),
    ],
)
def test_container_image(tmp_path: Path, value: str, ref: str, want: str) -> None:
    assert after(tmp_path, POD.format(value), ref) == POD.format(want)


def test_stale_digest_is_noted(tmp_path: Path) -> None:
    plan = run(tmp_path, POD.format(f"ghcr.io/acme/api:1.0@{OLD_DIGEST}"), "ghcr.io/acme/api:2")
    assert "stale digest" in plan.changes[0].notes[0]


def test_change_record(tmp_path: Path) -> None:
    plan = run(tmp_path, POD.format('"ghcr.io/acme/api:1.0"'), "ghcr.io/acme/api:2")
    change = plan.changes[0]
    assert (change.file, change.line, change.column) == ("m.yaml", 5, 13)
    assert (change.path, change.kind, change.old) == (
        "spec.containers[0].image", "container-image", "ghcr.io/acme/api:1.0")


def test_flow_style_bom_crlf_and_no_final_newline(tmp_path: Path) -> None:
    text = "\ufeffspec:\r\n  initContainers: [{name: a, image: 'x/api:1'}]  # c\t\r\nend: 1"
    want = text.replace("x/api:1", "x/api:2")
    assert after(tmp_path, text.encode("utf-8"), "x/api:2") == want


def test_ephemeral_containers_and_status_ignored(tmp_path: Path) -> None:
    text = (
        "spec:\n  ephemeralContainers:\n  - image: x/api:1\n"
        "status:\n  containerStatuses:\n  - image: x/api:1\n"
    )
    want = text.replace("image: x/api:1\nstatus", "image: x/api:2\nstatus")
    assert after(tmp_path, text, "x/api:2") == want


def test_comments_templates_wildcards_untouched(tmp_path: Path) -> None:
    text = (
        "spec:\n  containers:\n  # - image: x/api:1\n  - image: '{{ .Values.image }}'\n"
        "  - image: x/api:*\n"
    )
    assert not run(tmp_path, text, "x/api:2").edits


def test_block_scalar_reference_is_skipped(tmp_path: Path) -> None:
    text = "data:\n  pod.yaml: |\n    image: x/api:1\n"
    plan = run(tmp_path, text, "x/api:2")
    assert not plan.edits
    assert [(s.line, "block scalar" in s.reason) for s in plan.skipped] == [(3, True)]


def test_kustomize_entry_sets_and_adds_new_tag(tmp_path: Path) -> None:
    text = "images:\n- name: x/api\n  newTag: '1'\n- name: nginx\n  newName: x/api\r\n"
    want = (
        "images:\n- name: x/api\n  newTag: '2'\n- name: nginx\n  newName: x/api\r\n"
        '  newTag: "2"\r\n'
    )
    assert after(tmp_path, text, "x/api:2") == want
    assert render_with(tmp_path / "k", want, "x/api:0", "nginx:1") == ["x/api:2", "x/api:2"]


def test_kustomize_flow_entry_gets_new_tag(tmp_path: Path) -> None:
    text = "images: [{name: x/api, newName: x/api}]\n"
    want = "images: [{name: x/api, newName: x/api, newTag: v2}]\n"
    assert after(tmp_path, text, "x/api:v2") == want
    assert render_with(tmp_path / "k", want, "x/api:v1") == ["x/api:v2"]


@pytest.mark.parametrize(
    ("block", "want"),
    [
        ("repository: x/api\n  tag: v1\n", "repository: x/api\n  tag: v2\n"),
        ("registry: docker.io\n  repository: x/api\n  tag: \"\"\n",
         "registry: docker.io\n  repository: x/api\n  tag: \"v2\"\n"),
        (f"image: x/api\n  tag: v1@{OLD_DIGEST}\n", "image: x/api\n  tag: v2\n"),
        (f"repository: x/api\n  tag: v1\n  digest: {OLD_DIGEST}\n",
         "repository: x/api\n  tag: v2\n  digest: \"\"\n"),
        ("repository: x/api\n  tag: 0.1\n  digest:\n",
         "repository: x/api\n  tag: v2\n  digest:\n"),
    ],
)
def test_helm_values(tmp_path: Path, block: str, want: str) -> None:
    assert after(tmp_path, "image:\n  " + block, "x/api:v2") == "image:\n  " + want


def test_numeric_tag_stays_a_string(tmp_path: Path) -> None:
    text = "image:\n  repository: x/api\n  tag: 0.1\n"
    assert after(tmp_path, text, "x/api:1.10") == "image:\n  repository: x/api\n  tag: \"1.10\"\n"


def test_helm_block_without_tag_is_skipped(tmp_path: Path) -> None:
    plan = run(tmp_path, "image:\n  repository: x/api\n  digest: ''\n", "x/api:2")
    assert not plan.edits and "no tag key" in plan.skipped[0].reason


def test_anchor_edited_once_aliases_noted(tmp_path: Path) -> None:
    text = "a:\n  repository: x/api\n  tag: &t v1\nb:\n  repository: x/api\n  tag: *t\n"
    plan = run(tmp_path, text, "x/api:v2")
    assert plan.edits[0].after.decode() == text.replace("&t v1", "&t v2")
    assert plan.changes[0].notes == ("alias at b.tag follows this anchor",)


def test_argocd_application(tmp_path: Path) -> None:
    text = (
        "kind: Application\nspec:\n  source:\n    helm:\n      parameters:\n"
        "      - name: image.repository\n        value: x/api\n"
        "      - name: image.tag\n        value: 'v1'\n"
        "      valuesObject:\n        image: {repository: x/api, tag: v1}\n"
        "    kustomize:\n      images:\n      - x/api:v1\n      - api=x/api:v1\n"
    )
    want = text.replace("'v1'", "'v2'").replace("tag: v1}", "tag: v2}").replace(
        "- x/api:v1", "- x/api:v2").replace("api=x/api:v1", "api=x/api:v2")
    plan = run(tmp_path, text, "x/api:v2")
    assert plan.edits[0].after.decode() == want
    assert {c.kind for c in plan.changes} == {
        "argocd-helm-param", "helm-values", "argocd-kustomize-image"}


def test_explicit_key(tmp_path: Path) -> None:
    text = "api:\n  version: v1  # pinned\n"
    assert after(tmp_path, text, "x/api:v2", keys=["api.version"]) == text.replace("v1", "v2")


def test_merge_keys_str_tag_and_yaml_directive(tmp_path: Path) -> None:
    text = (
        "%YAML 1.1\n---\nbase: &b {x: 1}\nspec:\n  containers:\n  - <<: *b\n"
        "    image: !!str x/api:1\n"
    )
    assert after(tmp_path, text, "x/api:2") == text.replace("x/api:1", "x/api:2")


def test_same_version_changes_nothing(tmp_path: Path) -> None:
    assert not run(tmp_path, POD.format("x/api:2"), "x/api:2").edits


def test_flux_helmrelease_values_and_kustomization_images(tmp_path: Path) -> None:
    text = (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n  values:\n"
        "    image:\n      repository: x/api\n      tag: v1 # {\"$imagepolicy\": \"ns:p:tag\"}\n"
        "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec:\n"
        "  images:\n    - name: x/api\n      newTag: v1\n"
    )
    plan = run(tmp_path, text, "x/api:v2")
    want = text.replace("tag: v1", "tag: v2").replace("newTag: v1", "newTag: v2")
    assert plan.edits[0].after.decode() == want
    assert [c.path for c in plan.changes] == ["spec.values.image.tag", "spec.images[0].newTag"]


def test_argocd_multi_source_parameters_with_digest(tmp_path: Path) -> None:
    text = (
        "spec:\n  sources:\n  - helm:\n      parameters:\n"
        "      - {name: api.image.repository, value: x/api}\n"
        "      - {name: api.image.tag, value: v1}\n"
        f"      - {{name: api.image.digest, value: '{OLD_DIGEST}'}}\n"
    )
    want = text.replace("v1", "v2").replace(OLD_DIGEST, DIGEST)
    assert after(tmp_path, text, f"x/api:v2@{DIGEST}") == want


# issue 14 item 8: a digest-only reference drops the stale tag in every form


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (POD.format("x/api:1.0"), POD.format(f"x/api@{DIGEST}")),
        (POD.format(f"x/api:1.0@{OLD_DIGEST}"), POD.format(f"x/api@{DIGEST}")),
        ("image:\n  repository: x/api\n  tag: '1.0'\n  digest: ''\n",
         f"image:\n  repository: x/api\n  tag: ''\n  digest: '{DIGEST}'\n"),
        (f"image:\n  repository: x/api\n  tag: 1.0\n  sha: {'a' * 64}\n",
         f"image:\n  repository: x/api\n  tag: \"\"\n  sha: {'b' * 64}\n"),
        ("images:\n- name: x/api\n  newTag: 1.0.0\n",
         f"images:\n- name: x/api\n  newTag: \"\"\n  digest: {DIGEST}\n"),
        (f"images:\n- name: x/api\n  newTag: \"1.0\"\n  digest: {OLD_DIGEST}\n",
         f"images:\n- name: x/api\n  newTag: \"\"\n  digest: {DIGEST}\n"),
        ("spec:\n  source:\n    helm:\n      parameters:\n"
         "      - {name: image.repository, value: x/api}\n"
         "      - {name: image.tag, value: v1}\n"
         "      - {name: image.digest, value: ''}\n",
         "spec:\n  source:\n    helm:\n      parameters:\n"
         "      - {name: image.repository, value: x/api}\n"
         "      - {name: image.tag, value: \"\"}\n"
         f"      - {{name: image.digest, value: '{DIGEST}'}}\n"),
    ],
)
def test_digest_only_drops_the_stale_tag(tmp_path: Path, text: str, want: str) -> None:
    plan = run(tmp_path, text, f"x/api@{DIGEST}")
    assert plan.edits[0].after.decode() == want
    if want.startswith("images:"):
        assert render_with(tmp_path / "k", want, "x/api:0.9") == [f"x/api@{DIGEST}"]
    notes = [note for change in plan.changes for note in change.notes]
    assert len(notes) == 1 and notes[0].startswith("stale tag ")
    assert notes[0].endswith("removed: the new reference gives only a digest")


@pytest.mark.parametrize(
    "text",
    [
        f"image:\n  repository: x/api\n  tag: v1@{OLD_DIGEST}\n",
        "image:\n  repository: x/api\n  tag: v1\n",
    ],
)
def test_digest_only_without_a_digest_key_is_skipped(tmp_path: Path, text: str) -> None:
    plan = run(tmp_path, text, f"x/api@{DIGEST}")
    assert not plan.edits
    [skip] = plan.skipped
    assert skip.line == 3 and "keeping a stale tag" in skip.reason


def test_tag_and_digest_into_a_tag_only_block(tmp_path: Path) -> None:
    text = "image:\n  repository: x/api\n  tag: v1\n"
    want = f"image:\n  repository: x/api\n  tag: v2@{DIGEST}\n"
    assert after(tmp_path, text, f"x/api:v2@{DIGEST}") == want
