"""Idempotency with paths git would quote (issue 11 item 13): non-ASCII, tab,
quote and newline in a manifest's name; the re-run pushes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.configrepo import bare_from, count, example_copy, heads

from promoter.promote import Request, promote

NAMES = ["déploiement.yaml", "tab\there.yaml", 'quote"d.yaml', "new\nline.yaml"]


@pytest.mark.parametrize("name", NAMES)
def test_rerun_with_a_quoted_path_is_a_no_op(tmp_path: Path, name: str) -> None:
    tree = example_copy(tmp_path / "tree")
    (tree / "apps/api/overlays/staging" / name).write_text(
        "kind: Pod\nspec:\n  containers:\n    - image: ghcr.io/acme/api:1.4.1\n")
    remote = bare_from(tree, tmp_path / "remote.git")
    request = Request(repo=str(remote), app="api", env="staging", image="ghcr.io/acme/api:1.5.0")
    first = promote(request, {})
    assert f"apps/api/overlays/staging/{name}" in first.record()["files"]
    again = promote(request, {})
    assert (again.operation, again.commit) == ("none", first.commit)
    assert heads(remote)["promoter/staging/api"] == first.commit
    assert count(remote, "promoter/staging/api") == count(remote, "main") + 1
