"""Walking, bad input, compare-and-swap and all-or-nothing writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from promoter import images
from promoter.errors import ConflictError, InputError, PromoterError
from promoter.manifests import find_references, plan_update, unified_diff, write_plan

POD = "spec:\n  containers:\n  - image: x/api:1\n"
REF = images.parse_new("x/api:2")


def tree(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode() if isinstance(text, str) else text)
    return tmp_path


def test_walk_selects_manifest_files(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "a/dep.yaml": POD, "a/dep.yml": POD,
        "b/Kustomization": "images:\n- name: x/api\n  newTag: '1'\n",
        "c/pod.json": '{"spec": {"containers": [{"image": "x/api:1"}]}}',
        "notes.txt": POD, ".git/x.yaml": POD, "other.yaml": POD.replace("api", "web"),
    })
    files = [e.file for e in plan_update(root, ["."], REF).edits]
    assert files == ["a/dep.yaml", "a/dep.yml", "b/Kustomization", "c/pod.json"]


def test_find_references(tmp_path: Path) -> None:
    root = tree(tmp_path, {"v.yaml": "image:\n  repository: x/api\n  tag: v1\n"})
    [found] = find_references(root, ["."], "docker.io/x/api")
    assert (found.line, found.column, found.path, str(found.ref)) == (3, 8, "image.tag", "x/api:v1")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("spec: [x/api:1\n", "invalid YAML"),
        ("a: x/api:1\na: 2\n", "duplicate key"),
        ("a: &a ['x/api:1', x, x, x, x, x, x, x, x]\n"
         + "".join(f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n"
                   for p, n in zip("abcdefgh", "bcdefghi", strict=True)), "alias"),
        (b"a: x/api:1 \xff\n", "UTF-8"),
    ],
)
def test_bad_file_named_is_input_error_walked_is_skipped(
    tmp_path: Path, text: str | bytes, reason: str
) -> None:
    root = tree(tmp_path, {"bad.yaml": text, "ok.yaml": POD})
    with pytest.raises(InputError, match=rf"^bad.yaml(:\d+)?: .*{reason}.*nothing was written"):
        plan_update(root, ["bad.yaml", "ok.yaml"], REF)
    plan = plan_update(root, ["."], REF)
    assert [s.file for s in plan.skipped] == ["bad.yaml"] and reason in plan.skipped[0].reason
    assert [e.file for e in plan.edits] == ["ok.yaml"]


def test_huge_file_is_refused_without_parsing(tmp_path: Path) -> None:
    root = tree(tmp_path, {"big.yaml": POD + "# " + "x" * (50 * 1024 * 1024) + "\n"})
    with pytest.raises(InputError, match=r"big\.yaml: file larger than"):
        plan_update(root, ["big.yaml"], REF)


def test_symlink_out_of_tree_is_refused(tmp_path: Path) -> None:
    outside = tree(tmp_path / "outside", {"dep.yaml": POD})
    root = tree(tmp_path / "repo", {"in.yaml": POD})
    os.symlink(outside / "dep.yaml", root / "link.yaml")
    with pytest.raises(InputError, match=r"link\.yaml leads outside"):
        plan_update(root, ["."], REF)
    with pytest.raises(InputError, match="leads outside"):
        plan_update(root, ["../outside"], REF)


def test_symlink_inside_tree_is_not_followed_twice(tmp_path: Path) -> None:
    root = tree(tmp_path, {"a/dep.yaml": POD})
    os.symlink(root / "a", root / "b")
    assert [e.file for e in plan_update(root, ["."], REF).edits] == ["a/dep.yaml"]


def test_expect_refuses_when_any_reference_differs(tmp_path: Path) -> None:
    root = tree(tmp_path, {"a.yaml": POD, "b.yaml": POD.replace(":1", ":0")})
    with pytest.raises(ConflictError, match=r"b.yaml:3: .* is '0', not '1'"):
        plan_update(root, ["."], REF, expect="1")
    assert len(plan_update(root, ["a.yaml"], REF, expect="1").edits) == 1


def test_write_plan_and_diff(tmp_path: Path) -> None:
    root = tree(tmp_path, {"a.yaml": POD, "b.yaml": POD.rstrip("\n")})
    os.chmod(root / "a.yaml", 0o640)
    plan = plan_update(root, ["."], REF)
    diff = unified_diff(plan)
    assert "--- a/a.yaml\n+++ b/a.yaml\n" in diff and "\\ No newline at end of file" in diff
    write_plan(root, plan)
    assert (root / "a.yaml").read_text() == POD.replace(":1", ":2")
    assert (root / "a.yaml").stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in root.iterdir()) == ["a.yaml", "b.yaml"]


def test_write_plan_all_or_nothing(tmp_path: Path) -> None:
    root = tree(tmp_path, {"a.yaml": POD, "b.yaml": POD})
    plan = plan_update(root, ["."], REF)
    (root / "b.yaml").write_text(POD + "# changed meanwhile\n")
    with pytest.raises(PromoterError, match=r"b\.yaml changed while planning"):
        write_plan(root, plan)
    assert (root / "a.yaml").read_text() == POD
    assert sorted(p.name for p in root.iterdir()) == ["a.yaml", "b.yaml"]
