"""Benchmark ``promoter update`` on a generated config repository.

Generates benchmarks/work/config: 10,000 apps, each a Deployment and a
kustomization (20,000 files), then times (best of N runs, wall clock):

- ``promoter update ghcr.io/acme/app-04242:2.0.0 .`` vs ``grep -rl app-04242 .``
- ``promoter --help`` vs ``python -c "import click"``

Usage: ``.venv/bin/python benchmarks/update_bench.py [--apps N] [--runs N]``.
Targets: update <= 3x grep; --help <= 1.5x import click.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

WORK = Path(__file__).resolve().parent / "work"
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{n:05d}
  labels:
    app: app-{n:05d}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: app-{n:05d}
  template:
    metadata:
      labels:
        app: app-{n:05d}
    spec:
      containers:
      - name: app
        image: ghcr.io/acme/app-{n:05d}:1.0.0  # {{"$imagepolicy": "flux-system:app-{n:05d}"}}
        ports:
        - containerPort: 8080
        resources:
          limits: {{cpu: 500m, memory: 256Mi}}
"""
KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- deployment.yaml
images:
- name: ghcr.io/acme/app-{n:05d}
  newTag: 1.0.0
"""


def generate(root: Path, apps: int) -> None:
    if (root / f"apps/app-{apps - 1:05d}/kustomization.yaml").is_file():
        return
    shutil.rmtree(root, ignore_errors=True)
    for n in range(apps):
        app = root / "apps" / f"app-{n:05d}"
        app.mkdir(parents=True)
        (app / "deployment.yaml").write_text(DEPLOYMENT.format(n=n))
        (app / "kustomization.yaml").write_text(KUSTOMIZATION.format(n=n))


def best(cmd: list[str], cwd: Path, runs: int, cpu: bool = False) -> float:
    """Minimum wall time (or, with ``cpu``, user+system CPU time) over ``runs``."""
    times = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        times.append(used if cpu else wall)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = WORK / "config"
    generate(root, args.apps)
    app = f"app-{args.apps // 2:05d}"
    promoter = [sys.executable, "-m", "promoter"]
    best(["grep", "-rl", app, "."], root, 1)  # warm the page cache
    grep = best(["grep", "-rl", app, "."], root, args.runs)
    # alternate versions so every run really edits two files
    update = min(
        best([*promoter, "update", f"ghcr.io/acme/{app}:{v}", "."], root, 1)
        for v in ["2.0.0", "1.0.0"] * args.runs
    )
    grep_cpu = best(["grep", "-rl", app, "."], root, args.runs, cpu=True)
    same = [*promoter, "update", f"ghcr.io/acme/{app}:1.0.0", "."]  # already at 1.0.0
    update_cpu = best(same, root, args.runs, cpu=True)
    click = best([sys.executable, "-c", "import click"], root, args.runs)
    help_ = best([*promoter, "--help"], root, args.runs)
    click_cpu = best([sys.executable, "-c", "import click"], root, args.runs, cpu=True)
    help_cpu = best([*promoter, "--help"], root, args.runs, cpu=True)
    print(f"files: {2 * args.apps}")
    print(f"grep -rl {app} .: {grep:.3f} s")
    print(f"promoter update: {update:.3f} s ({update / grep:.2f}x grep; target <= 3x)")
    print(f"python -c 'import click': {click:.3f} s")
    print(f"promoter --help: {help_:.3f} s ({help_ / click:.2f}x import click; target <= 1.5x)")
    print(f"CPU time (user+sys): grep {grep_cpu:.3f} s, update {update_cpu:.3f} s "
          f"({update_cpu / grep_cpu:.2f}x); import click {click_cpu:.3f} s, "
          f"--help {help_cpu:.3f} s ({help_cpu / click_cpu:.2f}x)")


if __name__ == "__main__":
    main()
