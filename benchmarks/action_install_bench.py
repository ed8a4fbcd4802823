"""Benchmark the GitHub Action's install of promoter under act (host mode, offline).

    .venv/bin/python benchmarks/action_install_bench.py [--runs 3]

Runs the workflow of tests/ci/act_support.py (``command: --version``, so
the run step only prints the version) with the action installing itself from
its own directory, dependencies from a local wheelhouse (``PIP_NO_INDEX``,
``PIP_FIND_LINKS``), and times, from act's JSON log (``executionTime`` of each
step), the install: the plan, actions/cache (restore) and install steps.

- cold, pip: empty cache, no uv on PATH;
- cold, uv: empty cache (uv's own cache empty too), uv on PATH;
- warm, new runner: an empty tool cache (a hosted runner), actions/cache holds
  the venv: a hit restores it and skips the install;
- warm, same runner: the runner's tool cache still holds the venv (a
  self-hosted runner, the job after): no restore at all;

each for ``extras: github`` (a promotion on GitHub) and ``extras: github,kube``
(with verification from the cluster), and installed sizes per extra;
- before: the action of the last commit before this change (``git show
  e5f5534:action.yml``: one step, pip install of the source, no cache).

actions/cache itself cannot be fetched offline; act maps it to the stand-in of
tests/ci/actions_cache (same inputs and cache-hit output, restore in main,
save in post, the cache a local directory). Prints a Markdown table; numbers go
into benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "ci"), str(ROOT / "tests")]

import act_support as runner  # noqa: E402
from act_support import ActRun, run_act  # noqa: E402
from ci_support import BIN  # noqa: E402
from ci_wheelhouse import build_wheelhouse  # noqa: E402

BEFORE = "e5f5534"  # the last commit with the old one-step install
INSTALL_STEPS = ("python", "plan", "cache", "install")
IMAGE = "ghcr.io/acme/api:1.4.2"


def step_seconds(run: ActRun) -> dict[str, float]:
    """Seconds of each install step (act logs executionTime in ns per step)."""
    found: dict[str, float] = {}
    for event in run.events:
        step = event.get("stepID") or []
        if (len(step) == 2 and step[1] in INSTALL_STEPS and "executionTime" in event
                and event.get("stage") == "Main"):
            found[step[1]] = found.get(step[1], 0.0) + event["executionTime"] / 1e9
    return found


def one(kind: str, extras: str, work: Path, wheelhouse: Path, remote: Path) -> float:
    act = BIN / "act"
    inputs = {"command": "--version", "extras": extras}
    if kind == "before":
        old = subprocess.run(["git", "show", f"{BEFORE}:action.yml"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
        old = old.replace("actions/setup-python@v5",
                          f"actions/setup-python@{runner.SETUP_PYTHON_SHA}")
        run = run_act(work, act, remote, IMAGE, wheelhouse, inputs, action_yml=old)
        seconds = sum(e["executionTime"] / 1e9 for e in run.events
                      if (e.get("stepID") or [None, None])[1:] == ["install"]
                      and "executionTime" in e and e.get("stage") == "Main")
    else:
        if kind == "warm, new runner":  # what a hosted runner starts with
            shutil.rmtree(work / "act-cache" / "tool_cache", ignore_errors=True)
        run = run_act(work, act, remote, IMAGE, wheelhouse, inputs, with_uv=kind != "cold, pip")
        steps = step_seconds(run)
        print("  " + ", ".join(f"{k} {v:.2f} s" for k, v in steps.items()), file=sys.stderr)
        seconds = sum(steps.values())
    assert run.returncode == 0, run.text[-3000:]
    assert "promoter, version" in run.printed(), run.text[-3000:]
    if kind == "warm, new runner":
        assert "cache hit:" in run.printed()
    if kind.startswith("warm"):
        assert "promoter install: cached venv" in run.printed(), run.text[-3000:]
    if kind == "warm, same runner":
        assert "cache hit" not in run.printed()
    return seconds


def sizes(root: Path, wheelhouse: Path) -> dict[str, float]:
    """Installed MB of the venv (no pip) per extra, from the wheelhouse with uv."""
    wheel = build_promoter_wheel(root)
    found = {}
    for extras in ("", "github", "gitlab", "kube", "all"):
        venv = root / f"size-{extras or 'base'}"
        subprocess.run([str(BIN / "uv"), "venv", "-q", "--python", sys.executable, str(venv)],
                       check=True)
        spec = f"promoter[{extras}] @ {wheel.as_uri()}" if extras else str(wheel)
        subprocess.run([str(BIN / "uv"), "pip", "install", "-q", "--python",
                        str(venv / "bin" / "python"), "--no-index", "--find-links",
                        str(wheelhouse), "--constraint", str(ROOT / "constraints.txt"), spec],
                       check=True, env={**os.environ, "UV_CACHE_DIR": str(root / "uv-cache")})
        total = sum(f.stat().st_size for f in venv.rglob("*") if f.is_file() and not f.is_symlink())
        found[f"promoter[{extras}]" if extras else "promoter"] = total / 1e6
    return found


def build_promoter_wheel(root: Path) -> Path:
    out = root / "dist"
    subprocess.run([str(BIN / "python"), "-m", "build", "--no-isolation", "--wheel", "--outdir",
                    str(out), str(ROOT)], check=True, capture_output=True)
    [wheel] = out.glob("promoter-*.whl")
    return wheel


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warm-only", action="store_true",
                        help="cold uv (to fill the caches), then the two warm cases")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        wheelhouse = build_wheelhouse(root / "wheelhouse")
        remote = root  # the run step only prints the version: no repository is read
        kinds = ("cold, uv", "warm, new runner", "warm, same runner")
        if not args.warm_only:
            kinds = ("cold, pip", *kinds)
        cases = [] if args.warm_only else [("before", "all")]
        cases += [(kind, extras) for extras in ("github", "github,kube") for kind in kinds]
        results: dict[tuple[str, str], list[float]] = {case: [] for case in cases}
        for i in range(args.runs):
            for kind, extras in cases:
                # the warm runs use cold uv's runner (its caches)
                name = f"{'cold, uv' if kind.startswith('warm') else kind}-{extras}-{i}"
                work = root / name.replace(", ", "-").replace(",", "+")
                work.mkdir(exist_ok=True)
                results[(kind, extras)].append(one(kind, extras, work, wheelhouse, remote))
                print(f"{kind} [{extras}]: {results[(kind, extras)][-1]:.2f} s", file=sys.stderr)
        print("| install | extras | runs | min | median | max |")
        print("|---|---|---|---|---|---|")
        for (kind, extras), values in results.items():
            print(f"| {kind} | {extras} | {len(values)} | {min(values):.2f} s | "
                  f"{statistics.median(values):.2f} s | {max(values):.2f} s |")
        if args.warm_only:
            return
        print()
        print("| install | size |")
        print("|---|---|")
        for name, mb in sizes(root, wheelhouse).items():
            print(f"| {name} | {mb:.1f} MB |")
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
