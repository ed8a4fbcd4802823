"""Item 4: a Flux ``${var}`` followed to the Flux Kustomization's
postBuild.substitute, or to the ConfigMap of its substituteFrom, in the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoter import images
from promoter.manifests import plan_update
from promoter.manifests.records import Plan

OVERLAY = "resources:\n- ../../base\nimages:\n- name: ghcr.io/acme/api\n  newTag: ${api_tag}\n"
FLUX = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: api-{env}
  namespace: flux-system
spec:
  path: ./apps/api/overlays/{env}
  postBuild:
{post}"""


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def promote(root: Path, env: str = "staging") -> Plan:
    return plan_update(root, [f"apps/api/overlays/{env}"], images.parse_new("ghcr.io/acme/api:1.1"))


def test_substitute_of_the_kustomization_whose_path_holds_the_overlay(tmp_path: Path) -> None:
    clusters = "".join(
        FLUX.format(env=env, post=f"    substitute:\n      api_tag: \"1.0\"  # {env}\n") + "---\n"
        for env in ("staging", "production"))
    root = tree(tmp_path, {
        "apps/api/overlays/staging/kustomization.yaml": OVERLAY,
        "apps/api/overlays/production/kustomization.yaml": OVERLAY,
        "clusters/prod/apps.yaml": clusters,
    })
    plan = promote(root)
    [edit] = plan.edits
    assert edit.file == "clusters/prod/apps.yaml"
    assert edit.after.decode() == clusters.replace(
        'api_tag: "1.0"  # staging', 'api_tag: "1.1"  # staging')
    [change] = edit.changes
    assert change.path == "[0].spec.postBuild.substitute.api_tag"
    assert change.notes == ("followed ${api_tag} from images[0].newTag to clusters/prod/apps.yaml"
                            ":[0].spec.postBuild.substitute.api_tag",)
    assert not plan.skipped


def test_substitute_from_a_configmap_in_the_repository(tmp_path: Path) -> None:
    configmap = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api-vars\n"
                 "data:\n  api_tag: 1.0.0\n  other: x\n")
    post = "    substituteFrom:\n    - kind: ConfigMap\n      name: api-vars\n"
    root = tree(tmp_path, {
        "apps/api/overlays/staging/kustomization.yaml": OVERLAY,
        "clusters/staging/api.yaml": FLUX.format(env="staging", post=post),
        "clusters/staging/vars.yaml": configmap,
    })
    plan = promote(root)
    assert [(e.file, e.after.decode()) for e in plan.edits] == [
        ("clusters/staging/vars.yaml", configmap.replace("1.0.0", '"1.1"'))]


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({}, "api_tag is not set by a Flux Kustomization or a ConfigMap of this repository"),
        ({"a.yaml": FLUX.format(env="qa", post="    substitute: {api_tag: '1'}\n"),
          "b.yaml": FLUX.format(env="dev", post="    substitute: {api_tag: '2'}\n")},
         "api_tag is set in several places (a.yaml:spec.postBuild.substitute.api_tag, "
         "b.yaml:spec.postBuild.substitute.api_tag)"),
        ({"a.yaml": FLUX.format(env="staging", post="    substitute: {api_tag: '${v}'}\n")},
         "a.yaml:spec.postBuild.substitute.api_tag is itself an expression"),
    ],
)
def test_unresolved_substitutions_are_skipped(
    tmp_path: Path, files: dict[str, str], reason: str
) -> None:
    root = tree(tmp_path, {"apps/api/overlays/staging/kustomization.yaml": OVERLAY, **files})
    plan = promote(root)
    assert not plan.edits
    [skip] = plan.skipped
    assert skip.file == "apps/api/overlays/staging/kustomization.yaml" and skip.line == 5
    assert reason in skip.reason, skip.reason


def test_found_at_the_definition(tmp_path: Path) -> None:
    from promoter.manifests import find_references

    root = tree(tmp_path, {
        "apps/api/overlays/staging/kustomization.yaml": OVERLAY,
        "clusters/staging.yaml": FLUX.format(env="staging",
                                             post="    substitute:\n      api_tag: 1.0.3\n"),
    })
    found = find_references(root, ["apps/api/overlays/staging"], "ghcr.io/acme/api")
    assert [(f.file, f.line, f.column, f.path, str(f.ref)) for f in found] == [
        ("clusters/staging.yaml", 10, 16, "spec.postBuild.substitute.api_tag",
         "ghcr.io/acme/api:1.0.3")]


def test_promote_follows_a_flux_kustomization_listed_in_the_paths(tmp_path: Path) -> None:
    from support.configrepo import bare_from, show

    from promoter.promote import Request, promote

    config = ("version: 1\nenvironments:\n  staging:\n"
              "    paths: [\"apps/{app}/overlays/{env}\", \"clusters/{env}\"]\n"
              "apps:\n  api:\n    image: ghcr.io/acme/api\n")
    flux = FLUX.format(env="staging", post="    substitute:\n      api_tag: 1.0.3\n")
    root = tree(tmp_path / "tree", {
        ".promoter.yaml": config,
        "apps/api/overlays/staging/kustomization.yaml": OVERLAY,
        "clusters/staging/api.yaml": flux,
        "unrelated/big.yaml": "x: 1\n",
    })
    remote = bare_from(root, tmp_path / "remote.git")
    result = promote(Request(repo=str(remote), app="api", env="staging",
                             image="ghcr.io/acme/api:1.1.0", direct=True), {})
    assert result.record()["files"] == ["clusters/staging/api.yaml"]
    assert show(remote, "main", "clusters/staging/api.yaml") + "\n" == flux.replace(
        "1.0.3", "1.1.0")
