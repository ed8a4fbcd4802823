"""The forked walk's child plans the candidates of its share (scan.py,
planned.py): the plan (edits, changes, skips, their order) and the errors are
the serial walk's; the child's outcome is used only for the bytes it was
planned from, and anything unusual in the child makes this process plan the
file (or walk the share) itself."""

from __future__ import annotations

import marshal
import os
import select
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support import forking

from promoter import images
from promoter.errors import ConflictError
from promoter.manifests import candidate, forked, plan_update, planned, regions, scan
from promoter.manifests.records import Plan

POD = "spec:\n  containers:\n  - image: x/api:1\n  - image: x/web:1\n"
REF = images.parse_new("x/api:2")
SERIAL = 10**9
CHILD_HALF = ("apps/app-4/", "apps/app-5/", "apps/app-6/", "apps/app-7/")
Edits = Callable[[], list[tuple[int, str]]]
pytestmark = pytest.mark.usefixtures("halves")  # the child takes app-4..7, every time


@pytest.fixture
def halves(monkeypatch: pytest.MonkeyPatch) -> None:
    forking.halves(monkeypatch)


def tree(root: Path) -> Path:
    """apps/app-0..7 (the child walks app-4..7 with SPLIT_AT 4), each with two
    candidates and a file without the image; candidates before and after."""
    for n in range(8):
        app = root / "tree" / "apps" / f"app-{n}"
        (app / "nested").mkdir(parents=True)
        (app / "deployment.yaml").write_text(POD)
        (app / "nested" / "x.yaml").write_text("---\n" + POD + "---\nkind: Other\n")
        (app / "service.yaml").write_text("kind: Service\n")
    (root / "tree" / "a.yaml").write_text(POD)
    (root / "tree" / "zz-later").mkdir()
    (root / "tree" / "zz-later" / "last.yaml").write_text(POD)
    return root / "tree"


@pytest.fixture
def edits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Edits:
    """(pid, file) of every candidate the edit engine was given, the child's too."""
    log = tmp_path / "edited.log"
    real = candidate.edit

    def logged(cand: candidate.Candidate, *args: object) -> candidate.Edited:
        with log.open("a") as out:
            out.write(f"{os.getpid()} {cand.file}\n")
        return real(cand, *args)

    monkeypatch.setattr(candidate, "edit", logged)

    def taken() -> list[tuple[int, str]]:
        lines = log.read_text().splitlines() if log.exists() else []
        log.unlink(missing_ok=True)
        return [(int(pid), file) for pid, file in (line.split(" ", 1) for line in lines)]

    return taken


def plans(
    root: Path, monkeypatch: pytest.MonkeyPatch, expect: str | None = None
) -> Iterator[Plan]:
    """The serial walk's plan, then the split walk's."""
    for split_at in (SERIAL, 4):
        monkeypatch.setattr(scan, "SPLIT_AT", split_at)
        yield plan_update(root, ["."], REF, expect=expect)


def in_child_half(file: str) -> bool:
    return file.startswith(CHILD_HALF)


def in_child(action: Callable[[candidate.Candidate], None], monkeypatch: pytest.MonkeyPatch,
             ) -> None:
    """``action`` on each candidate the child planned, after planning it."""
    parent, real = os.getpid(), planned.plan_one

    def plan_one(cand: candidate.Candidate, **kwargs: object) -> planned.Outcome:
        outcome = real(cand, **kwargs)
        if os.getpid() != parent:
            action(cand)
        return outcome

    monkeypatch.setattr(planned, "plan_one", plan_one)


def test_the_child_plans_its_share_and_the_plan_is_the_serial_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edits: Edits
) -> None:
    root = tree(tmp_path)
    serial, split = plans(root, monkeypatch, expect="1")
    assert split == serial
    assert split.edits == serial.edits  # files, sizes, CRC-32s, pieces, changes, in order
    assert split.changes == serial.changes
    assert len(serial.edits) == 18
    assert [e.file for e in serial.edits][:3] == [
        "a.yaml", "apps/app-0/deployment.yaml", "apps/app-0/nested/x.yaml"]
    serial_edits, split_edits = _halves(edits())
    assert {pid for pid, _ in serial_edits} == {os.getpid()}
    parent = {file for pid, file in split_edits if pid == os.getpid()}
    child = {file for pid, file in split_edits if pid != os.getpid()}
    assert child == {e.file for e in serial.edits if in_child_half(e.file)}
    assert parent == {e.file for e in serial.edits if not in_child_half(e.file)}
    assert len({pid for pid, _ in split_edits}) == 2


def _halves(log: list[tuple[int, str]]) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The serial run's entries, then the split run's (each planned 18 files)."""
    serial = log[:18]
    return serial, log[18:]


def test_bad_yaml_in_the_childs_half_is_the_same_skip_planned_by_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edits: Edits
) -> None:
    root = tree(tmp_path)
    (root / "apps" / "app-5" / "bad.yaml").write_text("spec: [x/api:1\n")
    (root / "apps" / "app-6" / "latin1.yaml").write_bytes(b"image: x/api:1 # \xe9\n")
    (root / "apps" / "app-6" / "nested" / "x.yaml").write_text(
        POD + "data:\n  pod.yaml: |\n    image: x/api:1\n")  # an edit and a skip
    serial, split = plans(root, monkeypatch)
    assert split == serial
    assert [(s.file, s.line) for s in serial.skipped] == [
        ("apps/app-5/bad.yaml", 1), ("apps/app-6/latin1.yaml", 1), ("apps/app-6/nested/x.yaml", 7)]
    split_log = edits()[20:]  # after the serial walk's 20 candidates
    child = {file for pid, file in split_log if pid != os.getpid()}
    assert {"apps/app-5/bad.yaml", "apps/app-6/latin1.yaml"} <= child
    assert not any(pid == os.getpid() and in_child_half(file) for pid, file in split_log)


def test_an_expect_conflict_in_the_childs_half_is_the_serial_walks_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edits: Edits
) -> None:
    root = tree(tmp_path)
    (root / "apps" / "app-6" / "deployment.yaml").write_text(POD.replace("api:1", "api:7"))
    errors = []
    for split_at in (SERIAL, 4):
        monkeypatch.setattr(scan, "SPLIT_AT", split_at)
        with pytest.raises(ConflictError) as caught:
            plan_update(root, ["."], REF, expect="1")
        errors.append(str(caught.value))
    assert errors[0] == errors[1]
    assert errors[0].startswith("apps/app-6/deployment.yaml:3: ")
    log = edits()
    mine = [file for pid, file in log if pid == os.getpid()]
    assert mine.count("apps/app-6/deployment.yaml") == 2  # the child's try was not used
    assert mine.count("apps/app-4/deployment.yaml") == 1  # its outcome was


@pytest.mark.parametrize("new", [
    POD.replace("api:1", "api:5"),  # the same size: only the CRC-32 tells
    POD.replace("api:1", "api:1.5"),
    "spec: [x/api:1\n",  # now bad YAML
    POD.replace("x/api:1", "x/api:2"),  # now already at the new version
])
def test_a_file_changed_after_the_child_planned_it_is_planned_as_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edits: Edits, new: str
) -> None:
    root = tree(tmp_path)
    changed = root / "apps" / "app-5" / "deployment.yaml"

    def change(cand: candidate.Candidate) -> None:
        if cand.path == changed:
            changed.write_text(new)

    in_child(change, monkeypatch)
    monkeypatch.setattr(scan, "SPLIT_AT", 4)
    split = plan_update(root, ["."], REF)
    log = edits()
    assert changed.read_text() == new
    monkeypatch.setattr(scan, "SPLIT_AT", SERIAL)
    assert split == plan_update(root, ["."], REF)  # the serial plan of the tree as it is now
    mine = [file for pid, file in log if pid == os.getpid()]
    assert "apps/app-5/deployment.yaml" in mine  # planned here again, from what was read here
    assert "apps/app-4/deployment.yaml" not in mine  # the child's outcome of the others used


def test_a_child_killed_while_planning_leaves_the_plan_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edits: Edits
) -> None:
    root = tree(tmp_path)
    in_child(lambda cand: os.kill(os.getpid(), signal.SIGKILL), monkeypatch)
    serial, split = plans(root, monkeypatch)
    assert split == serial
    log = edits()
    assert [f for pid, f in log if pid == os.getpid()][18:] == [e.file for e in serial.edits]
    assert len({pid for pid, _ in log}) == 2, "the child planned one file, then was killed"


def _bad_wires(wire: planned.Wire) -> Iterator[object]:
    size, crc, bad, referenced, skips, changes, pieces = wire
    yield ("x",)
    yield (str(size), crc, bad, referenced, skips, changes, pieces)
    yield (size, crc, bad, 1, skips, changes, pieces)  # an int, not a bool
    yield (size, crc, bad, referenced, [*skips], changes, pieces)
    yield (size, crc, bad, referenced, skips, ((*changes[0][:7], ("note", 3)),), pieces)
    yield (size, crc, ("f", "1", "r"), referenced, skips, changes, pieces)


@pytest.mark.parametrize("which", range(6))
def test_a_malformed_answer_is_dropped_and_the_share_walked_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edits: Edits, which: int
) -> None:
    root = tree(tmp_path)
    real = planned.to_wire

    def garbage(outcome: planned.Outcome, data: bytes) -> object:
        return list(_bad_wires(real(outcome, data)))[which]

    monkeypatch.setattr(planned, "to_wire", garbage)
    serial, split = plans(root, monkeypatch)
    assert split == serial
    log = edits()
    assert [f for pid, f in log if pid == os.getpid()][18:] == [e.file for e in serial.edits]


@pytest.mark.parametrize("lie", ["crc", "size", "piece start", "piece bytes"])
def test_an_outcome_not_of_the_bytes_read_here_is_planned_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edits: Edits, lie: str
) -> None:
    root = tree(tmp_path)
    real = planned.to_wire

    def lying(outcome: planned.Outcome, data: bytes) -> planned.Wire:
        size, crc, bad, referenced, skips, changes, pieces = real(outcome, data)
        start, old, new = pieces[0]
        if lie == "crc":
            crc = crc ^ 1
        elif lie == "size":
            size = size + 1
        elif lie == "piece start":
            pieces = ((start + 1, old, new),)
        else:
            pieces = ((start, old.replace(b"1", b"9"), new),)
        return size, crc, bad, referenced, skips, changes, pieces

    monkeypatch.setattr(planned, "to_wire", lying)
    serial, split = plans(root, monkeypatch)
    assert split == serial
    mine = [f for pid, f in edits() if pid == os.getpid()][18:]
    assert mine == [e.file for e in serial.edits]  # each of the child's files planned here


def test_a_short_answer_is_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edits: Edits
) -> None:
    root = tree(tmp_path)
    real = forked._send
    monkeypatch.setattr(forked, "_send", lambda fd, data: real(fd, data[: len(data) // 2]))
    serial, split = plans(root, monkeypatch)
    assert split == serial
    assert [f for pid, f in edits() if pid == os.getpid()][18:] == [e.file for e in serial.edits]


def test_the_answer_holds_no_file_contents_beyond_the_changed_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tree(tmp_path)
    filler = "".join(f"# filler line {n}\n" for n in range(2000))
    (root / "apps" / "app-7" / "deployment.yaml").write_text(filler + POD + filler)
    sent = tmp_path / "answer"
    real = forked._send

    def keep(fd: int, data: bytes) -> None:
        with sent.open("ab") as out:
            out.write(data)
        real(fd, data)

    monkeypatch.setattr(forked, "_send", keep)
    serial, split = plans(root, monkeypatch)
    assert split == serial
    answer = sent.read_bytes()
    assert b"x/api:2" in answer and b"x/api:1" in answer
    assert b"filler line" not in answer
    assert b"kind: Other" not in answer and b"x/web" not in answer


def test_an_error_in_this_processs_half_stops_and_reaps_the_planning_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tree(tmp_path)
    conflict = root / "apps" / "app-1" / "deployment.yaml"
    conflict.write_text(POD.replace("api:1", "api:7"))
    hello, never = tmp_path / "hello", tmp_path / "never"
    os.mkfifo(hello)
    os.mkfifo(never)
    parent, real, child = os.getpid(), planned.plan_one, []

    def plan_one(cand: candidate.Candidate, **kwargs: object) -> planned.Outcome:
        if os.getpid() != parent:  # the child: say who it is, then plan for ever
            with open(hello, "w") as out:
                out.write(str(os.getpid()))
            with open(never) as blocked:
                blocked.read()
        elif cand.path == conflict:  # this process: meet the conflict once the child plans
            child.append(_pid_from(hello))
        return real(cand, **kwargs)

    monkeypatch.setattr(planned, "plan_one", plan_one)
    monkeypatch.setattr(scan, "SPLIT_AT", 4)
    with pytest.raises(ConflictError, match=r"apps/app-1/deployment\.yaml:3: "):
        plan_update(root, ["."], REF, expect="1")
    with pytest.raises(ChildProcessError):
        os.waitpid(child[0], os.WNOHANG)


def _pid_from(fifo: Path) -> int:
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        assert select.select([fd], [], [], 10)[0], "no child planned"
        return int(os.read(fd, 32))
    finally:
        os.close(fd)


def test_only_an_answer_of_the_exact_shape_is_read(tmp_path: Path) -> None:
    pod = tmp_path / "pod.yaml"
    pod.write_bytes(POD.encode())
    cand = candidate.Candidate(pod, "pod.yaml", False, pod.read_bytes())
    outcome = planned.plan_one(cand, REF, (), None, regions.Prefilter(("api",), False))
    wire = planned.to_wire(outcome, cand.data)
    outcomes: dict[str, planned.Planned] = {}
    assert planned.read_group(None, outcomes) == []
    assert planned.read_group(["a", (str(pod), wire)], outcomes) == ["a", str(pod)]
    planner = planned.Planner(lambda cand: outcome)
    planner.answers.update(outcomes)
    assert planner.take(cand._replace(explicit=True)) is None  # named: planned here
    planner.answers.update(outcomes)
    assert planner.take(cand) == outcome
    assert planner.take(cand) is None  # taken once
    for bad in ["a", ("a",), [b"a"], [("a", wire, 1)], [(1, wire)], [("a", [*wire])],
                [("a", wire[:6])], [None]]:
        assert planned.read_group(bad, {}) is None, bad
    assert planned.read_group([(str(pod), wire)], None) is None  # no outcome asked for
    assert planned.read_group(["a", "b"], None) == ["a", "b"]


def test_only_whole_answers_in_order_are_read() -> None:
    def sent(*answers: tuple[int, int, object]) -> bytearray:
        out = bytearray()
        for index, run, value in answers:
            data = marshal.dumps(value) if value else b""
            out += forked._HEAD.pack(index, run, len(data)) + data
        return out

    whole = sent((7, 1, ["a"]), (6, 2, None), (4, 1, ["b"]))
    assert forked._records(whole, 8) == [(7, ["a"]), (6, None), (5, None), (4, ["b"])]
    assert forked._records(whole[:-1], 8) == [(7, ["a"]), (6, None), (5, None)]  # cut short
    for bad in [sent((7, 1, ["a"]), (7, 1, ["b"])), sent((8, 1, ["a"])), sent((-1, 1, ["a"])),
                sent((3, 5, None)), sent((3, 0, None)), sent((3, 2, ["a"])),
                forked._HEAD.pack(3, 1, 2) + b"\xff\xff"]:
        assert forked._records(bytearray(bad), 8) is None, bad
