"""Issue 15: a plan holds the bytes that change, not two whole texts per file;
the texts are rebuilt from the file, one file at a time, and checked."""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from promoter import images
from promoter.errors import PromoterError
from promoter.manifests import plan_update, unified_diff, write_plan

FILLER = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: filler-{n}\ndata:\n  x: y\n"
POD = "---\nspec:\n  containers:\n  - image: x/api:1\n"
REF = images.parse_new("x/api:2")


def big_tree(root: Path, files: int, docs: int) -> int:
    """``files`` manifests of ``docs`` filler documents around one reference;
    returns the size of one."""
    text = "".join(FILLER.format(n=n) for n in range(docs)) + POD + FILLER.format(n="end")
    for n in range(files):
        (root / f"f{n:02d}.yaml").write_text(text)
    return len(text)


def measured(what: str, root: Path) -> dict[str, int]:
    """``what`` (held, peak) measured in a fresh interpreter: tracemalloc
    counts every thread's allocations, and in a test worker other tests'
    threads (fake servers, a kubeconfig load left to end by itself) may still
    allocate while this one measures."""
    done = subprocess.run([sys.executable, __file__, what, str(root)], capture_output=True,
                          text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    result: dict[str, int] = json.loads(done.stdout)
    return result


def held(root: Path) -> dict[str, int]:
    (root / "warm").mkdir()
    (root / "warm" / "a.yaml").write_text(POD)
    plan_update(root / "warm", ["."], REF)  # imports and caches come first
    size = big_tree(root, files=12, docs=4_000)  # 12 files of about 300 KB
    tracemalloc.start()
    try:
        plan = plan_update(root, [f"f{n:02d}.yaml" for n in range(12)], REF)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {"size": size, "edits": len(plan.edits), "held": held}


def peak(root: Path) -> dict[str, int]:
    size = big_tree(root, files=12, docs=4_000)
    plan = plan_update(root, ["."], REF)
    tracemalloc.start()
    try:
        write_plan(root, plan)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    written = all((root / e.file).read_bytes() == e.after for e in plan.edits)
    return {"size": size, "edits": len(plan.edits), "peak": peak, "written": written}


def test_the_plan_holds_only_the_changed_bytes(tmp_path: Path) -> None:
    found = measured("held", tmp_path)
    assert found["edits"] == 12
    assert found["held"] < found["size"] // 4, \
        f"the plan holds {found['held']} bytes for 12 edits of {found['size']}-byte files"


def test_writing_reads_one_file_at_a_time(tmp_path: Path) -> None:
    found = measured("peak", tmp_path)
    assert found["edits"] == 12 and found["written"]
    assert found["peak"] < 4 * found["size"], \
        f"writing 12 files of {found['size']} bytes peaked at {found['peak']}"
    assert "x/api:2" in (tmp_path / "f11.yaml").read_text()


def test_both_texts_before_and_after_the_write(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("# a\r\n" + POD + "more: x/api:1\n")
    plan = plan_update(tmp_path, ["."], REF)
    [edit] = plan.edits
    old, new = (tmp_path / "a.yaml").read_bytes(), edit.after
    assert edit.before == old and new == old.replace(b"x/api:1\n", b"x/api:2\n", 1)
    diff = unified_diff(plan)
    write_plan(tmp_path, plan)
    assert (tmp_path / "a.yaml").read_bytes() == new
    assert (edit.before, edit.after) == (old, new)  # the file holds the new text now
    assert unified_diff(plan) == diff


@pytest.mark.parametrize(
    "meanwhile",
    [
        lambda text: text.replace("filler-7", "filler-8"),  # same size, elsewhere
        lambda text: text.replace("x/api:1", "x/api:3"),  # same size, at the edit
        lambda text: text + "# more\n",
        lambda text: text.replace("x/api:1", "x/api:2").replace("filler-7", "filler-8"),
    ],
)
def test_a_file_changed_since_planning_is_refused(tmp_path: Path, meanwhile: object) -> None:
    big_tree(tmp_path, files=2, docs=20)
    plan = plan_update(tmp_path, ["."], REF)
    path = tmp_path / "f01.yaml"
    changed = meanwhile(path.read_text())  # type: ignore[operator]
    path.write_text(changed)
    with pytest.raises(PromoterError, match=r"f01\.yaml changed while planning"):
        write_plan(tmp_path, plan)
    with pytest.raises(PromoterError, match=r"f01\.yaml changed while planning"):
        unified_diff(plan)
    assert path.read_text() == changed
    assert "x/api:1" in (tmp_path / "f00.yaml").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f00.yaml", "f01.yaml"]


if __name__ == "__main__":  # measured(): one measurement, in a fresh interpreter
    print(json.dumps({"held": held, "peak": peak}[sys.argv[1]](Path(sys.argv[2]))))
