"""``promoter update`` and ``promoter diff``: edit a working tree in place."""

from __future__ import annotations

from typing import Any

import click

from promoter.cli import env_option, stacked

_options = stacked(
    env_option("--key", "keys", multiple=True, metavar="KEY",
               help="Also edit the value at this key path (image.tag); repeatable."),
    env_option("--check-registry", is_flag=True,
               help="Refuse unless REF exists in its registry (exit 2 if missing)."),
    env_option("--pin-digest", is_flag=True,
               help="Write TAG@DIGEST resolved from the registry (checks it too)."),
    env_option("--insecure-registry", multiple=True, metavar="HOST[:PORT]",
               help="Registry to speak plain HTTP to (in-cluster; repeatable)."),
    env_option("--expect", metavar="TAG",
               help="Refuse (exit 1, nothing written) unless every reference now carries TAG."),
    env_option("--output", type=click.Choice(["text", "json"]), default="text",
               help="text (default) or one JSON object on stdout."),
    click.argument("ref"),
    click.argument("paths", nargs=-1, type=click.Path()),
)


@click.command()
@_options
@env_option("--dry-run", is_flag=True, help="Print a unified diff; write nothing.")
def update(
    ref: str, paths: tuple[str, ...], output: str, expect: str | None, keys: tuple[str, ...],
    check_registry: bool, pin_digest: bool, insecure_registry: tuple[str, ...], dry_run: bool,
) -> None:
    """Give every reference to REF's image under PATHs (default .) REF's tag
    and/or digest, changing only the bytes of the values."""
    checked = _checked(ref, check_registry, pin_digest, insecure_registry)
    _run(checked, paths, output, expect, keys, dry_run)


@click.command()
@_options
def diff(
    ref: str, paths: tuple[str, ...], output: str, expect: str | None, keys: tuple[str, ...],
    check_registry: bool, pin_digest: bool, insecure_registry: tuple[str, ...],
) -> None:
    """Show what ``update`` would change, as a unified diff (same as update --dry-run)."""
    checked = _checked(ref, check_registry, pin_digest, insecure_registry)
    _run(checked, paths, output, expect, keys, True)


def _checked(ref_text: str, check: bool, pin: bool, insecure: tuple[str, ...]) -> str:
    """REF, checked against its registry (and pinned) when asked."""
    if not (check or pin):
        return ref_text
    from promoter.cli.common import setup_logging

    setup_logging()  # the registry's HTTP client logs (and may warn) from here on
    import os

    from promoter import images
    from promoter.registry import gate
    from promoter.registry.options import Options

    ref, _ = gate.checked(Options(insecure=insecure), images.parse_new(ref_text), os.environ,
                          check=True, pin=pin, where="--pin-digest")
    return str(ref)


def _run(
    ref_text: str, paths: tuple[str, ...], output: str, expect: str | None,
    keys: tuple[str, ...], dry_run: bool,
) -> None:
    from pathlib import Path

    from promoter import images
    from promoter.manifests import plan_update, unified_diff, write_plan

    ref = images.parse_new(ref_text)
    root, relative = _root(Path.cwd(), paths)
    _finish_interrupted(root, dry_run)
    plan = plan_update(root, relative, ref, keys=keys, expect=expect)
    if not dry_run:
        write_plan(root, plan)
    if output == "json":
        import json

        click.echo(json.dumps(_as_json(plan), indent=2))
    elif dry_run:
        click.echo(unified_diff(plan), nl=False)
        for s in plan.skipped:
            click.echo(f"skipped {s.file}:{s.line}: {s.reason}", err=True)
    else:
        _text(plan)
    if output == "json" and dry_run:
        click.echo(unified_diff(plan), nl=False, err=True)
    _end_process()


def _end_process() -> None:
    """Exit 0 now when promoter is its own process: everything is written and
    printed, and the interpreter's teardown of every module (about 5 ms, 9 ms of
    CPU) does nothing an update needs. Not with logging loaded (its handlers
    flush at exit), and not when the output cannot be flushed (the usual exit
    reports that)."""
    import os
    import sys

    from promoter.cli import PROCESS

    if not PROCESS["own"] or "logging" in sys.modules:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(0)


def _finish_interrupted(root: Any, dry_run: bool) -> None:
    """Complete or roll back an update that was killed in ``root`` (update only:
    a dry run writes nothing, so it refuses instead)."""
    from promoter.errors import PromoterError
    from promoter.manifests import journal

    if dry_run and journal.pending(root):
        raise PromoterError(
            f"an interrupted update left {root / journal.NAME}; run promoter update"
            " (not --dry-run/diff) to complete or roll it back"
        )
    if not dry_run:
        note = journal.recover(root)
        if note:
            click.echo(f"note: {note}", err=True)


def _root(cwd: Any, paths: tuple[str, ...]) -> tuple[Any, list[str]]:
    """The root files are named relative to, and the PATHs relative to it: the
    git repository holding every PATH (so a skip or change names the file as
    the repository does), else the working directory or (for PATHs elsewhere)
    their common directory. Symlinks must not lead out of the root."""
    import os
    from pathlib import Path

    here = os.path.realpath(cwd)
    given = list(paths) or ["."]
    absolute = [os.path.abspath(os.path.join(cwd, p)) for p in given]
    dirs = [p if os.path.isdir(p) else os.path.dirname(p) for p in absolute]
    common = Path(os.path.commonpath(dirs))
    top = next((d for d in (common, *common.parents) if (d / ".git").exists()), None)
    if top is not None:
        return top, [os.path.relpath(p, top) for p in absolute]
    inside = all(d == here or d.startswith(here + os.sep) for d in dirs)
    if inside:
        return cwd, given
    return common, [os.path.relpath(p, common) for p in absolute]


def _as_json(plan: Any) -> dict[str, Any]:
    return {
        "changes": [
            {
                "file": c.file, "line": c.line, "column": c.column, "path": c.path,
                "kind": c.kind, "old": c.old, "new": c.new, "notes": list(c.notes),
            }
            for c in plan.changes
        ],
        "skipped": [{"file": s.file, "line": s.line, "reason": s.reason} for s in plan.skipped],
    }


def _text(plan: Any) -> None:
    for c in plan.changes:
        click.echo(f"{c.file}:{c.line}:{c.column}: {c.path}: {c.old or '(none)'} -> {c.new}")
        for note in c.notes:
            click.echo(f"  note: {note}")
    for s in plan.skipped:
        click.echo(f"skipped {s.file}:{s.line}: {s.reason}", err=True)
    files = len(plan.edits)
    click.echo(f"{len(plan.changes)} value(s) changed in {files} file(s)", err=True)
