"""Benchmark ``promoter promote`` against doing the same by hand with git.

    .venv/bin/python benchmarks/promote_bench.py [--files 50000] [--commits 2000] [--runs 5]

1. Generates a config repository of FILES files and COMMITS commits with
   ``git fast-import`` (1,000 apps with kustomize overlays for staging and
   production, plus filler manifests; each later commit bumps one tag).
2. Serves it with ``git http-backend`` on 127.0.0.1 behind Basic auth
   (tests/support/gitserver.py).
3. Times, alternating, RUNS times each:
   - promoter: ``promoter promote --repo URL --app APP --env staging --image ... --direct``
     (a fresh process each time: Python start-up included);
   - by hand: ``git clone --filter=blob:none --sparse``, ``git sparse-checkout set``
     of the one overlay, an in-place edit, ``git commit``, ``git push``.
4. Times 20 ``promoter promote --direct`` processes of 20 apps started at once
   against one remote (all must land).
Prints a Markdown table; numbers go into benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import base64
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.gitserver import GitServer  # noqa: E402

USER, TOKEN = "x-access-token", "bench-token"
APPS = 1000
PROMOTER = [sys.executable, "-m", "promoter"]


def overlay(app: str, env: str, tag: str) -> bytes:
    return (f"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            f"namespace: {env}\nresources:\n  - ../../base\nimages:\n"
            f"  - name: ghcr.io/acme/{app}\n    newTag: \"{tag}\"\n").encode()


def filler(app: str, index: int) -> bytes:
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}-{index}\n"
            f"data:\n  key: value-{index}\n").encode()


def files(total: int) -> Iterator[tuple[str, bytes]]:
    """``total`` files: two overlays per app, the rest filler spread over apps."""
    yield ".promoter.yaml", config_file()
    count = 1
    for i in range(APPS):
        app = f"app{i:04d}"
        for env in ("staging", "production"):
            yield f"apps/{app}/overlays/{env}/kustomization.yaml", overlay(app, env, "1.0.0")
            count += 1
    index = 0
    while count < total:
        app = f"app{index % APPS:04d}"
        yield f"apps/{app}/base/config-{index // APPS:03d}.yaml", filler(app, index)
        index += 1
        count += 1


def config_file() -> bytes:
    lines = ["environments:", "  staging:", '    paths: ["apps/{app}/overlays/{env}"]',
             "  production:", '    paths: ["apps/{app}/overlays/{env}"]',
             "    promote_from: staging", "apps:"]
    for i in range(APPS):
        lines += [f"  app{i:04d}:", f"    image: ghcr.io/acme/app{i:04d}"]
    return ("\n".join(lines) + "\n").encode()


def fast_import_stream(total: int, commits: int) -> Iterator[bytes]:
    stamp = 1_700_000_000

    def commit(message: str, body: list[bytes], n: int) -> Iterator[bytes]:
        msg = message.encode()
        yield b"commit refs/heads/main\n"
        yield f"committer bench <bench@example.test> {stamp + n} +0000\n".encode()
        yield b"data %d\n%s\n" % (len(msg), msg)
        yield from body

    def modify(path: str, data: bytes) -> bytes:
        return b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data)

    yield from commit("initial", [modify(p, d) for p, d in files(total)], 0)
    for n in range(1, commits):
        app, env = f"app{(n * 7919) % APPS:04d}", ("staging", "production")[n % 2]
        path = f"apps/{app}/overlays/{env}/kustomization.yaml"
        yield from commit(f"bump {app} {env}", [modify(path, overlay(app, env, f"1.0.{n}"))], n)


def generate(bare: Path, total: int, commits: int) -> float:
    start = time.perf_counter()
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=bare, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for chunk in fast_import_stream(total, commits):
        proc.stdin.write(chunk)
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "gc", "-q", "--aggressive"], cwd=bare, check=True)
    return time.perf_counter() - start


def children_cpu() -> float:
    """User+system CPU seconds of finished child processes (git, and the
    server's git http-backend: the same server work for both contenders)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(fn: Callable[[], None]) -> tuple[float, float]:
    """(wall seconds, children CPU seconds) of ``fn()``."""
    cpu, start = children_cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - start, children_cpu() - cpu


def auth_env() -> dict[str, str]:
    header = "Authorization: Basic " + base64.b64encode(f"{USER}:{TOKEN}".encode()).decode()
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "http.extraHeader", "GIT_CONFIG_VALUE_0": header,
            "GIT_AUTHOR_NAME": "hand", "GIT_AUTHOR_EMAIL": "hand@example.test",
            "GIT_COMMITTER_NAME": "hand", "GIT_COMMITTER_EMAIL": "hand@example.test"}


def by_hand(url: str, app: str, tag: str, scratch: Path) -> tuple[float, float]:
    work = scratch / f"hand-{tag}"
    env = auth_env()
    path = f"apps/{app}/overlays/staging"
    git = ["git", "-C", str(work)]

    def steps() -> None:
        subprocess.run(["git", "clone", "-q", "--filter=blob:none", "--sparse", url, str(work)],
                       env=env, check=True)
        subprocess.run([*git, "sparse-checkout", "set", path], env=env, check=True)
        target = work / path / "kustomization.yaml"
        head, _, _ = target.read_text().rpartition("newTag: ")
        target.write_text(f'{head}newTag: "{tag}"\n')
        subprocess.run([*git, "commit", "-q", "-am", f"promote {app} to staging: {tag}"],
                       env=env, check=True)
        subprocess.run([*git, "push", "-q", "origin", "HEAD:main"], env=env, check=True)

    return timed(steps)


def with_promoter(url: str, app: str, tag: str, direct: bool = True) -> tuple[float, float]:
    env = {**os.environ, "PROMOTER_TOKEN": TOKEN}
    args = [*PROMOTER, "promote", "--repo", url, "--app", app, "--env", "staging",
            "--image", f"ghcr.io/acme/{app}:{tag}", "--output", "json",
            *(["--direct"] if direct else [])]

    def run() -> None:
        subprocess.run(args, env=env, check=True, capture_output=True)

    return timed(run)


def race(url: str, apps: list[str]) -> float:
    env = {**os.environ, "PROMOTER_TOKEN": TOKEN}
    start = time.perf_counter()
    procs = [subprocess.Popen(
        [*PROMOTER, "promote", "--repo", url, "--app", app, "--env", "production",
         "--image", f"ghcr.io/acme/{app}:9.9.9", "--direct", "--output", "json"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for app in apps]
    failures = [p for p in procs if p.wait() != 0]
    elapsed = time.perf_counter() - start
    if failures:
        raise SystemExit(f"{len(failures)} of {len(apps)} racing promotions failed")
    return elapsed


def landed(bare: Path, apps: list[str]) -> bool:
    return all('newTag: "9.9.9"' in subprocess.run(
        ["git", "show", f"main:apps/{app}/overlays/production/kustomization.yaml"],
        cwd=bare, capture_output=True, text=True, check=True).stdout for app in apps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--commits", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="promote-bench-") as tmp:
        scratch = Path(tmp)
        with GitServer(scratch / "srv", USER, TOKEN) as server:
            seconds = generate(server.path("config"), args.files, args.commits)
            print(f"generated {args.files} files, {args.commits} commits in {seconds:.1f} s")
            url = server.url("config")
            mine, hand, branch = [], [], []
            for run in range(args.runs):
                app = f"app{(run * 37) % APPS:04d}"
                mine.append(with_promoter(url, app, f"5.0.{run}"))
                hand.append(by_hand(url, f"app{(run * 37 + 500) % APPS:04d}", f"5.0.{run}",
                                    scratch))
                branch.append(with_promoter(url, f"app{(run * 37 + 250) % APPS:04d}",
                                            f"6.0.{run}", direct=False))
            apps = [f"app{i:04d}" for i in range(100, 120)]
            racing = race(url, apps)
            assert landed(server.path("config"), apps), "a racing promotion was lost"
    print(f"| measurement (median of {args.runs}) | wall (s) | CPU user+sys (s) |")
    print("|---|---|---|")
    rows = [("by hand: clone --filter=blob:none --sparse, sparse-checkout, edit, commit, push",
             hand), ("promoter promote --direct", mine),
            ("promoter promote (branch promoter/staging/APP)", branch)]
    for name, samples in rows:
        wall = statistics.median(w for w, _ in samples)
        cpu = statistics.median(c for _, c in samples)
        print(f"| {name} | {wall:.2f} | {cpu:.2f} |")
    ratio = [statistics.median(x[i] for x in mine) / statistics.median(x[i] for x in hand)
             for i in (0, 1)]
    print(f"| ratio promoter --direct / by hand | {ratio[0]:.2f}x | {ratio[1]:.2f}x |")
    print(f"| 20 concurrent promoter promote --direct, all landed | {racing:.2f} (one run) | |")


if __name__ == "__main__":
    main()
