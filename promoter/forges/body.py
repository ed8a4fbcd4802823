"""Titles and bodies of promoter's pull requests, shared by both forges.

The body ends with a hidden marker, ``<!-- promoter:{app}/{env} -->``, by which
promoter recognises its own pull requests (to update or supersede them).
"""

from __future__ import annotations

from promoter.forges import MARKER, PullRequestSpec
from promoter.registry.labels import summary
from promoter.template import fill, one_line, values

DEFAULT_TITLE = "Promote {app} to {env}: {new}"
__all__ = ["DEFAULT_TITLE", "has_marker", "marker", "render", "title"]


def marker(app: str, env: str) -> str:
    """The hidden marker of the promoter PR for ``app`` in ``env``."""
    return MARKER.format(app=app, env=env)


def has_marker(text: str | None, app: str, env: str) -> bool:
    """Whether ``text`` ends with the marker line (text quoted earlier in a body,
    from another PR's table say, does not count)."""
    lines = (text or "").strip().splitlines()
    return bool(lines) and lines[-1].strip() == marker(app, env)


def _values(spec: PullRequestSpec) -> dict[str, str]:
    return values(spec.app, spec.env, spec.image, [old for _, old, _ in spec.changes])


def title(spec: PullRequestSpec) -> str:
    """The PR title: ``spec.title`` (a template or text) or the default."""
    return fill(spec.title or DEFAULT_TITLE, _values(spec))


def render(spec: PullRequestSpec) -> str:
    """The PR body: the user's text, what changed, links, and the marker."""
    extra = fill(spec.body or "", _values(spec)).strip()
    parts = [extra] if extra else []
    parts.append(f"Promotes **{spec.app}** to **{spec.env}**" + _image(spec) + ".")
    if spec.changes:
        parts.append(_table(spec.changes))
    links = "\n".join(part for part in (_links(spec), summary(spec.provenance)) if part)
    if links:
        parts.append(links)
    parts.append("_Opened by promoter; it keeps this pull request up to date._")
    parts.append(marker(spec.app, spec.env))
    return "\n\n".join(parts) + "\n"


def _image(spec: PullRequestSpec) -> str:
    return f" (`{spec.image}`)" if spec.image else ""


def _cell(text: str) -> str:
    return "`" + one_line(text).replace("|", "\\|").replace("`", "'") + "`"


def _table(changes: tuple[tuple[str, str, str], ...]) -> str:
    rows = ["| File | Old | New |", "| --- | --- | --- |"]
    rows += [f"| {_cell(f)} | {_cell(o)} | {_cell(n)} |" for f, o, n in changes]
    return "\n".join(rows)


def _links(spec: PullRequestSpec) -> str:
    lines = []
    if spec.source_commit or spec.source_url:
        label = f"`{spec.source_commit[:12]}`" if spec.source_commit else "source commit"
        text = f"[{label}]({spec.source_url})" if spec.source_url else label
        lines.append(f"- Source commit: {text}")
    if spec.run_url:
        lines.append(f"- CI run: {spec.run_url}")
    return "\n".join(lines)
