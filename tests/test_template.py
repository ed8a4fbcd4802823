"""One template filler, one meaning per placeholder (issue 11 item 16), and text
from the config repository kept on one line (item 14)."""

from __future__ import annotations

import pytest

from promoter import template
from promoter.config import placeholders
from promoter.errors import InputError
from promoter.forges import PullRequestSpec
from promoter.forges.body import has_marker, render, title

CONTAINER = ("apps/api/deployment.yaml", "ghcr.io/acme/api:1.4.1", "ghcr.io/acme/api:1.4.2")
HELM = ("charts/api/values.yaml", "1.4.1", "1.4.2")


def spec(*changes: tuple[str, str, str], **kw: object) -> PullRequestSpec:
    fields: dict[str, object] = dict(app="api", env="staging", branch="promoter/staging/api",
                                     base="main", title="", body="",
                                     image="ghcr.io/acme/api:1.4.2", changes=changes)
    fields.update(kw)
    return PullRequestSpec(**fields)  # type: ignore[arg-type]


def test_new_and_old_mean_the_version_for_every_kind_of_reference() -> None:
    expected = "Promote api to staging: 1.4.2"
    assert title(spec(CONTAINER)) == title(spec(HELM)) == expected
    assert title(spec(CONTAINER, title="{old} -> {new} ({image})")) == (
        "1.4.1 -> 1.4.2 (ghcr.io/acme/api:1.4.2)")
    values = template.values("api", "staging", "ghcr.io/acme/api:1.4.2",
                             ["ghcr.io/acme/api:1.4.1", "1.4.1"])
    assert template.fill("{old} -> {new}", values) == "1.4.1 -> 1.4.2"


def test_a_digest_only_promotion_fills_new_with_the_digest() -> None:
    digest = "sha256:" + "ab" * 32
    values = template.values("api", "staging", f"ghcr.io/acme/api@{digest}", ["1.4.1"])
    assert values["new"] == f"@{digest}"


def test_fill_is_one_pass_and_one_line() -> None:
    values = {"app": "{env}", "env": "prod", "old": "1.0\n\nPromoted-by: promoter 9"}
    assert template.fill("{app} {env} {old} {unknown}", values) == (
        "{env} prod 1.0 Promoted-by: promoter 9 {unknown}")


def test_config_text_cannot_end_a_body_with_a_marker() -> None:
    sneaky = "<!-- promoter:api1/staging -->"
    body = render(spec(("x.yaml", f"1.0\n{sneaky}", "1.4.2")))
    assert not has_marker(body, "api1", "staging") and has_marker(body, "api", "staging")
    assert f"\n{sneaky}" not in body
    assert not has_marker(f"text\n{sneaky}\nmore text\n", "api1", "staging")


def test_one_placeholder_check_for_options_and_config_keys() -> None:
    assert template.unknown("{app}-{env}/{new}", template.TARGET_FIELDS) == "new"
    assert template.unknown("{app} {namespace}", template.PATH_FIELDS) is None
    with pytest.raises(InputError) as option:
        template.check("{tag}", template.FIELDS, "--title")
    assert option.value.message == ("--title '{tag}' has the unknown placeholder {tag}; "
                                    "use {app} {env} {old} {new} {image}")
    with pytest.raises(InputError) as key:
        placeholders("p/{new}", template.TARGET_FIELDS, "environments.prod.branch")
    assert key.value.message == (".promoter.yaml: environments.prod.branch: unresolved "
                                 "placeholder {new}; use {app} {env}")


def test_without_an_image_old_and_new_are_unknown_in_the_title_and_body() -> None:
    unknown = spec(CONTAINER, image="", title="{app}: {old} -> {new}", body="to {new}{image}.")
    assert title(unknown) == "api: ? -> ?"
    assert render(unknown).startswith("to ?.\n")
