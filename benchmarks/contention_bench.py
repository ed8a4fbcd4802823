"""Benchmark contention: N ``promoter promote --direct`` of N different apps into
one repository, all started at once, against the same N run one after another
(the serial floor), in the same run.

    .venv/bin/python benchmarks/contention_bench.py [--apps 40] [--files 2000] [--runs 1]

The repository (``promote_bench.generate``: kustomize overlays per app plus
filler, FILES files, 200 commits) is served by ``git http-backend`` on
127.0.0.1 behind Basic auth (tests/support/gitserver.py). Each promotion is a
fresh process (Python start-up included). Every promotion must land: the
benchmark checks each app's tag on ``main`` and the number of new commits.
Prints a Markdown table; numbers go into benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from promote_bench import PROMOTER, TOKEN, USER, generate
from support.gitserver import GitServer


def argv(url: str, app: str, tag: str) -> list[str]:
    return [*PROMOTER, "promote", "--repo", url, "--app", app, "--env", "staging",
            "--image", f"ghcr.io/acme/{app}:{tag}", "--direct", "--no-registry", "--output", "json"]


def serial(url: str, apps: list[str], tag: str) -> float:
    env = {**os.environ, "PROMOTER_TOKEN": TOKEN}
    start = time.perf_counter()
    for app in apps:
        done = subprocess.run(argv(url, app, tag), env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{app}: exit {done.returncode}: {done.stderr.strip()}")
    return time.perf_counter() - start


def concurrent(url: str, apps: list[str], tag: str) -> float:
    env = {**os.environ, "PROMOTER_TOKEN": TOKEN}
    start = time.perf_counter()
    procs = [subprocess.Popen(argv(url, app, tag), env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) for app in apps]
    failed = [p for p in procs if p.wait() != 0]
    elapsed = time.perf_counter() - start
    if failed:
        error = failed[0].stderr.read().decode() if failed[0].stderr else ""
        raise SystemExit(f"{len(failed)} of {len(apps)} concurrent promotions failed: {error}")
    return elapsed


def check_landed(bare: Path, apps: list[str], tag: str, before: int) -> None:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=bare, capture_output=True, text=True,
                              check=True).stdout

    lost = [app for app in apps if f'newTag: "{tag}"' not in
            git("show", f"main:apps/{app}/overlays/staging/kustomization.yaml")]
    commits = int(git("rev-list", "--count", "main")) - before
    if lost or commits != len(apps):
        raise SystemExit(f"lost promotions: {lost}; {commits} new commits for {len(apps)}")


def count(bare: Path) -> int:
    return int(subprocess.run(["git", "rev-list", "--count", "main"], cwd=bare,
                              capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=40)
    parser.add_argument("--files", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    apps = [f"app{i:04d}" for i in range(100, 100 + args.apps)]
    rows = []
    with (tempfile.TemporaryDirectory(prefix="contention-bench-") as tmp,
          GitServer(Path(tmp) / "srv", USER, TOKEN) as server):
        bare = server.path("config")
        generate(bare, args.files, 200)
        url = server.url("config")
        for run in range(args.runs):
            before = count(bare)
            one_by_one = serial(url, apps, f"7.0.{run}")
            check_landed(bare, apps, f"7.0.{run}", before)
            before = count(bare)
            at_once = concurrent(url, apps, f"8.0.{run}")
            check_landed(bare, apps, f"8.0.{run}", before)
            rows.append((one_by_one, at_once))
    print(f"| run | {args.apps} one after another (s) | {args.apps} at once (s) | ratio |")
    print("|---|---|---|---|")
    for run, (one_by_one, at_once) in enumerate(rows, 1):
        print(f"| {run} | {one_by_one:.1f} | {at_once:.1f} | {at_once / one_by_one:.2f}x |")


if __name__ == "__main__":
    main()
