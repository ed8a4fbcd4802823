"""Benchmark ``promoter update`` / ``diff`` against ``grep -rl``, in one run.

Trees and files (generated under benchmarks/work, gitignored):

- ordinary trees: N apps, each a Deployment and a kustomization (2N files);
  ``promoter update ghcr.io/acme/app-XXXXX:<v> .`` vs ``grep -rl app-XXXXX .``;
- candidate-heavy trees: the same plus one copy of the argo-cd install.yaml
  (1.9 MB, tests/data/corpus) per 2,000 files; the image
  ``quay.io/argoproj/argocd`` is in all of them; vs ``grep -rl argocd .``;
- big files: one file of D Deployments (12,000 make 8 MB) referencing the
  image once, or in every document;
- ``promoter --help`` vs ``python -c "import click"``.

Every command runs as a subprocess; wall time, CPU (user+sys) and peak RSS
come from ``os.wait4``; each figure is the best of ``--runs``. Updates
alternate two versions so every run really edits. Ratios are taken in the
same run, interleaved, because the shared VM's load changes by the minute.

promoter's modules are byte-compiled first (``compileall``), as pip does when
it installs a wheel: with ``PYTHONDONTWRITEBYTECODE=1`` (set on these VMs) an
editable install otherwise compiles every module on every run. ``--python``
runs promoter with another interpreter, e.g. a venv with the wheel installed.

``--before DIR`` adds, interleaved in the same loops, promoter run from
``DIR/promoter`` (``git archive REV promoter | tar -x -C DIR``): a before/after
comparison under the same load.

``--in-process`` times only ``plan_update`` on the candidate-heavy trees, in
a fresh process per figure after one untimed plan (imports and page cache
warm): wall time, the CPU of the process and of the forked walk's child
(``RUSAGE_CHILDREN``), with the walk split (as shipped) and serial
(``SPLIT_AT`` out of reach), and with ``--before`` the same from that copy;
the variants run interleaved, best of ``--runs``.

Usage: ``.venv/bin/python benchmarks/update_bench.py [--apps 5000 10000 100000]
[--docs 4000 12000] [--runs 3] [--python PATH] [--before DIR] [--in-process]``.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.data import data_file

WORK = Path(__file__).resolve().parent / "work"
PROMOTER = [sys.executable, "-m", "promoter"]
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
        image: {image}  # {{"$imagepolicy": "flux-system:app-{n:05d}"}}
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
INSTALL = ("corpus", "files", "argoproj__argo-cd", "manifests", "install.yaml")
INSTALL_MB = data_file(*INSTALL).stat().st_size / 1e6
Measure = tuple[float, float, float]  # wall s, cpu s, peak RSS MB
BEFORE: dict[str, str] = {}  # the environment running promoter from --before's copy
PLAN_ONCE = """\
import resource, sys, time
from pathlib import Path
from promoter import images
from promoter.manifests import plan_update, scan
root, ref = Path(sys.argv[1]), images.parse_new(sys.argv[2])
if sys.argv[3] == "serial":
    scan.SPLIT_AT = 10**9
plan_update(root, ["."], ref)
me, kids, start = (resource.getrusage(resource.RUSAGE_SELF),
                   resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter())
plan_update(root, ["."], ref)
wall = time.perf_counter() - start
me2, kids2 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = lambda a, b: b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime
print(wall, cpu(me, me2), cpu(kids, kids2))
"""


def ordinary(apps: int, heavy: bool) -> Path:
    root = WORK / f"{'heavy' if heavy else 'tree'}-{apps}"
    if (root / "done").is_file():
        return root
    shutil.rmtree(root, ignore_errors=True)
    install = data_file(*INSTALL)
    for n in range(apps):
        app = root / "apps" / f"app-{n:05d}"
        app.mkdir(parents=True)
        image = f"ghcr.io/acme/app-{n:05d}:1.0.0"
        (app / "deployment.yaml").write_text(DEPLOYMENT.format(n=n, image=image))
        (app / "kustomization.yaml").write_text(KUSTOMIZATION.format(n=n))
        if heavy and n % 1000 == 0:  # one per 2,000 files
            shutil.copy(install, app / "install.yaml")
    (root / "done").write_text("")
    return root


def big_file(docs: int, refs: int) -> Path:
    root = WORK / f"big-{docs}-{refs}"
    if (root / "big.yaml").is_file():
        return root
    root.mkdir(parents=True, exist_ok=True)
    every = max(docs // refs, 1)
    note = "  annotations:\n    note: \"" + "padding " * 21 + "\"\n"  # 12,000 documents: 8 MB
    parts = ["---\n" + DEPLOYMENT.format(
        n=n, image="ghcr.io/acme/api:1.0.0" if n % every == 0 else f"ghcr.io/acme/w{n}:1.0.0"
    ).replace("  labels:\n", note + "  labels:\n", 1) for n in range(docs)]
    (root / "big.yaml").write_text("".join(parts))
    return root


def run(cmd: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> Measure:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):  # grep -l exits 1 on no match
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def best(runs: list[Measure]) -> Measure:
    return min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs)


def compare(
    label: str, base: list[str], ours: list[list[str]], cwd: Path, runs: int, target: str
) -> Measure:
    """Interleave ``base`` and ``ours`` (commands taken in turn), and with
    ``--before`` the same commands run from that copy of the source; print ratios."""
    run(base, cwd)  # warm the page cache
    run(ours[-1], cwd)  # and ours (the loop starts with ours[0]: an update still edits)
    a: list[Measure] = []
    b: list[Measure] = []
    c: list[Measure] = []
    for i in range(runs):
        a.append(run(base, cwd))
        if not BEFORE:
            b.append(run(ours[i % len(ours)], cwd))
            continue
        b.append(run(ours[0], cwd))  # then the other version from the copy: each one edits
        c.append(run(ours[-1], cwd, BEFORE))
    (wa, ca, _), (wb, cb, rss) = best(a), best(b)
    print(f"| {label} | {wa:.3f} s / {ca:.3f} s | {wb:.3f} s / {cb:.3f} s "
          f"| {wb / wa:.2f}x / {cb / ca:.2f}x | {rss:.0f} MB | {target} |")
    if c:
        wc, cc, rss_c = best(c)
        print(f"| {label}, before | {wa:.3f} s / {ca:.3f} s | {wc:.3f} s / {cc:.3f} s "
              f"| {wc / wa:.2f}x / {cc / ca:.2f}x | {rss_c:.0f} MB | |")
    return best(b)


def in_process(apps: int, runs: int) -> None:
    """plan_update alone, split and serial (and from --before's copy), interleaved."""
    root = ordinary(apps, heavy=True)
    files = 2 * apps + (apps + 999) // 1000
    sources = [("this tree", None), *([("before", BEFORE)] if BEFORE else [])]
    variants = [(f"{name}, {walk}", env, walk) for name, env in sources
                for walk in ("split", "serial")]
    times: dict[str, list[tuple[float, float, float]]] = {v[0]: [] for v in variants}
    for _ in range(runs):
        for label, env, walk in variants:
            out = subprocess.run(
                [PROMOTER[0], "-c", PLAN_ONCE, str(root), "quay.io/argoproj/argocd:9.9.9", walk],
                cwd=root, env=env, capture_output=True, text=True, check=True).stdout
            wall, mine, child = (float(x) for x in out.split())
            times[label].append((wall, mine, child))
    for label, got in times.items():
        wall = min(t[0] for t in got)
        mine, child = min(t[1] for t in got), min(t[2] for t in got)
        total = min(t[1] + t[2] for t in got)
        print(f"| plan_update, candidate-heavy, {files} files, {label} | {wall:.3f} s "
              f"| {mine:.3f} s | {child:.3f} s | {total:.3f} s |")


def updates(image: str, cwd: Path, command: str = "update") -> list[list[str]]:
    """Two commands that always change something: updates alternate 2.0.0 and
    1.0.0, diffs ask for versions no update writes."""
    versions = ("2.0.0", "1.0.0") if command == "update" else ("3.0.0", "4.0.0")
    return [[*PROMOTER, command, f"{image}:{v}", "."] for v in versions]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, nargs="*", default=[5_000, 10_000, 100_000])
    parser.add_argument("--docs", type=int, nargs="*", default=[4_000, 12_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--python", default=sys.executable, help="the interpreter for promoter")
    parser.add_argument("--before", metavar="DIR", help="also run promoter from DIR/promoter"
                        " (a copy of an older source: git archive REV promoter | tar -x -C DIR)")
    parser.add_argument("--in-process", action="store_true",
                        help="time plan_update alone on the candidate-heavy trees")
    args = parser.parse_args()
    runs = args.runs
    PROMOTER[0] = args.python
    compileall.compile_dir(Path(__file__).resolve().parents[1] / "promoter", quiet=1)
    if args.before:
        compileall.compile_dir(Path(args.before) / "promoter", quiet=1)
        BEFORE.update(os.environ, PYTHONPATH=str(Path(args.before).resolve()))
    if args.in_process:
        print(f"load average {_load()}")
        print("| in process | wall | CPU, this process | CPU, the child | CPU, both |")
        print("|---|---|---|---|---|")
        for apps in args.apps:
            in_process(apps, runs)
        print(f"load average {_load()}")
        return
    found = subprocess.run([args.python, "-c", "import promoter; print(promoter.__file__)"],
                           cwd=WORK, capture_output=True, text=True, check=True).stdout.strip()
    print(f"promoter from {found}; load average {_load()}")
    print("| measure | baseline wall / CPU | promoter wall / CPU | ratio wall / CPU "
          "| peak RSS | target |")
    print("|---|---|---|---|---|---|")
    for apps in args.apps:
        root = ordinary(apps, heavy=False)
        app = f"app-{apps // 2:05d}"
        compare(f"update, {2 * apps} files (vs grep -rl)", ["grep", "-rl", app, "."],
                updates(f"ghcr.io/acme/{app}", root), root, runs, "<= 1.5x")
    for apps in args.apps:
        root = ordinary(apps, heavy=True)
        files = 2 * apps + (apps + 999) // 1000
        grep = ["grep", "-rl", "argocd", "."]
        image = "quay.io/argoproj/argocd"
        upd = compare(f"update, candidate-heavy, {files} files", grep,
                      updates(image, root), root, runs,
                      f"<= 3x; RSS <= {10 * INSTALL_MB + 50:.0f} MB (10x the largest file + 50 MB)")
        dif = compare(f"diff, candidate-heavy, {files} files", grep,
                      updates(image, root, "diff"), root, runs, "")
        print(f"| diff / update, candidate-heavy, {files} files | | | "
              f"{dif[0] / upd[0]:.2f}x / {dif[1] / upd[1]:.2f}x | | <= 1.2x |")
    for docs in args.docs:
        for refs in (1, docs):
            root = big_file(docs, refs)
            size = (root / "big.yaml").stat().st_size / 1e6
            cat = ["cat", "big.yaml"]
            label = f"{docs} documents, {size:.1f} MB, {refs} reference(s)"
            upd = compare(f"update, {label} (vs cat)", cat,
                          updates("ghcr.io/acme/api", root), root, runs, "")
            dif = compare(f"diff, {label} (vs cat)", cat,
                          updates("ghcr.io/acme/api", root, "diff"), root, runs, "")
            print(f"| diff / update, {label} | | | {dif[0] / upd[0]:.2f}x / "
                  f"{dif[1] / upd[1]:.2f}x | RSS limit {10 * size + 50:.0f} MB | <= 1.2x |")
    compare("--help (vs python -c 'import click')", [sys.executable, "-c", "import click"],
            [[*PROMOTER, "--help"]], WORK, max(runs, 5), "<= 1.2x")
    print(f"load average {_load()}")


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
