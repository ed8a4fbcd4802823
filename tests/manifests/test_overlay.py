"""Kustomize overlays: an ``images`` entry added where the overlay has none, and
every kustomize edit checked by rendering the overlay with ``kubectl kustomize``."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.kustomize import rendered_images

from promoter import images
from promoter.manifests import find_references, plan_update, write_plan
from promoter.manifests.records import Plan

DIGEST = "sha256:" + "b" * 64
DEPLOYMENT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n"
    "  selector:\n    matchLabels: {app: api}\n  template:\n    metadata:\n"
    "      labels: {app: api}\n    spec:\n      containers:\n"
    "      - name: api\n        image: {image}\n"
)


def layout(tmp_path: Path, overlay: str | bytes, image: str = "ghcr.io/acme/api:1.0.0") -> Path:
    base = tmp_path / "apps/api/base"
    base.mkdir(parents=True)
    (base / "deployment.yaml").write_text(DEPLOYMENT.replace("{image}", image))
    (base / "kustomization.yaml").write_text("resources:\n- deployment.yaml\n")
    env = tmp_path / "apps/api/overlays/staging"
    env.mkdir(parents=True)
    data = overlay.encode() if isinstance(overlay, str) else overlay
    (env / "kustomization.yaml").write_bytes(data)
    return env


def promote(tmp_path: Path, ref: str, path: str = "apps/api/overlays/staging") -> Plan:
    plan = plan_update(tmp_path, [path], images.parse_new(ref))
    write_plan(tmp_path, plan)
    return plan


def overlay_text(env: Path) -> str:
    return (env / "kustomization.yaml").read_bytes().decode()


@pytest.mark.parametrize(
    ("before", "added"),
    [
        ("resources:\n- ../../base\n", "images:\n- name: ghcr.io/acme/api\n  newTag: 1.1.0\n"),
        ("apiVersion: kustomize.config.k8s.io/v1beta1\r\nkind: Kustomization\r\nresources:\r\n"
         '  - "../../base"  # the base\r\n',
         'images:\r\n  - name: "ghcr.io/acme/api"\r\n    newTag: "1.1.0"\r\n'),
        ("resources: ['../../base']\nnamePrefix: staging-",
         "\nimages:\n- name: 'ghcr.io/acme/api'\n  newTag: '1.1.0'"),
        ("resources:\n- ../../base\n# images are set by promoter\n",
         "images:\n- name: ghcr.io/acme/api\n  newTag: 1.1.0\n"),
    ],
)
def test_images_block_appended(tmp_path: Path, before: str, added: str) -> None:
    env = layout(tmp_path, before)
    plan = promote(tmp_path, "ghcr.io/acme/api:1.1.0")
    assert overlay_text(env) == before + added
    [change] = plan.changes
    assert (change.file, change.path, change.old, change.new) == (
        "apps/api/overlays/staging/kustomization.yaml", "images[0].newTag", "", "1.1.0")
    assert "images entry added" in change.notes[0]
    assert rendered_images(env) == ["ghcr.io/acme/api:1.1.0"]
    assert [str(f.ref) for f in find_references(tmp_path, [str(env)], "ghcr.io/acme/api")] == [
        "ghcr.io/acme/api:1.1.0"]


@pytest.mark.parametrize(
    ("before", "added_at_end"),
    [
        ("resources:\n- ../../base\nimages:\n- name: x/web\n  newTag: v1\n",
         "- name: ghcr.io/acme/api\n  newTag: 1.1.0\n"),
        ("images:\n  - name: \"x/web\"\n    newTag: \"v1\"\nresources:\n  - ../../base\n", None),
    ],
)
def test_entry_appended_to_an_existing_images_list(
    tmp_path: Path, before: str, added_at_end: str | None
) -> None:
    env = layout(tmp_path, before)
    promote(tmp_path, "ghcr.io/acme/api:1.1.0")
    if added_at_end is not None:
        assert overlay_text(env) == before + added_at_end
    else:
        assert overlay_text(env) == before.replace(
            '"v1"\n', '"v1"\n  - name: "ghcr.io/acme/api"\n    newTag: "1.1.0"\n')
    assert rendered_images(env) == ["ghcr.io/acme/api:1.1.0"]


def test_flow_images_list(tmp_path: Path) -> None:
    env = layout(tmp_path, "resources: [../../base]\nimages: []\n")
    promote(tmp_path, f"ghcr.io/acme/api:1.1.0@{DIGEST}")
    assert overlay_text(env) == (
        "resources: [../../base]\n"
        f"images: [{{name: ghcr.io/acme/api, newTag: 1.1.0, digest: \"{DIGEST}\"}}]\n"
    )
    assert rendered_images(env) == [f"ghcr.io/acme/api:1.1.0@{DIGEST}"]


def test_digest_only_entry_and_spelling_of_the_base(tmp_path: Path) -> None:
    env = layout(tmp_path, "resources:\n- ../../base\n", image="nginx:1.27")
    promote(tmp_path, f"docker.io/library/nginx@{DIGEST}")
    assert overlay_text(env) == (
        f"resources:\n- ../../base\nimages:\n- name: nginx\n  digest: {DIGEST}\n")
    assert rendered_images(env) == [f"nginx@{DIGEST}"]


@pytest.mark.parametrize(
    ("entry", "ref", "image"),
    [
        ("- name: ghcr.io/acme/api\n  newTag: 1.0.0\n", "ghcr.io/acme/api:1.2.0",
         "ghcr.io/acme/api:1.2.0"),
        ("- name: ghcr.io/acme/api\n  newTag: 1.0.0\n", f"ghcr.io/acme/api@{DIGEST}",
         f"ghcr.io/acme/api@{DIGEST}"),
        ("- name: ghcr.io/acme/api\n  newTag: 1.0.0\n", f"ghcr.io/acme/api:1.2.0@{DIGEST}",
         f"ghcr.io/acme/api:1.2.0@{DIGEST}"),
        ("- name: api\n  newName: ghcr.io/acme/api\n", "ghcr.io/acme/api:1.2.0",
         "ghcr.io/acme/api:1.2.0"),
    ],
)
def test_existing_entries_render_the_new_image(
    tmp_path: Path, entry: str, ref: str, image: str
) -> None:
    base_image = "api:0.1" if "newName" in entry else "ghcr.io/acme/api:0.1"
    env = layout(tmp_path, "resources:\n- ../../base\nimages:\n" + entry, image=base_image)
    plan = promote(tmp_path, ref)
    assert plan.edits and all(e.file.endswith("staging/kustomization.yaml") for e in plan.edits)
    assert rendered_images(env) == [image]


def test_no_entry_where_the_resources_lack_the_image(tmp_path: Path) -> None:
    layout(tmp_path, "resources:\n- ../../base\n", image="ghcr.io/acme/web:1")
    assert plan_update(tmp_path, ["apps/api/overlays/staging"],
                       images.parse_new("ghcr.io/acme/api:2")).edits == ()


def test_no_entry_for_remote_resources(tmp_path: Path) -> None:
    text = "resources:\n- https://github.com/acme/api//deploy?ref=v1\n"
    layout(tmp_path, text)
    assert not plan_update(tmp_path, ["apps/api/overlays/staging"],
                           images.parse_new("ghcr.io/acme/api:2")).edits


def test_overlay_holding_the_deployment_is_edited_in_place(tmp_path: Path) -> None:
    env = layout(tmp_path, "resources:\n- deployment.yaml\n")
    (env / "deployment.yaml").write_text(DEPLOYMENT.replace("{image}", "ghcr.io/acme/api:1"))
    plan = promote(tmp_path, "ghcr.io/acme/api:2")
    assert [e.file for e in plan.edits] == ["apps/api/overlays/staging/deployment.yaml"]
    assert overlay_text(env) == "resources:\n- deployment.yaml\n"


def test_no_entry_where_the_base_is_helm_values(tmp_path: Path) -> None:
    layout(tmp_path, "resources:\n- ../../base\n")
    base = tmp_path / "apps/api/base"
    (base / "deployment.yaml").unlink()
    (base / "values.yaml").write_text("image:\n  repository: ghcr.io/acme/api\n  tag: v1\n")
    assert not plan_update(tmp_path, ["apps/api/overlays/staging"],
                           images.parse_new("ghcr.io/acme/api:2")).edits
