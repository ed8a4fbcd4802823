"""PR titles and bodies."""

from __future__ import annotations

from promoter.forges import PullRequestSpec, body


def spec(**kw: object) -> PullRequestSpec:
    fields = dict(app="api", env="prod", branch="b", base="main", title="", body="",
                  image="ghcr.io/acme/api:2.0.0",
                  changes=(("a/values.yaml", "1.9.0", "2.0.0"), ("b|c.yaml", "1.9.0", "2.0.0")))
    fields.update(kw)
    return PullRequestSpec(**fields)  # type: ignore[arg-type]


def test_title_template_fills_known_placeholders_only() -> None:
    assert body.title(spec()) == "Promote api to prod: 2.0.0"
    filled = body.title(spec(title="{app}@{env}: {old} -> {new} {x}"))
    assert filled == "api@prod: 1.9.0 -> 2.0.0 {x}"


def test_body_has_user_text_table_links_and_marker_last() -> None:
    text = body.render(spec(body="Ticket {app}-1", source_commit="0123456789abcdef",
                            source_url="https://git.example/c/0123", run_url="https://ci/1"))
    assert text.startswith("Ticket api-1\n\n")
    assert "| `b\\|c.yaml` | `1.9.0` | `2.0.0` |" in text
    assert "[`0123456789ab`](https://git.example/c/0123)" in text and "https://ci/1" in text
    assert text.rstrip().endswith("<!-- promoter:api/prod -->")
    assert body.has_marker(text, "api", "prod") and not body.has_marker(text, "api", "staging")


def test_body_is_stable_for_the_same_spec() -> None:
    assert body.render(spec()) == body.render(spec())
