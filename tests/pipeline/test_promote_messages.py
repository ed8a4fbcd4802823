"""Errors found inside promoter's temporary clone name the repository, never the
clone's (deleted) temporary path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.configrepo import bare_from, example_copy

from promoter.errors import InputError
from promoter.promote import Request, promote


def test_a_symlink_leading_out_is_named_in_the_repository(tmp_path: Path) -> None:
    tree = example_copy(tmp_path / "tree")
    os.symlink("/etc/passwd", tree / "apps" / "api" / "overlays" / "staging" / "evil.yaml")
    bare = bare_from(tree, tmp_path / "config.git")
    with pytest.raises(InputError) as caught:
        promote(Request(repo=str(bare), app="api", env="staging",
                        image="ghcr.io/acme/api:1.5.0"), {})
    message = caught.value.message
    assert "promoter-" not in message and "/tmp" not in message.replace(str(bare), ""), message
    assert "apps/api/overlays/staging/evil.yaml" in message
