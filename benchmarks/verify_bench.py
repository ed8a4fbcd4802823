"""Verify latency: from the moment the cluster status becomes good to promoter's exit 0.

Runs the fake Kubernetes API server from tests/fakes (TLS, bearer token, real
watches), starts ``promoter verify`` on an Argo CD Application and a
Deployment whose status is stale, waits until both watches are established,
then writes the good status (Application synced at the merge commit and
Healthy, Deployment rolled out with the new image) and measures the time until
the process exits 0. ``--settle 0s`` so that only reaction time is measured.
``--path argocd-api`` reads the Application through the fake's Argo CD API
server instead (its streaming watch, ``/api/v1/stream/applications``), with
the Application as the only target.

    .venv/bin/python benchmarks/verify_bench.py [--runs 10] [--in-process] [--path argocd-api]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "verify"), str(ROOT)]

import verify_objects as o  # noqa: E402
from fakes.kube_server import ADMIN_TOKEN, FakeKube  # noqa: E402

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
NEW = f"{o.IMAGE}:2.0"


def stale(kube: FakeKube) -> None:
    kube.apply(o.application(o.OLD))
    kube.apply(o.deployment(f"{o.IMAGE}:1.0"))


API = False  # --path argocd-api
WARM = 0.0


def make_good(kube: FakeKube) -> float:
    """Write the good status; return the moment it is complete."""
    if not API:
        generation = kube.apply(o.deployment(NEW, updated=0))["metadata"]["generation"]
        o.running(kube, o.deployment(NEW, observed=generation), NEW)
    kube.apply(o.application(SHA))
    return time.perf_counter()


def targets(kube: FakeKube) -> list[str]:
    if API:
        return ["--argocd-app", "argocd/api", "--argocd-server", kube.url, "--argocd-token",
                ADMIN_TOKEN, "--argocd-ca", kube.ca_path]
    return ["--argocd-app", "argocd/api", "--workload", "Deployment/prod/api", "--image", NEW,
            "--kubeconfig", kube.kubeconfig()]


def cli_once(kube: FakeKube) -> float:
    stale(kube)
    before = kube.store.watches
    argv = [str(ROOT / ".venv" / "bin" / "promoter"), "verify", *targets(kube),
            "--revision", SHA, "--settle", "0s", "--timeout", "60s", "--output", "json"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    kube.wait_watches(before + (1 if API else 2), timeout=60)
    time.sleep(WARM)  # let the process finish starting (imports after the first watch)
    good = make_good(kube)
    out, _ = process.communicate(timeout=60)
    done = time.perf_counter()
    assert process.returncode == 0, process.returncode
    assert json.loads(out)["verify"]["status"] == "verified"
    return done - good


def in_process_once(kube: FakeKube) -> float:
    from promoter.images import parse
    from promoter.verify import VerifySettings, parse_target, run

    stale(kube)
    before = kube.store.watches
    moments: list[float] = []

    def controller() -> None:
        kube.wait_watches(before + (1 if API else 2), timeout=60)
        moments.append(make_good(kube))

    thread = threading.Thread(target=controller)
    thread.start()
    if API:
        run([parse_target("argocd-app", "argocd/api")],
            VerifySettings(revision=SHA, timeout=60, settle=0, argocd_server=kube.url,
                           argocd_token=ADMIN_TOKEN, argocd_ca=kube.ca_path))
    else:
        run([parse_target("argocd-app", "argocd/api"),
             parse_target("workload", "deploy/prod/api")],
            VerifySettings(revision=SHA, image=parse(NEW), timeout=60, settle=0,
                           kubeconfig=kube.kubeconfig()))
    done = time.perf_counter()
    thread.join()
    return done - moments[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--in-process", action="store_true",
                        help="call promoter.verify.run instead of the CLI")
    parser.add_argument("--path", choices=["watch", "argocd-api"], default="watch")
    parser.add_argument("--warm", type=float, default=0.0,
                        help="seconds to wait after the watches start (CLI)")
    args = parser.parse_args()
    global API, WARM
    API, WARM = args.path == "argocd-api", args.warm
    once = in_process_once if args.in_process else cli_once
    samples = []
    with tempfile.TemporaryDirectory() as tmp:
        kube = FakeKube(Path(tmp))
        try:
            for _ in range(args.runs):
                samples.append(once(kube))
        finally:
            kube.close()
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    print(json.dumps({
        "mode": "in-process" if args.in_process else "cli", "path": args.path,
        "runs": len(samples),
        "min_s": round(samples[0], 4), "median_s": round(statistics.median(samples), 4),
        "p95_s": round(p95, 4), "max_s": round(samples[-1], 4),
        "under_1s": all(s < 1.0 for s in samples),
    }))


if __name__ == "__main__":
    main()
