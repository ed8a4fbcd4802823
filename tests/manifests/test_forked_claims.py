"""The forked walk's subdirectories are taken from both ends (forked.Claims):
this process from the first, the child from the last, until they meet. The
child sends its answer for each subdirectory as it is done (empty ones in
batches); when they meet, this process walks every subdirectory the child
has not answered for yet itself, so it never waits for the child; where both
take the same subdirectory this process's walk is kept. The candidates,
their order and the plan stay the serial walk's."""

from __future__ import annotations

import os
import select
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from promoter import images
from promoter.manifests import forked, plan_update, planned, scan
from promoter.manifests.candidate import Candidate

POD = "spec:\n  containers:\n  - image: x/api:1\n"
REF = images.parse_new("x/api:2")
SERIAL = 10**9
Listed = Callable[[], list[tuple[int, str]]]


def tree(root: Path) -> Path:
    for n in range(8):
        app = root / "tree" / "apps" / f"app-{n}"
        (app / "nested").mkdir(parents=True)
        (app / "deployment.yaml").write_text(POD)
        (app / "nested" / "x.yaml").write_text(POD)
    (root / "tree" / "a.yaml").write_text(POD)
    return root / "tree"


@pytest.fixture
def listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Listed:
    """(pid, app) of every apps/app-N listed, the child's too."""
    log = tmp_path / "listed.log"
    real = scan._listing

    def logged(real_root: Path, directory: str) -> tuple[list[str], list[str]]:
        if Path(directory).parent.name == "apps":
            with log.open("a") as out:
                out.write(f"{os.getpid()} {Path(directory).name}\n")
        return real(real_root, directory)

    monkeypatch.setattr(scan, "_listing", logged)

    def taken() -> list[tuple[int, str]]:
        lines = log.read_text().splitlines() if log.exists() else []
        log.unlink(missing_ok=True)
        return [(int(pid), app) for pid, app in (line.split() for line in lines)]

    return taken


def serial_and_split(
    root: Path, monkeypatch: pytest.MonkeyPatch, *splits: int
) -> Iterator[object]:
    """The candidates and the plan, serial then split (or as ``splits`` say)."""
    for split_at in splits or (SERIAL, 4):
        monkeypatch.setattr(scan, "SPLIT_AT", split_at)
        yield [(c.file, c.problem) for c in scan.candidates(root, ["."], [b"x/api"])]
        yield plan_update(root, ["."], REF)


def apps_of(log: list[tuple[int, str]], here: bool) -> list[str]:
    return sorted(app for pid, app in log if (pid == os.getpid()) == here)


def test_claims_meet_in_the_middle() -> None:
    claims = forked.Claims(5)
    try:
        assert [claims.here(), claims.there(), claims.there(), claims.here()] == [0, 4, 3, 1]
        # the index the child is on (3) is taken here too: never waited for
        assert [claims.here(), claims.here(), claims.here(), claims.there()] == [2, 3, None, None]
        assert claims.front == 4
    finally:
        claims.close()


def test_the_child_is_not_waited_for_beyond_what_it_has_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listed: Listed
) -> None:
    root = tree(tmp_path)
    serial_found, serial_plan = serial_and_split(root, monkeypatch, SERIAL)
    started, never = os.pipe(), os.pipe()
    real, parent, log = scan._listing, os.getpid(), tmp_path / "unblocked"

    def listing(real_root: Path, directory: str) -> tuple[list[str], list[str]]:
        listed = real(real_root, directory)
        if os.getpid() != parent and directory.endswith("app-5"):  # done with 7 and 6
            os.write(started[1], b"!")
            select.select([never[0]], [], [], 10)  # killed here, unless waited for
            log.write_text("the child was waited for")
        elif directory.endswith("app-0"):
            _take(started[0])
        return listed

    monkeypatch.setattr(scan, "_listing", listing)
    try:
        found, plan = serial_and_split(root, monkeypatch, 4)
    finally:
        for fd in (*started, *never):
            os.close(fd)
    assert (found, plan) == (serial_found, serial_plan)
    assert not log.exists()
    split = listed()[16:]  # after the serial walks'
    assert apps_of(split, here=False) == sorted(["app-5", "app-6", "app-7"] * 2)
    assert apps_of(split, here=True) == sorted([f"app-{n}" for n in range(6)] * 2)


def test_a_child_that_takes_one_is_overtaken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listed: Listed
) -> None:
    root = tree(tmp_path)
    serial_found, serial_plan = serial_and_split(root, monkeypatch, SERIAL)
    started = os.pipe()  # the child, in app-7, tells this process (waiting in app-0)
    real, parent = scan._listing, os.getpid()

    def listing(real_root: Path, directory: str) -> tuple[list[str], list[str]]:
        if os.getpid() != parent and directory.endswith("app-7"):
            os.write(started[1], b"!")
            select.select([], [], [], 10)  # stalled: this process takes app-7 too
        elif directory.endswith("app-0"):
            _take(started[0])
        return real(real_root, directory)

    monkeypatch.setattr(scan, "_listing", listing)
    try:
        found, plan = serial_and_split(root, monkeypatch, 4)
    finally:
        for fd in started:
            os.close(fd)
    assert (found, plan) == (serial_found, serial_plan)
    split = listed()[16:]
    assert apps_of(split, here=False) == []
    assert apps_of(split, here=True) == sorted([f"app-{n}" for n in range(8)] * 2)


def _take(fd: int) -> None:
    assert select.select([fd], [], [], 10)[0], "no word from the other process"
    os.read(fd, 1)


def split_as_serial(
    root: Path, monkeypatch: pytest.MonkeyPatch, listed: Listed,
    here: Callable[[forked.Claims], int | None], there: Callable[[forked.Claims], int | None],
) -> list[tuple[int, str]]:
    """With these claim schedules (the child waited for), the split walk's
    finds and plan are the serial walk's; the split walk's listing log."""
    monkeypatch.setattr(forked, "WAIT_FOR_THE_CHILD", True)
    monkeypatch.setattr(forked.Claims, "here", here)
    monkeypatch.setattr(forked.Claims, "there", there)
    serial_found, serial_plan, found, plan = serial_and_split(root, monkeypatch)
    assert (found, plan) == (serial_found, serial_plan)
    return listed()[16:]


def test_where_both_take_a_subdirectory_this_processs_walk_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listed: Listed
) -> None:
    root = tree(tmp_path)
    here = forked.Claims.here
    downwards: list[int] = []

    def here_to_4(claims: forked.Claims) -> int | None:
        return None if claims.front >= 4 else here(claims)

    def greedy(claims: forked.Claims) -> int | None:  # the child takes every index
        downwards.append(len(downwards))
        index = claims.count - len(downwards)
        return index if index >= 0 else None

    log = split_as_serial(root, monkeypatch, listed, here_to_4, greedy)
    assert apps_of(log, here=False) == sorted([f"app-{n}" for n in range(8)] * 2)
    assert apps_of(log, here=True) == sorted([f"app-{n}" for n in range(4)] * 2)


def test_subdirectories_taken_by_neither_are_walked_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listed: Listed
) -> None:
    root = tree(tmp_path)
    here, there = forked.Claims.here, forked.Claims.there

    def here_to_2(claims: forked.Claims) -> int | None:
        return None if claims.front >= 2 else here(claims)

    def there_to_6(claims: forked.Claims) -> int | None:
        index = there(claims)
        return None if index is None or index < 6 else index

    log = split_as_serial(root, monkeypatch, listed, here_to_2, there_to_6)
    assert apps_of(log, here=False) == ["app-6", "app-6", "app-7", "app-7"]
    assert apps_of(log, here=True) == sorted([f"app-{n}" for n in range(6)] * 2)


def test_a_child_that_takes_nothing_is_not_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listed: Listed
) -> None:
    root = tree(tmp_path)
    monkeypatch.setattr(forked.Claims, "there", lambda claims: None)
    serial_found, serial_plan, found, plan = serial_and_split(root, monkeypatch)
    assert (found, plan) == (serial_found, serial_plan)
    assert apps_of(listed()[16:], here=True) == sorted([f"app-{n}" for n in range(8)] * 2)


def test_runs_of_subdirectories_without_candidates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(300):  # the child answers for runs of empty ones at once (64 at most)
        app = tmp_path / "tree" / "apps" / f"app-{n:03d}"
        app.mkdir(parents=True)
        (app / "deployment.yaml").write_text(POD if n % 37 == 5 else POD.replace("api", "web"))
    root = tmp_path / "tree"
    serial_found, serial_plan = serial_and_split(root, monkeypatch, SERIAL)
    sent = tmp_path / "sent"
    real = forked._send

    def keep(fd: int, data: bytes | bytearray) -> None:
        with sent.open("ab") as out:
            out.write(data)
        real(fd, data)

    monkeypatch.setattr(forked, "_send", keep)
    for here_stops in (150, 2, 299):
        monkeypatch.setattr(forked, "WAIT_FOR_THE_CHILD", True)
        monkeypatch.setattr(forked.Claims, "here", _stopping_at(here_stops))
        assert list(serial_and_split(root, monkeypatch, 4)) == [serial_found, serial_plan]
    assert len(serial_plan.edits) == 8
    answers = forked._records(bytearray(sent.read_bytes()[: forked._HEAD.size]), 300)
    assert answers and answers[0][0] == 299


def _stopping_at(stop: int) -> Callable[[forked.Claims], int | None]:
    here = forked.Claims.here

    def stopping(claims: forked.Claims) -> int | None:
        return None if claims.front >= stop else here(claims)

    return stopping


def test_a_child_planning_a_candidate_where_they_meet_is_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listed: Listed
) -> None:
    root = tree(tmp_path)
    _, serial_plan = serial_and_split(root, monkeypatch, SERIAL)
    listed()
    started, go = os.pipe(), os.pipe()
    parent, late = os.getpid(), tmp_path / "late"
    real_listing, real_plan, real_here = scan._listing, planned.plan_one, forked.Claims.here
    planners = tmp_path / "planners"

    def plan_one(cand: Candidate, **kwargs: object) -> planned.Outcome:
        with planners.open("a") as out:
            out.write(f"{os.getpid()} {cand.file}\n")
        if os.getpid() != parent and cand.file == "apps/app-5/deployment.yaml":
            os.write(started[1], b"!")  # planning where this process will meet it
            if not select.select([go[0]], [], [], 10)[0]:
                late.write_text("this process did not stop for the child")
        return real_plan(cand, **kwargs)

    def listing(real_root: Path, directory: str) -> tuple[list[str], list[str]]:
        if os.getpid() == parent and directory.endswith("app-0"):
            _take(started[0])
        return real_listing(real_root, directory)

    def here(claims: forked.Claims) -> int | None:
        index = real_here(claims)
        if index is None and claims.waiting:
            os.write(go[1], b"!")  # stopped to wait: let the child finish
        return index

    monkeypatch.setattr(planned, "plan_one", plan_one)
    monkeypatch.setattr(scan, "_listing", listing)
    monkeypatch.setattr(forked.Claims, "here", here)
    monkeypatch.setattr(scan, "SPLIT_AT", 4)
    try:
        plan = plan_update(root, ["."], REF)
    finally:
        for fd in (*started, *go):
            os.close(fd)
    assert plan == serial_plan
    assert not late.exists()
    mine = [file for pid, file in (line.split() for line in planners.read_text().splitlines())
            if int(pid) == parent]
    assert [f for f in mine if f.startswith("apps/app-")] == [
        f"apps/app-{n}/{name}" for n in range(5) for name in ("deployment.yaml", "nested/x.yaml")]
    assert apps_of(listed(), here=True) == [f"app-{n}" for n in range(5)]
