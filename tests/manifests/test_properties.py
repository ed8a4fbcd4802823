"""Property tests: whatever the formatting around it, an update changes only
the bytes of the value (and the value's quotes where a plain number-like tag
must become a string)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from promoter import images
from promoter.manifests import plan_update

MARK = "\x00VALUE\x00"
NAMES = ["ghcr.io/acme/api", "localhost:5000/app", "nginx", "registry.local:5000/team/app"]
OLD_TAGS = ["1.0", "0.1", "latest", "v2.3.4"]
NEW_TAGS = ["1.10", "2.0.1", "v3", "0.2"]
QUOTES = {"plain": "{}", "single": "'{}'", "double": '"{}"'}


@st.composite
def pod_documents(draw: st.DrawFn) -> tuple[str, str, str, str, str]:
    """(template with MARK where the value text goes, style, name, old tag, list key)."""
    key = draw(st.sampled_from(["containers", "initContainers", "ephemeralContainers"]))
    ind = " " * draw(st.sampled_from([2, 4]))
    dash = draw(st.sampled_from(["- ", ind[:-2] + "- " if len(ind) > 2 else "- "]))
    style = draw(st.sampled_from(["plain", "single", "double"]))
    flow = draw(st.booleans())
    if flow:
        style = style if style != "plain" else "double"  # libyaml: no ':' in flow plain
    props = draw(st.sampled_from(["", "!!str ", "&img "]))
    comment = draw(st.sampled_from(["", "  # note\twith tab", ' # {"$imagepolicy": "ns:p"}']))
    value = props + QUOTES[style].format(MARK)
    if flow:
        body = [f"{ind}{ind}{key}: [{{name: a, image: {value}}}]{comment}"]
    else:
        item = f"{ind}{ind}{' ' * len(dash)}"
        body = [f"{ind}{ind}{key}:", f"{ind}{ind}{dash}name: a", f"{item}image: {value}{comment}"]
    lines = ["kind: Deployment", "# leading comment \t", "spec:", f"{ind}spec:", *body]
    if draw(st.booleans()):
        lines += ["merged:", f"{ind}<<: {{a: 1}}", f"{ind}b: 2"]
    if props == "&img ":
        lines += ["copy: *img"]
    before = draw(
        st.sampled_from(["", "%YAML 1.1\n---\n", "---\nkind: ConfigMap\ndata: {a: b}\n---\n"])
    )
    after = draw(st.sampled_from(["", "---\nkind: Service\n", "...\n"]))
    template = before + _join(draw, lines) + after
    return template, style, draw(st.sampled_from(NAMES)), draw(st.sampled_from(OLD_TAGS)), key


def _join(draw: st.DrawFn, lines: list[str]) -> str:
    ends = draw(st.sampled_from(["lf", "crlf", "mixed"]))
    out = []
    for line in lines:
        crlf = ends == "crlf" or (ends == "mixed" and draw(st.booleans()))
        out.append(line + ("\r\n" if crlf else "\n"))
    return "".join(out)


def _edit(text: str, ref: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "m.yaml").write_bytes(text.encode("utf-8"))
        plan = plan_update(Path(tmp), ["."], images.parse_new(ref))
        return plan.edits[0].after.decode("utf-8") if plan.edits else text


@settings(max_examples=60, deadline=None)
@given(pod_documents(), st.sampled_from(NEW_TAGS), st.booleans(), st.booleans())
def test_container_value_only(
    doc: tuple[str, str, str, str, str], new_tag: str, bom: bool, final_newline: bool
) -> None:
    template, _, name, old_tag, _ = doc
    if not final_newline:
        template = template.rstrip("\r\n")
    prefix = "\ufeff" if bom else ""
    old = prefix + template.replace(MARK, f"{name}:{old_tag}")
    want = prefix + template.replace(MARK, f"{name}:{new_tag}")
    assert _edit(old, f"{name}:{new_tag}") == want


@st.composite
def values_documents(draw: st.DrawFn) -> tuple[str, str]:
    ind = " " * draw(st.sampled_from([2, 3, 4]))
    style = draw(st.sampled_from(["plain", "single", "double"]))
    comment = draw(st.sampled_from(["", "   # pinned", "\t# tab"]))
    repo_key = draw(st.sampled_from(["repository", "image"]))
    lines = [
        "# values", "replicaCount: 1", "image:", f"{ind}{repo_key}: ghcr.io/acme/api",
        f"{ind}tag: {QUOTES[style].format(MARK)}{comment}", f"{ind}pullPolicy: IfNotPresent",
    ]
    if draw(st.booleans()):
        lines = [*lines[:2], "other: &o {repository: x/y, tag: '1'}", "also: *o", *lines[2:]]
    return _join(draw, lines), style


@settings(max_examples=40, deadline=None)
@given(values_documents(), st.sampled_from([*OLD_TAGS, ""]), st.sampled_from(NEW_TAGS))
def test_helm_tag_value_only(doc: tuple[str, str], old_tag: str, new_tag: str) -> None:
    template, style = doc
    if style == "plain" and old_tag == "":
        return  # an empty plain value is null, not a tag
    new_text = new_tag
    if style == "plain" and new_tag in ("1.10", "0.2"):
        new_text = f'"{new_tag}"'  # would read back as a float: quoted
    old = template.replace(MARK, old_tag)
    assert _edit(old, f"ghcr.io/acme/api:{new_tag}") == template.replace(MARK, new_text)
