"""Recovery refuses journals it did not write (journal.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from promoter.errors import PromoterError
from promoter.manifests import journal


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps({"id": "../../x", "state": "committing", "files": ["a.yaml"]}),
        json.dumps({"id": "0123456789abcdef", "state": "other", "files": []}),
        json.dumps({"id": "0123456789abcdef", "state": "committing", "files": ["../out.yaml"]}),
    ],
)
def test_foreign_journal_is_refused(tmp_path: Path, content: str) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / journal.NAME).write_text(content)
    (tmp_path / ".out.yaml.0123456789abcdef.promoter").write_text("evil")
    with pytest.raises(PromoterError, match=r"(not a promoter journal|outside)"):
        journal.recover(root)
    assert not (tmp_path / "out.yaml").exists()


def test_fifo_journal_does_not_block(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / journal.NAME)
    with pytest.raises(PromoterError, match="not a promoter journal"):
        journal.recover(tmp_path)


def test_recover_completes_committing(tmp_path: Path) -> None:
    run = journal.new_id()
    (tmp_path / "a.yaml").write_text("old")
    journal.temp_path(tmp_path / "a.yaml", run).write_text("new")
    journal.begin(tmp_path, run, ["a.yaml"])
    journal.commit(tmp_path, run, ["a.yaml"])
    assert journal.recover(tmp_path) == (
        "an interrupted update of 1 file(s) was completed (1 rename(s) were left and are now done)"
    )
    assert (tmp_path / "a.yaml").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml"]
