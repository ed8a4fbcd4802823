"""The walk shared with a child process (forked.py): the same candidates in
the same order, the same skips and errors as a serial walk; the child is
always reaped."""

from __future__ import annotations

import errno
import os
import select
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from support import forking

from promoter import images
from promoter.errors import InputError
from promoter.manifests import plan_update, scan
from promoter.manifests.reading import MAX_BYTES

POD = "spec:\n  containers:\n  - image: x/api:1\n"
SERIAL = 10**9


@pytest.fixture
def listings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[int]]:
    """The pids that listed directories (the child's too: it writes to a file)."""
    log = tmp_path / "listed.log"
    real = scan._listing

    def logged(real_root: Path, directory: str) -> tuple[list[str], list[str]]:
        with log.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return real(real_root, directory)

    monkeypatch.setattr(scan, "_listing", logged)

    def pids() -> list[int]:
        found = [int(line) for line in log.read_text().split()] if log.exists() else []
        log.unlink(missing_ok=True)
        return found

    return pids


@pytest.fixture
def halves(monkeypatch: pytest.MonkeyPatch) -> None:
    """The child takes exactly app-4..7 (support/forking.py)."""
    forking.halves(monkeypatch)


def wide(root: Path, apps: int = 8) -> Path:
    """apps/app-N/{deployment.yaml, nested/x.yaml}, files beside and after the
    wide directory, and a later sibling directory."""
    for n in range(apps):
        app = root / "tree" / "apps" / f"app-{n}"
        (app / "nested").mkdir(parents=True)
        (app / "deployment.yaml").write_text(POD if n % 3 else POD.replace("api", "web"))
        (app / "nested" / "x.yaml").write_text(POD)
    (root / "tree" / "apps" / "top.yaml").write_text(POD)
    (root / "tree" / "zz-later").mkdir()
    (root / "tree" / "zz-later" / "last.yaml").write_text(POD)
    (root / "tree" / "a.yaml").write_text(POD)
    return root / "tree"


def walked(root: Path, split_at: int, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    monkeypatch.setattr(scan, "SPLIT_AT", split_at)
    return [(c.file, c.problem) for c in scan.candidates(root, ["."], [b"x/api"])]


def test_same_candidates_in_the_same_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listings: Callable[[], list[int]],
    halves: None,
) -> None:
    root = wide(tmp_path)
    share = root / "apps" / "app-7"
    os.mkfifo(share / "fifo.yaml")  # in the child's share: must not block, reported
    (share / "link.yaml").symlink_to(share / "deployment.yaml")  # inside: not followed
    serial = walked(root, SERIAL, monkeypatch)
    assert set(listings()) == {os.getpid()}
    shared = walked(root, 4, monkeypatch)
    assert set(listings()) - {os.getpid()}, "no child listed a directory"
    assert shared == serial
    assert serial[:2] == [("a.yaml", ""), ("apps/top.yaml", "")]
    assert ("apps/app-7/fifo.yaml", "not a regular file (FIFO); not read") in serial
    assert serial[-1] == ("zz-later/last.yaml", "")
    assert [f for f, _ in serial].index("apps/app-4/deployment.yaml") < [
        f for f, _ in serial].index("apps/app-7/deployment.yaml")


def test_skips_and_edits_are_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = wide(tmp_path)
    big = root / "apps" / "app-6" / "big.yaml"
    big.write_text(POD + "#" * MAX_BYTES)  # over the cap, in the child's share
    (root / "apps" / "app-5" / "bad.yaml").write_text("spec: [x/api:1\n")
    ref = images.parse_new("x/api:2")
    plans = []
    for split_at in (SERIAL, 4):
        monkeypatch.setattr(scan, "SPLIT_AT", split_at)
        plans.append(plan_update(root, ["."], ref))
    serial, shared = plans
    assert shared.skipped == serial.skipped
    assert [s.file for s in serial.skipped] == ["apps/app-5/bad.yaml", "apps/app-6/big.yaml"]
    assert shared.edits == serial.edits
    assert len(serial.edits) == 16  # 3 beside the apps, 8 nested, 5 deployments


def test_a_symlink_out_of_the_tree_in_the_share_is_the_same_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listings: Callable[[], list[int]],
    halves: None,
) -> None:
    root = wide(tmp_path)
    (root / "apps" / "app-6" / "out.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    outcomes = []
    for split_at in (SERIAL, 4):
        monkeypatch.setattr(scan, "SPLIT_AT", split_at)
        got: list[str] = []
        with pytest.raises(InputError) as caught:
            got.extend(c.file for c in scan.candidates(root, ["."], [b"x/api"]))
        outcomes.append((got, str(caught.value)))
    assert outcomes[0] == outcomes[1]
    assert "leads outside" in outcomes[0][1]
    assert len(set(listings())) == 2, "the child was forked and failed; the walk redone here"


def test_a_socket_in_the_share_is_the_same_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = wide(tmp_path)
    with socket.socket(socket.AF_UNIX) as sock:  # open() of a socket fails: ENXIO
        sock.bind(str(root / "apps" / "app-6" / "sock.yaml"))
        serial = walked(root, SERIAL, monkeypatch)
        assert walked(root, 4, monkeypatch) == serial
    assert ("apps/app-6/sock.yaml", "not a regular file (socket); not read") in serial


def test_an_unreadable_file_in_the_share_is_the_same_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = wide(tmp_path)
    denied = str(root / "apps" / "app-6" / "deployment.yaml")
    real_open = os.open

    def open_denying(path: str, flags: int, *args: int, **kwargs: int) -> int:
        if str(path) == denied:  # what a non-root user meets on a mode 000 file
            raise PermissionError(errno.EACCES, "Permission denied", denied)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_denying)  # the child inherits it
    outcomes = []
    for split_at in (SERIAL, 4):
        monkeypatch.setattr(scan, "SPLIT_AT", split_at)
        outcomes.append([(c.file, c.problem) for c in scan.candidates(root, ["."], [b"x/api"])])
    assert outcomes[0] == outcomes[1]
    assert ("apps/app-6/deployment.yaml",
            "cannot read it (Permission denied); not read") in outcomes[0]


def test_a_walk_left_early_stops_and_reaps_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = wide(tmp_path)
    hello, never = tmp_path / "hello", tmp_path / "never"
    os.mkfifo(hello)
    os.mkfifo(never)
    parent, real = os.getpid(), scan._listing

    def listing(real_root: Path, directory: str) -> tuple[list[str], list[str]]:
        if os.getpid() != parent:  # the child: say who it is, then wait for ever
            with open(hello, "w") as out:
                out.write(str(os.getpid()))
            with open(never) as blocked:
                blocked.read()
        return real(real_root, directory)

    monkeypatch.setattr(scan, "_listing", listing)
    monkeypatch.setattr(scan, "SPLIT_AT", 4)
    found = scan.candidates(root, ["."], [b"x/api"])
    assert [next(found).file for _ in range(3)] == [
        "a.yaml", "apps/top.yaml", "apps/app-0/nested/x.yaml"]
    fd = os.open(hello, os.O_RDONLY | os.O_NONBLOCK)
    try:
        assert select.select([fd], [], [], 10)[0], "no child forked"
        pid = int(os.read(fd, 32))
    finally:
        os.close(fd)
    found.close()  # the child is blocked: killed and reaped, not waited for
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_no_child_beside_other_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listings: Callable[[], list[int]]
) -> None:
    root = wide(tmp_path)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        shared = walked(root, 4, monkeypatch)
    finally:
        stop.set()
        thread.join()
    assert set(listings()) == {os.getpid()}
    assert shared == walked(root, SERIAL, monkeypatch)
