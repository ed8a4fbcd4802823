"""Reading a manifest: only regular files, never through a symlink, never
blocking, at most the cap (reading.py)."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest

from promoter import images
from promoter.errors import InputError, NotRegular
from promoter.manifests import plan_update
from promoter.manifests.reading import MAX_BYTES, read_regular

POD = "spec:\n  containers:\n  - image: x/api:1\n"
REF = images.parse_new("x/api:2")


def skipped_walking_refused_named(root: Path, name: str, reason: str) -> None:
    """Met while walking ``root``: listed in skipped with ``reason``, ok.yaml still
    edited; named as a PATH: exit 2 (InputError) with the same reason."""
    plan = plan_update(root, ["."], REF)
    assert [(s.file, s.reason) for s in plan.skipped] == [(name, reason)]
    assert [e.file for e in plan.edits] == ["ok.yaml"]
    with pytest.raises(InputError, match="^" + re.escape(f"{name}: {reason.split(';')[0]}")):
        plan_update(root, [name], REF)


def test_a_socket_is_skipped_walking_and_refused_named(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(POD)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock.yaml"))
        skipped_walking_refused_named(tmp_path, "sock.yaml",
                                      "not a regular file (socket); not read")


def test_fifo_symlink_and_cap(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.yaml")
    with pytest.raises(NotRegular, match=r"\(FIFO\)"):
        read_regular(tmp_path / "fifo.yaml")  # no writer: would block without O_NONBLOCK
    (tmp_path / "a.yaml").write_text(POD)
    (tmp_path / "link.yaml").symlink_to(tmp_path / "a.yaml")
    with pytest.raises(NotRegular, match=r"\(symlink\)"):
        read_regular(tmp_path / "link.yaml")
    (tmp_path / "big.yaml").write_bytes(b"#" * (MAX_BYTES + 10))
    assert len(read_regular(tmp_path / "big.yaml")) == MAX_BYTES + 1
    assert read_regular(tmp_path / "a.yaml", limit=3) == POD.encode()[:4]


def test_an_unreadable_file_is_skipped_walking_and_refused_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # chmod 000 does not stop root (CI runs as root), so the refusal comes from open()
    (tmp_path / "ok.yaml").write_text(POD)
    (tmp_path / "secret.yaml").write_text(POD)
    real_open = os.open

    def refusing_open(path: str | os.PathLike[str], flags: int, *args: int) -> int:
        if os.fspath(path).endswith("secret.yaml"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refusing_open)
    skipped_walking_refused_named(tmp_path, "secret.yaml",
                                  "cannot read it (Permission denied); not read")
