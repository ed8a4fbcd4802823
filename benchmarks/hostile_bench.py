"""How fast promoter gives up on hostile servers, and how much memory a flood costs.

    .venv/bin/python benchmarks/hostile_bench.py [--runs 3]

Each case runs ``promoter promote`` as a fresh process (Python start-up
included) against servers on 127.0.0.1 from tests/support, and reports the wall
time to the exit and the child's peak RSS:

- git stalls on the clone's pack request, ``--network-timeout 2s``;
- git trickles the ref advertisement (1 byte / 0.2 s), ``GIT_HTTP_LOW_SPEED_TIME=1``;
- the GitHub API trickles its answer (1 byte / 0.05 s), ``--network-timeout 3s``;
- the GitHub API answers 200 MB without Content-Length (capped at 32 MiB);
- the GitHub API answers 200 MB with Content-Length (refused before reading).
Prints a Markdown table; numbers go into benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.configrepo import example_copy  # noqa: E402
from support.gitserver import GitServer  # noqa: E402
from support.hostile import HostileServer, Reply, flood  # noqa: E402

TOKEN = "bench-token"
PRELUDE = (  # promoter's own peak RSS (VmHWM, kB: not git's, not the forked parent's)
    "import atexit, re, sys\n"
    "atexit.register(lambda: print('RSS', re.search(r'VmHWM:\\s+(\\d+)',"
    " open('/proc/self/status').read())[1], file=sys.stderr))\n"
    "from promoter.cli import main\n"
    "sys.argv[0] = 'promoter'\n"
    "main()\n"
)
Case = Callable[[GitServer, HostileServer], tuple[list[str], dict[str, str]]]


def _git_stall(git: GitServer, api: HostileServer) -> tuple[list[str], dict[str, str]]:
    git.modes["POST git-upload-pack"] = "stall"
    return ["--network-timeout", "2s"], {}


def _git_trickle(git: GitServer, api: HostileServer) -> tuple[list[str], dict[str, str]]:
    git.modes["GET git-upload-pack"] = "trickle"
    return [], {"GIT_HTTP_LOW_SPEED_TIME": "1"}


def _forge(reply: Callable[..., Reply], *args: str) -> Case:
    def case(git: GitServer, api: HostileServer) -> tuple[list[str], dict[str, str]]:
        api.reply = reply
        return ["--forge", "github", "--api-url", api.url, *args], {}

    return case


CASES: dict[str, Case] = {
    "git stalls (--network-timeout 2s)": _git_stall,
    "git trickles (GIT_HTTP_LOW_SPEED_TIME=1)": _git_trickle,
    "GitHub trickles (--network-timeout 3s)": _forge(
        lambda s: Reply(body=b"{" + b" " * 500 + b"}", trickle=0.05), "--network-timeout",
        "3s"),
    "GitHub 200 MB, no Content-Length": _forge(flood(200 << 20, announced=False)),
    "GitHub 200 MB, Content-Length": _forge(flood(200 << 20)),
}


def run_case(case: Case, workdir: Path) -> tuple[float, float, int]:
    with GitServer(workdir / "srv", "x-access-token", TOKEN) as git, HostileServer() as api:
        git.create("acme/config", example_copy(workdir / "tree"))
        args, extra = case(git, api)
        env = {**os.environ, "PROMOTER_TOKEN": TOKEN, **extra}
        argv = [sys.executable, "-c", PRELUDE, "promote", "--repo", git.url("acme/config"),
                "--app", "api", "--env", "staging", "--image", "ghcr.io/acme/api:9.9.9", *args]
        start = time.monotonic()
        result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False,
                                timeout=300)
        elapsed = time.monotonic() - start
    rss = int(result.stderr.rsplit("RSS ", 1)[1].split()[0])
    return elapsed, rss / 1024, result.returncode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    print("| case | exit | median | max | peak RSS (MB) |")
    print("|---|---|---|---|---|")
    for name, case in CASES.items():
        times, peaks, codes = [], [], set()
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as tmp:
                elapsed, rss, code = run_case(case, Path(tmp))
            times.append(elapsed)
            peaks.append(rss)
            codes.add(code)
        print(f"| {name} | {','.join(map(str, sorted(codes)))} | {statistics.median(times):.2f} s"
              f" | {max(times):.2f} s | {max(peaks):.0f} |")


if __name__ == "__main__":
    main()
