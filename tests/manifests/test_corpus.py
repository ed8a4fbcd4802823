"""Acceptance over the real-world corpus (vendored in tests/data/corpus).

For every file and each image repository named by its EXPECTED rows
(container-image, kustomize-images-entry, helm-split, argocd-helm-param), run
the engine with a new tag on that file; the new bytes must equal the old bytes
with exactly the expected value spans replaced (and, for a kustomize entry
without ``newTag``, one ``newTag:`` line added). No NEAR_MISSES row is touched.
The oracle here reads only EXPECTED.tsv, never the engine's own locate code.
"""

from __future__ import annotations

import csv
import functools
import re
from collections import defaultdict
from dataclasses import dataclass

import pytest
from support.data import data_file

from promoter import images
from promoter.errors import InputError
from promoter.manifests import plan_update
from promoter.manifests.render import needs_quotes

CORPUS = data_file("corpus")
CATEGORIES = {"container-image", "kustomize-images-entry", "helm-split", "argocd-helm-param"}
# Rows of category ``other`` that hold a full reference the engine edits (issue
# 14): a custom resource's ``spec.image`` (item 6) and the container ``value`` of
# a JSON6902 ``add`` operation (item 7). Chosen by key path, not by engine code.
FULL_OTHER = re.compile(r"spec\.image|\[\d+\]\.value\.image")
NEW_TAG = "9.9.9-promoted"
REPOSITORY_FIELDS = ("repository", "image", "name")

@dataclass(frozen=True)
class Row:
    file: str
    line: int
    col: int
    text: str
    category: str
    path: str
    doc: str
    style: str


@dataclass(frozen=True)
class Group:
    """The rows of one reference, the repositories it answers to, and the
    replacement (row -> new text) an update to NEW_TAG must make."""

    repositories: frozenset[str]
    replace: tuple[tuple[Row, str], ...]
    insert_after: Row | None = None  # kustomize entry without newTag


def _rows(name: str) -> list[dict[str, str]]:
    with (CORPUS / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


@functools.cache
def _expected() -> dict[str, list[Row]]:
    by_file: dict[str, list[Row]] = defaultdict(list)
    for r in _rows("EXPECTED.tsv") if (CORPUS / "EXPECTED.tsv").is_file() else []:
        category = r["category"]
        if category == "other" and FULL_OTHER.fullmatch(r["yaml_path"]):
            category = "container-image"
        if category in CATEGORIES:
            row = Row(r["local_path"], int(r["line"]), int(r["col"]), r["text"], category,
                      r["yaml_path"], r["doc_index"], r["quote_style"])
            by_file[row.file].append(row)
    return by_file


def _text_for(value: str, style: str) -> str:
    return f'"{value}"' if style == "plain" and needs_quotes(value) else value


def _full(row: Row) -> Group | None:
    prefix, sep, rest = row.text.rpartition("=")
    ref = images.try_parse(rest)
    if ref is None:
        return None
    repos = {ref.repository}
    if sep and images.try_parse(prefix):
        repos.add(images.normalise_repository(prefix))
    new = prefix + sep + ref.name + ":" + NEW_TAG
    return Group(frozenset(repos), ((row, _text_for(new, row.style)),))


def _split(rows: list[Row]) -> Group | None:
    fields = {r.path.rsplit(".", 1)[-1]: r for r in rows}
    kustomize = "newName" in fields or rows[0].category == "kustomize-images-entry"
    names = ("name", "newName") if kustomize else REPOSITORY_FIELDS
    repos = set()
    for key in names:
        if key in fields and fields[key].text and images.try_parse(fields[key].text):
            repo = fields[key].text
            if not kustomize and "registry" in fields and fields["registry"].text:
                repo = f"{fields['registry'].text}/{repo}"
            repos.add(images.normalise_repository(repo))
            if not kustomize:
                break
    tag_key = "newTag" if kustomize else "tag"
    if not repos or (tag_key not in fields and not kustomize):
        return None
    replace = []
    if tag_key in fields:
        replace.append((fields[tag_key], _text_for(NEW_TAG, fields[tag_key].style)))
    for key in ("digest", "sha"):
        if key in fields and fields[key].text:
            replace.append((fields[key], _text_for("", fields[key].style)))
    after = None if tag_key in fields else max(rows, key=lambda r: r.line)
    return Group(frozenset(repos), tuple(replace), after)


def groups(rows: list[Row]) -> list[Group]:
    out: list[Group] = []
    blocks: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        if row.category == "container-image" or row.path.endswith("]"):
            group = _full(row)
            if group:
                out.append(group)
        elif row.category == "argocd-helm-param":
            blocks[(row.doc, row.path.split("[", 1)[0] + "#param")].append(row)
        else:
            blocks[(row.doc, row.path.rsplit(".", 1)[0])].append(row)
    for (_, key), block in blocks.items():
        if not key.endswith("#param"):  # corpus params have no repository partner
            group = _split(block)
            if group:
                out.append(group)
    return out


def _offset(lines: list[str], row: Row) -> int:
    return sum(len(line) for line in lines[: row.line - 1]) + row.col - 1


def expected_bytes(text: str, chosen: list[Group]) -> str:
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []
    for group in chosen:
        for row, new in group.replace:
            start = _offset(lines, row)
            assert text[start : start + len(row.text)] == row.text, row
            edits.append((start, start + len(row.text), new))
        if group.insert_after is not None:
            edits.append(_insertion(lines, group.insert_after))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _insertion(lines: list[str], last: Row) -> tuple[int, int, str]:
    line = lines[last.line - 1]
    key_at = line.rfind(last.path.rsplit(".", 1)[-1] + ":", 0, last.col)
    entry = f"{' ' * key_at}newTag: {_text_for(NEW_TAG, last.style)}"
    ending = line[len(line.rstrip("\r\n")) :]
    at = sum(len(x) for x in lines[: last.line])
    if not ending:
        return at, at, ("\r\n" if "\r\n" in "".join(lines) else "\n") + entry
    return at, at, entry + ending


CASES = [
    (file, repo)
    for file, rows in sorted(_expected().items())
    for repo in sorted({r for g in groups(rows) for r in g.repositories})
]


def _near_misses() -> dict[str, list[tuple[int, int, str]]]:
    out: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    if (CORPUS / "NEAR_MISSES.tsv").is_file():
        for r in _rows("NEAR_MISSES.tsv"):
            if int(r["line"]) > 0 and r["text"]:
                out[r["local_path"]].append((int(r["line"]), int(r["col"]), r["text"]))
    return out


NEAR = _near_misses()


@pytest.mark.parametrize(("file", "repository"), CASES, ids=[f"{f}:{r}" for f, r in CASES])
def test_corpus_file(file: str, repository: str) -> None:
    rows = _expected()[file]
    before = (CORPUS / file).read_bytes()
    text = before.decode("utf-8")
    chosen = [g for g in groups(rows) if repository in g.repositories]
    want = expected_bytes(text, chosen)
    ref = images.parse_new(f"{repository}:{NEW_TAG}")
    plan = plan_update(CORPUS, [file], ref)
    got = plan.edits[0].after.decode("utf-8") if plan.edits else text
    assert got == want
    lines = got.splitlines(keepends=True)
    for line, col, near in NEAR.get(file, []):
        if line <= len(lines) and len(lines) == len(text.splitlines()):
            assert lines[line - 1][col - 1 : col - 1 + len(near)] == near


def test_corpus_counts(capsys: pytest.CaptureFixture[str]) -> None:
    expected = _expected()
    rows = sum(len(v) for v in expected.values())
    with capsys.disabled():
        print(f"\ncorpus: {len(expected)} files, {rows} expected rows, "
              f"{len(CASES)} (file, repository) runs, {sum(map(len, NEAR.values()))} near misses")
    assert len(CASES) > 100


def _untouchable() -> dict[str, list[tuple[int, int, str]]]:
    """NEAR_MISSES rows, and EXPECTED rows of category ``other`` (block scalars,
    status, CRD fields, compose files, ...): places no update may touch."""
    out: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for name, wanted in (("NEAR_MISSES.tsv", None), ("EXPECTED.tsv", "other")):
        for r in _rows(name) if (CORPUS / name).is_file() else []:
            if name == "EXPECTED.tsv" and FULL_OTHER.fullmatch(r["yaml_path"]):
                continue
            if int(r["line"]) > 0 and (wanted is None or r["category"] == wanted):
                out[r["local_path"]].append((int(r["line"]), int(r["col"]), r["text"]))
    return out


UNTOUCHABLE = _untouchable()


def _repositories(file: str, spots: list[tuple[int, int, str]]) -> list[str]:
    found = set()
    for _, _, text in spots:
        for word in text.replace("=", " ").replace('"', " ").split():
            ref = images.try_parse(word.removesuffix(":*"))
            if ref is not None and "/" in word + "/":
                found.add(ref.repository)
    for rows in (_expected().get(file, []),):
        for group in groups(rows):
            found |= group.repositories
    return sorted(found)


@pytest.mark.parametrize("file", sorted(UNTOUCHABLE))
def test_corpus_untouchable_spots(file: str) -> None:
    text = (CORPUS / file).read_bytes().decode("utf-8")
    lines = text.splitlines(keepends=True)
    spots = UNTOUCHABLE[file]
    for repository in _repositories(file, spots):
        ref = images.parse_new(f"{repository}:{NEW_TAG}")
        try:
            plan = plan_update(CORPUS, [file], ref)
        except InputError:
            continue  # an unparseable file named explicitly: refused, nothing written
        got = plan.edits[0].after.decode("utf-8").splitlines(keepends=True) if plan.edits else lines
        added = sorted(c.line for c in plan.changes if c.path.endswith(".newTag") and not c.old)
        for line, col, spot in spots:
            moved = line - 1 + _shift(added, line)
            assert got[moved] == lines[line - 1], (repository, line, col, spot)


def _shift(added: list[int], line: int) -> int:
    """How far old line ``line`` moved down, given the new lines inserted at ``added``."""
    shift = 0
    for at in added:
        if at <= line + shift:
            shift += 1
    return shift


# Issue 14 item 6: Helm values keys other than ``image`` holding a full
# reference (argo-events' chart: natsImage, metricsExporterImage, ...). Oracle: the
# uncommented ``<key>Image: <repository>:<tag>`` lines of the file, by regex.
IMAGE_KEY_CASES = [
    ("files/argoproj__argo-helm/charts/argo-events/values.yaml", "natsio/prometheus-nats-exporter"),
    ("files/argoproj__argo-helm/charts/argo-events/values.yaml", "nats"),
]


@pytest.mark.parametrize(("file", "written"), IMAGE_KEY_CASES)
def test_corpus_image_keys(file: str, written: str) -> None:
    text = (CORPUS / file).read_bytes().decode("utf-8")
    line = re.compile(rf"(?m)^(\s*[A-Za-z]+Image: {re.escape(written)}:)([\w.-]+)$")
    want, count = line.subn(lambda m: m.group(1) + NEW_TAG, text)
    assert count >= 4
    plan = plan_update(CORPUS, [file], images.parse_new(f"{written}:{NEW_TAG}"))
    assert plan.edits[0].after.decode("utf-8") == want
    assert {c.kind for c in plan.changes} == {"image-key"}


# Issue 14 item 8: a digest-only promotion over the whole corpus drops every
# stale tag, in every form, and says so; a tag slot with no digest key beside it
# is skipped (never ``tag@new-digest``).
DIGEST = "sha256:" + "c" * 64
FULL_KINDS = {"container-image", "image-key", "json6902", "argocd-kustomize-image"}


@pytest.mark.parametrize(("file", "repository"), CASES, ids=[f"{f}:{r}" for f, r in CASES])
def test_corpus_digest_only(file: str, repository: str) -> None:
    plan = plan_update(CORPUS, [file], images.parse_new(f"{repository}@{DIGEST}"))
    for change in plan.changes:
        old = images.try_parse(change.old.rpartition("=")[2])
        if change.kind in FULL_KINDS and old is not None:  # a full reference
            assert change.new.rpartition("=")[2] == f"{old.name}@{DIGEST}", change
            stale = old.tag is not None
        elif change.new in (DIGEST, DIGEST.partition(":")[2]):  # a digest slot
            continue
        else:  # a tag slot: emptied
            assert change.new == "", change
            stale = bool(change.old)
        assert any(n.startswith("stale tag") for n in change.notes) == stale, change
    for skip in plan.skipped:
        assert "block scalar" in skip.reason or "keeping a stale tag" in skip.reason, skip
    lines = (CORPUS / file).read_bytes().decode("utf-8").splitlines(keepends=True)
    got = plan.edits[0].after.decode("utf-8").splitlines(keepends=True) if plan.edits else lines
    extra = len(got) - len(lines)  # digest keys added to kustomize entries
    for line, _, _ in NEAR.get(file, []):
        if line <= len(lines):
            assert lines[line - 1] in got[line - 1 : line + extra]
