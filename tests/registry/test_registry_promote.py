"""``promoter promote`` and ``update --check-registry`` against a real registry
on 127.0.0.1: missing (2), unauthorised (3), unreachable (1), turned off, pinned
digests in every form, --from proving sameness, and the PR body's labels."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fakes.github_server import FakeGitHub
from registry_setup import PASSWORD, SOURCE, USER, Images
from support.configrepo import bare_from, heads, show
from support.gitserver import GitServer
from support.registry import Registry

CREDS = {"PROMOTER_REGISTRY_USER": USER, "PROMOTER_REGISTRY_PASSWORD": PASSWORD}
STAGING = "apps/api/staging/deployment.yaml"
PROD_KUSTOMIZE = "apps/api/production/kustomization.yaml"
PROD_HELM = "apps/api/production/values.yaml"
TOKEN = "ghp_registry_test_token"


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None
        ) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "PROMOTER_REGISTRY"}
    done = subprocess.run([sys.executable, "-m", "promoter", *args], capture_output=True,
                          text=True, env={**environ, **(env or {})}, check=False, cwd=cwd,
                          timeout=120)
    assert PASSWORD not in done.stdout + done.stderr  # never in output
    return done


def write_tree(root: Path, image: str, staging: str = "1.0") -> Path:
    files = {
        ".promoter.yaml": (
            "environments:\n"
            "  staging: {paths: ['apps/{app}/staging']}\n"
            "  production: {paths: ['apps/{app}/production'], promote_from: staging,\n"
            "               pin_digest: true}\n"
            "  airgap: {paths: ['apps/{app}/staging'], registry: false}\n"
            f"apps:\n  api: {{image: '{image}'}}\n"),
        STAGING: (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n"
            "    spec:\n      containers:\n        - name: api\n"
            f"          image: {image}:{staging}\n"),
        PROD_KUSTOMIZE: (
            "resources: []\nimages:\n"
            f"  - name: {image}\n    newTag: \"0.9\"\n"),
        PROD_HELM: f"image:\n  repository: {image}\n  tag: \"0.9\"\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.fixture
def remote(tmp_path: Path, registry: Registry) -> Path:
    tree = write_tree(tmp_path / "tree", f"{registry.host}/acme/api")
    return bare_from(tree, tmp_path / "remote.git")


def promote(remote: Path, *args: str, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    return cli("promote", "--repo", str(remote), "--app", "api", "--output", "json", *args,
               env={**CREDS, **(env or {})})


@pytest.mark.linux_tools
def test_existing_image_is_promoted(remote: Path, registry: Registry) -> None:
    done = promote(remote, "--env", "staging", "--image", f"{registry.host}/acme/api:1.1")
    assert done.returncode == 0, done.stderr
    assert show(remote, "promoter/staging/api", STAGING).endswith("acme/api:1.1")


@pytest.mark.linux_tools
def test_missing_tag_exits_2_with_the_registry_answer_and_pushes_nothing(
    remote: Path, registry: Registry
) -> None:
    before = heads(remote)
    done = promote(remote, "--env", "staging", "--image", f"{registry.host}/acme/api:1.9")
    assert done.returncode == 2, done.stderr
    assert "404 MANIFEST_UNKNOWN" in done.stderr and "tag 1.9" in done.stderr
    assert done.stderr.count("\n") == 1 and heads(remote) == before


@pytest.mark.linux_tools
def test_unauthorised_registry_exits_3(remote: Path, registry: Registry) -> None:
    done = cli("promote", "--repo", str(remote), "--app", "api", "--env", "staging",
               "--image", f"{registry.host}/acme/api:1.1")
    assert done.returncode == 3, done.stderr
    assert "refused access to acme/api (401" in done.stderr


def test_unreachable_registry_exits_1(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    tree = write_tree(tmp_path / "tree", f"127.0.0.1:{port}/acme/api")
    done = promote(bare_from(tree, tmp_path / "r.git"), "--env", "staging",
                   "--image", f"127.0.0.1:{port}/acme/api:1.1", "--registry-timeout", "2s")
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(f"error: registry 127.0.0.1:{port} is unreachable")


@pytest.mark.linux_tools
def test_no_registry_and_the_environment_setting_turn_it_off(
    remote: Path, registry: Registry
) -> None:
    missing = f"{registry.host}/acme/api:1.9"
    off = promote(remote, "--env", "staging", "--image", missing, "--no-registry")
    assert off.returncode == 0, off.stderr
    by_env = cli("promote", "--repo", str(remote), "--app", "api", "--env", "airgap",
                 "--image", missing, "--direct")
    assert by_env.returncode == 0, by_env.stderr
    forced = promote(remote, "--env", "airgap", "--image", missing, "--registry")
    assert forced.returncode == 2, forced.stderr


@pytest.mark.linux_tools
def test_pin_digest_writes_tag_at_digest(remote: Path, registry: Registry,
                                         images: Images) -> None:
    done = promote(remote, "--env", "staging", "--image", f"{registry.host}/acme/api:multi",
                   "--pin-digest")
    assert done.returncode == 0, done.stderr
    index = images.digests["multi"]
    assert show(remote, "promoter/staging/api", STAGING).endswith(f"acme/api:multi@{index}")
    assert json.loads(done.stdout)["image"].endswith(f":multi@{index}")


@pytest.mark.linux_tools
def test_production_pins_from_staging_in_kustomize_and_helm(remote: Path,
                                                            registry: Registry) -> None:
    done = promote(remote, "--env", "production", "--from", "staging")
    assert done.returncode == 0, done.stderr
    digest = registry.digest("acme/api", "1.0")
    kustomize = show(remote, "promoter/production/api", PROD_KUSTOMIZE)
    helm = show(remote, "promoter/production/api", PROD_HELM)
    assert f'newTag: "1.0"\n    digest: {digest}' in kustomize
    assert f'tag: "1.0@{digest}"' in helm


@pytest.mark.linux_tools
def test_pin_digest_needs_the_registry(remote: Path) -> None:
    done = promote(remote, "--env", "production", "--from", "staging", "--no-registry")
    assert done.returncode == 2, done.stderr
    assert "needs the registry" in done.stderr


@pytest.mark.linux_tools
def test_from_refuses_a_re_pushed_tag_naming_both_digests(
    tmp_path: Path, registry: Registry, images: Images
) -> None:
    registry.push(images.layout, "plain", "acme/api", "moving")
    old = registry.digest("acme/api", "moving")
    tree = write_tree(tmp_path / "tree", f"{registry.host}/acme/api", staging=f"moving@{old}")
    remote = bare_from(tree, tmp_path / "r.git")
    registry.push(images.layout, "rebuilt", "acme/api", "moving")
    new = registry.digest("acme/api", "moving")
    done = promote(remote, "--env", "production", "--from", "staging")
    assert done.returncode == 1, done.stderr
    assert old in done.stderr and new in done.stderr and "environment staging" in done.stderr
    assert "promoter/production/api" not in heads(remote)


@pytest.mark.linux_tools
def test_update_check_registry(tmp_path: Path, registry: Registry) -> None:
    tree = write_tree(tmp_path / "tree", f"{registry.host}/acme/api")
    missing = cli("update", "--check-registry", f"{registry.host}/acme/api:1.9", STAGING,
                  env=CREDS, cwd=tree)
    assert missing.returncode == 2 and "404" in missing.stderr
    pinned = cli("update", "--pin-digest", f"{registry.host}/acme/api:1.1", STAGING,
                 env=CREDS, cwd=tree)
    assert pinned.returncode == 0, pinned.stderr
    digest = registry.digest("acme/api", "1.1")
    assert f"acme/api:1.1@{digest}\n" in (tree / STAGING).read_text()


@pytest.mark.linux_tools
def test_pull_request_body_says_what_changed_in_the_image(
    tmp_path: Path, registry: Registry
) -> None:
    tree = write_tree(tmp_path / "tree", f"{registry.host}/acme/api")
    with FakeGitHub(token=TOKEN, prefix="/api/v3") as fake, \
            GitServer(tmp_path / "srv", "x-access-token", TOKEN) as server:
        bare = server.create("acme/config", tree)
        fake.head_sha = lambda ref: heads(bare).get(ref)
        done = cli("promote", "--repo", server.url("acme/config"), "--forge", "github",
                   "--api-url", fake.api_url, "--app", "api", "--env", "staging",
                   "--image", f"{registry.host}/acme/api:1.1",
                   env={**CREDS, "PROMOTER_TOKEN": TOKEN})
        assert done.returncode == 0, done.stderr
        body = fake.pulls[1].body
    assert f"- Image source: {SOURCE}" in body
    assert f"({SOURCE}/compare/{'1' * 40}...{'2' * 40})" in body
    assert "- Image created: 2026-11-30 10:00 UTC -> 2026-12-01 08:30 UTC" in body
    assert PASSWORD not in body
