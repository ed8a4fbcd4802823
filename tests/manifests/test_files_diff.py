"""``unified_diff`` (manifests/files.py) is a unified diff that git and patch
apply to the original files, giving exactly what ``update`` writes: CRLF, no
final newline, a BOM, Unicode line separators inside a line, many documents,
added lines."""

from __future__ import annotations

import difflib
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promoter import images
from promoter.manifests import plan_update, unified_diff, write_plan
from promoter.manifests.udiff import file_diff

POD = "spec:\n  containers:\n  - image: x/api:1  # pinned\n"
KUSTOMIZE = "images:\n- name: x/api\n  newName: x/api\n- name: other\n  newTag: '3'\n"
EMPTY = "spec: {}\n"
FILES: dict[str, bytes] = {
    "plain.yaml": POD.encode(),
    "crlf.yaml": POD.replace("\n", "\r\n").encode(),
    "no-final-newline.yaml": POD.rstrip("\n").encode(),
    "bom.yaml": ("\ufeff" + POD).encode(),
    "separators.yaml": (
        'a: "one\u2028two\x85three"\nb: 1\n' + POD + 'c: "x\u2029y"\nd: 2\n'
    ).encode(),
    "kustomization.yaml": KUSTOMIZE.encode(),
    "many.yaml": "".join(
        f"---\nkind: Pod\nmetadata: {{name: p{n}}}\n" + (POD if n % 7 == 0 else EMPTY)
        for n in range(300)
    ).encode(),
    "last-line.yaml": (
        "".join(f"k{n}: 1\n" for n in range(20)) + "image: {repository: x/api, tag: '1'}"
    ).encode(),
}
REF = images.parse_new("x/api:2")


def tree(root: Path) -> Path:
    for name, data in FILES.items():
        (root / name).write_bytes(data)
    return root


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=30)


def lines(data: bytes) -> list[str]:
    """Lines as git sees them: ended by "\n" only."""
    text = data.decode("utf-8")
    return [line + "\n" for line in text.split("\n")[:-1]] + (
        [text.rsplit("\n", 1)[-1]] if not text.endswith("\n") else []
    )


@pytest.fixture
def planned(tmp_path: Path) -> tuple[Path, str, dict[str, bytes]]:
    """(original tree, its diff, what update writes)."""
    original, written = tmp_path / "original", tmp_path / "written"
    original.mkdir()
    written.mkdir()
    plan = plan_update(tree(original), ["."], REF)
    assert {e.file for e in plan.edits} == set(FILES)
    write_plan(tree(written), plan)
    return original, unified_diff(plan), {n: (written / n).read_bytes() for n in FILES}


def test_git_apply(tmp_path: Path, planned: tuple[Path, str, dict[str, bytes]]) -> None:
    original, diff, expected = planned
    work = tmp_path / "git"
    shutil.copytree(original, work)
    (tmp_path / "change.patch").write_bytes(diff.encode("utf-8"))
    assert run(work, "git", "init", "-q").returncode == 0
    check = run(work, "git", "apply", "--check", str(tmp_path / "change.patch"))
    assert check.returncode == 0, check.stderr
    applied = run(work, "git", "apply", str(tmp_path / "change.patch"))
    assert applied.returncode == 0, applied.stderr
    assert {n: (work / n).read_bytes() for n in FILES} == expected


def test_patch_applies(tmp_path: Path, planned: tuple[Path, str, dict[str, bytes]]) -> None:
    original, diff, expected = planned
    work = tmp_path / "patch"
    shutil.copytree(original, work)
    (tmp_path / "change.patch").write_bytes(diff.encode("utf-8"))
    patch = ["patch", "-p1", "--binary", "--forward", "-i", str(tmp_path / "change.patch")]
    dry = run(work, *patch, "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert run(work, *patch).returncode == 0
    assert {n: (work / n).read_bytes() for n in FILES} == expected


def test_same_hunks_as_difflib(planned: tuple[Path, str, dict[str, bytes]]) -> None:
    _, diff, expected = planned
    reference = []
    missing = "\n\\ No newline at end of file\n"
    for name in sorted(FILES):
        for line in difflib.unified_diff(
            lines(FILES[name]), lines(expected[name]), f"a/{name}", f"b/{name}"
        ):
            reference.append(line if line.endswith("\n") else line + missing)
    ordered = "".join(reference)
    assert sorted(diff.split("--- ")) == sorted(ordered.split("--- "))


def test_hunks_are_local(planned: tuple[Path, str, dict[str, bytes]]) -> None:
    _, diff, _ = planned
    many = diff[diff.index("--- a/many.yaml"):].split("--- a/", 2)[1]
    hunks = [line for line in many.splitlines() if line.startswith("@@")]
    assert len(hunks) == 43  # one per edited document (every 7th of 300), 3 lines of context
    assert hunks[0] == "@@ -3,7 +3,7 @@"
    assert "\\ No newline at end of file" in diff.split("--- a/last-line.yaml")[1]


def apply_diff(a: bytes, diff: list[str]) -> bytes:
    """A strict applier: context and removed lines must match exactly."""
    text = a.decode()
    old = [line + "\n" for line in text.split("\n")]
    old[-1] = old[-1][:-1]
    if not old[-1]:
        old.pop()
    new: list[str] = []
    at = 0
    for line in diff[2:]:
        if line.startswith("@@"):
            start, _, length = line.split()[1][1:].partition(",")
            at_hunk = int(start) if length == "0" else int(start) - 1
            new += old[at:at_hunk]
            at = at_hunk
            continue
        body = line[1:].removesuffix(MISSING) if line.endswith(MISSING) else line[1:]
        if line[0] in "- ":
            assert old[at] == body, (old[at], body)
            at += 1
        if line[0] in "+ ":
            new.append(body)
    return "".join(new + old[at:]).encode()


MISSING = "\n\\ No newline at end of file\n"


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.sampled_from(["a", "b", "", "a b", "c\r"]), max_size=40),
    edits=st.lists(
        st.tuples(
            st.integers(0, 40), st.integers(0, 2),
            st.lists(st.sampled_from(["a", "x", ""]), max_size=3),
        ),
        max_size=5,
    ),
    final=st.booleans(),
)
def test_any_local_edits_round_trip(
    lines: list[str], edits: list[tuple[int, int, list[str]]], final: bool
) -> None:
    before = list(lines)
    after = list(lines)
    for at, removed, added in sorted(edits, reverse=True):
        after[at : at + removed] = added
    a = ("\n".join(before) + ("\n" if final and before else "")).encode()
    b = ("\n".join(after) + ("\n" if final and after else "")).encode()
    diff = "".join(file_diff("f", a, b)).splitlines(keepends=True)
    merged: list[str] = []
    for line in diff:  # re-attach the "\ No newline" marker to its line
        if line.startswith("\\") and merged:
            merged[-1] += line
        else:
            merged.append(line)
    assert (diff == []) == (a == b)
    if diff:
        assert apply_diff(a, merged) == b
