"""Only the documents that can hold the image are composed (regions.py), and
lines still count in the whole file."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoter import images
from promoter.errors import ConflictError, InputError
from promoter.manifests import find_references, plan_update
from promoter.manifests.regions import Prefilter, split

POD = "kind: Pod\nspec:\n  containers:\n  - image: x/api:1\n"
FILLER = "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n"
REF = images.parse_new("x/api:2")


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "m.yaml").write_text(text)
    return tmp_path


def test_split_joins_back_and_marks_only_whole_names() -> None:
    body = FILLER + "---\n" + POD + "--- # c\n" + FILLER + "---\n"
    parts = list(split(body, Prefilter(("api",), False)))
    assert "".join(p.text for p in parts) == body
    assert [(p.line, p.wanted) for p in parts] == [(0, False), (3, True), (8, False), (12, False)]


def test_lines_count_in_the_whole_file(tmp_path: Path) -> None:
    root = write(tmp_path, FILLER + "---\r\n" + FILLER + "---\n" + POD)
    plan = plan_update(root, ["m.yaml"], REF)
    [change] = plan.changes
    assert (change.line, change.column) == (12, 12)
    [found] = find_references(root, ["m.yaml"], "x/api")
    assert (found.line, found.column) == (12, 12)
    assert plan.edits[0].after.decode() == (FILLER + "---\r\n" + FILLER + "---\n" + POD).replace(
        "api:1", "api:2"
    )


def test_errors_name_the_line_in_the_whole_file(tmp_path: Path) -> None:
    root = write(tmp_path, FILLER + "---\n" + POD + "  - image: [x/api:1\n")
    with pytest.raises(InputError, match=r"^m\.yaml:9: invalid YAML"):
        plan_update(root, ["m.yaml"], REF)
    root = write(tmp_path, FILLER + "---\n" + POD.replace(":1", ":0"))
    with pytest.raises(ConflictError, match=r"^m\.yaml:8: "):
        plan_update(root, ["m.yaml"], REF, expect="1")


def test_skips_count_in_the_whole_file(tmp_path: Path) -> None:
    root = write(tmp_path, FILLER + "---\n" + "script: |\n  docker run x/api:1\n")
    [skip] = plan_update(root, ["m.yaml"], REF).skipped
    assert skip.line == 6


def test_document_without_the_image_is_not_parsed(tmp_path: Path) -> None:
    root = write(tmp_path, "broken: [\n---\n" + POD)
    assert [c.line for c in plan_update(root, ["m.yaml"], REF).changes] == [6]


def test_directives_keep_the_file_whole(tmp_path: Path) -> None:
    root = write(tmp_path, "%YAML 1.1\n---\n" + POD + "---\n" + POD)
    assert [c.line for c in plan_update(root, ["m.yaml"], REF).changes] == [6, 11]


@pytest.mark.parametrize(
    ("line", "wanted"),
    [
        ("app.kubernetes.io/part-of: api", False),
        ("  - team: api  # owner", False),
        ("repository: api", True),
        ("  - name: api", True),
        ("newName: x/api", True),
        ("value: api", True),
        ("image: x/api:1", True),
        ("part-of: x/api:1", True),  # a tag: could be a reference in a block scalar
        ("part-of: &a api", True),
        ("part-of: 'api'", True),
        ("- api", True),
        ("x: {part-of: api}", True),
    ],
)
def test_harmless_lines(line: str, wanted: bool) -> None:
    body = "a: 1\n" + line + "\nb: 2\n"
    [region] = split(body, Prefilter(("api",), False))
    assert region.wanted is wanted
    [strict] = split(body, Prefilter(("api",), True))
    assert strict.wanted


def test_label_only_document_is_not_parsed(tmp_path: Path) -> None:
    root = write(tmp_path, "metadata:\n  labels: \n    part-of: api\nbroken: [\n---\n" + POD)
    assert [c.line for c in plan_update(root, ["m.yaml"], REF).changes] == [9]


@pytest.mark.parametrize(
    ("body", "regions"),
    [
        (FILLER + "---\n" + POD, 2),
        (FILLER + "---" + "\n" + POD + "---", 3),  # a start at the very end
        (FILLER + "---x: 1\n" + POD, 1),  # not a document start
        (FILLER + "...x: 1\n---\n" + POD, 2),  # not a document end
        (FILLER + "...\n---\n" + POD, 0),  # a document end: not split
        (FILLER + "... # end\n---\n" + POD, 0),
        (FILLER + "---\n" + POD + "...", 0),  # a document end at the very end
        ("...\n" + POD, 0),
        ("%YAML 1.1\n---\n" + POD, 0),  # a directive: not split
        (FILLER + "---\n%TAG ! tag:x,2000:\n---\n" + POD, 0),
        (FILLER + "a: 50%\n---\n" + POD, 2),  # a % inside a line is no directive
    ],
)
def test_which_texts_are_split(body: str, regions: int) -> None:
    """``---`` lines split; a ``...`` line or a directive line anywhere means
    the text is one region (0 here: not split, whatever it holds)."""
    parts = list(split(body, Prefilter(("api",), False)))
    assert "".join(p.text for p in parts) == body
    assert len(parts) == (regions or 1)
    if not regions:
        assert parts[0].wanted
