"""Silent skips (issue 11 item 7): in a promotion, a target file that holds the
image but cannot be edited is exit 2 with file and line unless asked to skip it;
skips are printed in every output mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.configrepo import bare_from, example_copy, heads

from promoter.errors import InputError
from promoter.promote import Request, promote
from promoter.report import render

OVERLAY = "apps/api/overlays/staging"
DUPLICATE = ("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n"
             "    - image: ghcr.io/acme/api:1.4.1\n      image: ghcr.io/acme/api:1.4.1\n")
BLOCK = "kind: ConfigMap\ndata:\n  pod.yaml: |\n    image: ghcr.io/acme/api:1.4.1\n"
UNRELATED = "kind: ConfigMap\ndata: [api: x\n"  # invalid, mentions "api" but not the image


def remote_with(tmp_path: Path, files: dict[str, str]) -> Path:
    tree = example_copy(tmp_path / "tree")
    for name, text in files.items():
        (tree / OVERLAY / name).write_text(text)
    return bare_from(tree, tmp_path / "remote.git")


def request(remote: Path, **kw: object) -> Request:
    return Request(repo=str(remote), app="api", env="staging",
                   image="ghcr.io/acme/api:1.5.0", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "line"), [(DUPLICATE, 6), (BLOCK, 4)])
def test_a_target_file_holding_the_image_that_cannot_be_edited_is_exit_2(
    tmp_path: Path, text: str, line: int
) -> None:
    remote = remote_with(tmp_path, {"pod.yaml": text})
    with pytest.raises(InputError, match=rf"{OVERLAY}/pod.yaml:{line}: .*--skip-uneditable") \
            as info:
        promote(request(remote), {})
    assert info.value.exit_code == 2 and list(heads(remote)) == ["main"]


def test_asked_to_skip_the_promotion_goes_on_and_reports_the_skip(tmp_path: Path) -> None:
    remote = remote_with(tmp_path, {"pod.yaml": DUPLICATE, "junk.yaml": UNRELATED})
    result = promote(request(remote, skip_uneditable=True), {})
    assert result.operation == "created"
    skipped = result.record()["skipped"]
    assert [(s["file"], s["line"]) for s in skipped] == [
        (f"{OVERLAY}/junk.yaml", 3), (f"{OVERLAY}/pod.yaml", 6)]
    text = render(result.record(), "text", {}, result.diff, result.notes)
    assert f"skipped  {OVERLAY}/pod.yaml:6" in text
    environ = {"PROMOTER_DOTENV": str(tmp_path / "promoter.env"),
               "PROMOTER_RESULT_FILE": str(tmp_path / "promoter-result.json")}
    for output in ("github", "gitlab", "json"):
        shown = render(result.record(), output, environ, result.diff, result.notes)
        assert f"{OVERLAY}/pod.yaml" in shown and "skipped" in shown, output


def test_a_file_not_holding_the_image_is_reported_not_fatal(tmp_path: Path) -> None:
    remote = remote_with(tmp_path, {"junk.yaml": UNRELATED})
    result = promote(request(remote), {})
    assert result.operation == "created"
    assert [s["file"] for s in result.record()["skipped"]] == [f"{OVERLAY}/junk.yaml"]


def test_diff_in_text_mode_prints_the_skips(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(DUPLICATE.replace("1.4.1", "1.0"))
    (tmp_path / "ok.yaml").write_text("image: ghcr.io/acme/api:1.0\n")
    for args in (["diff"], ["update", "--dry-run"]):
        done = subprocess.run([sys.executable, "-m", "promoter", *args, "ghcr.io/acme/api:1.1"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=60,
                              env=dict(os.environ), check=False)
        assert done.returncode == 0, done.stderr
        assert "skipped pod.yaml:6: duplicate key" in done.stderr
    done = subprocess.run([sys.executable, "-m", "promoter", "diff", "--output", "json",
                           "ghcr.io/acme/api:1.1"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env=dict(os.environ), check=False)
    assert json.loads(done.stdout)["skipped"][0]["file"] == "pod.yaml"


HELM_NO_TAG = "image:\n  repository: ghcr.io/acme/api\n  pullPolicy: IfNotPresent\n"


def test_a_helm_block_without_a_tag_key_is_a_skipped_row(tmp_path: Path) -> None:
    from promoter.images import parse_new
    from promoter.manifests import plan_update

    (tmp_path / "values.yaml").write_text(HELM_NO_TAG)
    (tmp_path / "split.yaml").write_text(
        "image:\n  registry: ghcr.io\n  repository: acme/api\n")
    (tmp_path / "other.yaml").write_text("image:\n  repository: ghcr.io/acme/web\n")
    plan = plan_update(tmp_path, ["."], parse_new("ghcr.io/acme/api:1.5.0"))
    assert [(s.file, s.line) for s in plan.skipped] == [("split.yaml", 3), ("values.yaml", 2)]
    assert "no tag key" in plan.skipped[0].reason


def test_a_helm_block_without_a_tag_in_a_promotion_is_exit_2(tmp_path: Path) -> None:
    remote = remote_with(tmp_path, {"values.yaml": HELM_NO_TAG})
    with pytest.raises(InputError, match=rf"{OVERLAY}/values.yaml:2: .*no tag key"):
        promote(request(remote), {})
