"""Promotions whose target has no plain reference: an overlay gets an entry, and
every other case is an InputError that names the file and says what to do
(never a blanket "check the paths", never exit 0 on a skipped reference)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.configrepo import bare_from, example_copy, heads, show

from promoter.errors import InputError
from promoter.promote import Request, promote

STAGING = "apps/api/overlays/staging/kustomization.yaml"
VALUES = "charts/billing/values-staging.yaml"
DIGEST = "sha256:" + "ab" * 32
OVERLAY = (
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: staging\n"
    "resources:\n  - ../../base\n"
)


def remote_with(tmp_path: Path, files: dict[str, str]) -> Path:
    tree = example_copy(tmp_path / "tree")
    for name, text in files.items():
        (tree / name).write_text(text)
    return bare_from(tree, tmp_path / "remote.git")


def test_overlay_without_an_entry_gets_one(tmp_path: Path) -> None:
    remote = remote_with(tmp_path, {STAGING: OVERLAY})
    result = promote(Request(repo=str(remote), app="api", env="staging",
                             image="ghcr.io/acme/api:1.5.0"), {})
    assert result.changed and result.record()["files"] == [STAGING]
    assert show(remote, "promoter/staging/api", STAGING) + "\n" == (
        OVERLAY + "images:\n  - name: ghcr.io/acme/api\n    newTag: 1.5.0\n")


@pytest.mark.parametrize(
    ("files", "image", "message"),
    [
        ({STAGING: "resources:\n  - https://github.com/acme/api//deploy?ref=v1\n"},
         "ghcr.io/acme/api:1.5.0",
         rf"{STAGING} has no images entry for ghcr.io/acme/api and none of its local "
         r"resources \(none\) refers to it \(remote resources and helmCharts are not read\); "
         r"add an images entry"),
        ({VALUES: "image:\n  repository: registry.example.com/acme/billing\n"
                  "  tag: '{{ .Values.global.tag }}'\n"},
         "registry.example.com/acme/billing:3.4.0",
         rf"cannot be edited: {VALUES}:3: image.tag holds a template or substitution"),
        ({}, f"registry.example.com/acme/billing@{DIGEST}",
         rf"cannot be edited: {VALUES}:6: image.tag: no digest key beside the tag"),
    ],
)
def test_unpromotable_targets_name_the_file(
    tmp_path: Path, files: dict[str, str], image: str, message: str
) -> None:
    remote = remote_with(tmp_path, files)
    app = "billing" if "billing" in image else "api"
    with pytest.raises(InputError, match=message):
        promote(Request(repo=str(remote), app=app, env="staging", image=image), {})
    assert list(heads(remote)) == ["main"]


def test_digest_only_promotion_says_the_stale_tag_was_dropped(tmp_path: Path) -> None:
    remote = remote_with(tmp_path, {})
    result = promote(Request(repo=str(remote), app="api", env="staging", dry_run=True,
                             image=f"ghcr.io/acme/api@{DIGEST}"), {})
    assert result.changed
    assert f"{STAGING}:10: stale tag 1.4.1 removed: the new reference gives only a digest" in (
        result.notes)
    assert '+    newTag: ""' in result.diff and f"+    digest: {DIGEST}" in result.diff
