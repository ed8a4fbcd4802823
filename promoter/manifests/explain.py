"""Why an update changed nothing and found nothing: one sentence that names the
file and says what to do, instead of a blanket "check the paths".

The first that holds: references were met but could not be edited (each skip
gives its reason); a PATH's kustomization has no
``images`` entry and its local resources do not use the image; a file mentions
the image's name but holds no reference promoter recognises (use keys); no
file under the PATHs mentions it (check the paths).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from promoter.manifests.overlay import overlays
from promoter.manifests.records import Found, Plan


def nothing_found(
    root: Path, paths: Sequence[str], image: str, plan: Plan,
    found_in: Sequence[Found] = (),
) -> str:
    """The reason, ending in what to do. ``found_in``: the references found."""
    where = ", ".join(paths) or "."
    if plan.skipped:
        first = plan.skipped[0]
        more = f" (and {len(plan.skipped) - 1} more)" if len(plan.skipped) > 1 else ""
        return (f"the references to {image} under {where} cannot be edited: "
                f"{first.file}:{first.line}: {first.reason}{more}")
    if found_in:
        ref = found_in[0]
        return (f"{ref.file}:{ref.line}: {ref.path} ({ref.ref.version or 'no tag'})"
                f" could not be given the new version; edit it by hand")
    for overlay in overlays(root, paths):  # nothing found: not even in its resources
        remote = " (remote resources and helmCharts are not read)" if overlay.remote else ""
        used = ", ".join(overlay.resources) or "none"
        return (f"{overlay.file} has no images entry for {image} and none of its local"
                f" resources ({used}) refers to it{remote}; add an images entry, or point"
                " the paths at the files that name the image")
    from promoter.manifests.scan import candidates

    last = image.rsplit("/", 1)[-1]
    mention = [c.file for c in candidates(root, paths, [last.encode()])]
    if mention:
        return (f"{mention[0]} mentions {last!r} but holds no reference to {image} that"
                " promoter recognises; name the field with keys (--key KEY)")
    return f"no file under {where} mentions {last!r}; check the paths"
