"""Benchmark the registry check of ``promoter promote`` against a local registry.

    .venv/bin/python benchmarks/registry_bench.py [--runs 15]

Starts Debian's docker-registry (CNCF Distribution) on 127.0.0.1 twice, with
htpasswd auth and with Bearer tokens (tests/support), pushes images with
skopeo, then:

1. counts the HTTP requests of the check itself (promoter.registry.gate.checked,
   the call promote makes) for a tag, a pinned tag, a multi-arch index and
   ``tag@digest``: with Basic auth, and with Bearer tokens on a first run (no
   realm cache: the challenge) and on a later run (the realm remembered in the
   cache file, promoter.registry.realms); and those of reading the PR body's
   labels (old and new image);
2. times the check alone (a fresh client each time, as promote makes one);
3. times in-process promotions (``promote(Request(..., direct=True))`` into a
   local bare repository), alternating check off / check on / check + pin
   (Basic) / check on (Bearer, realm cached), RUNS times each, and prints the
   medians and the difference.
Prints Markdown (and the load average before and after); numbers go into
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.configrepo import bare_from  # noqa: E402
from support.registry import Image, Index, Registry, write_layout  # noqa: E402
from support.registry_servers import TokenServer  # noqa: E402

from promoter import images  # noqa: E402
from promoter.promote import Request, promote  # noqa: E402
from promoter.registry import check, gate  # noqa: E402
from promoter.registry.options import Options  # noqa: E402

USER, PASSWORD = "bench", "bench-password"
CREDS = {"PROMOTER_REGISTRY_USER": USER, "PROMOTER_REGISTRY_PASSWORD": PASSWORD}
LABELS = {"org.opencontainers.image.source": "https://github.com/acme/api",
          "org.opencontainers.image.revision": "a" * 40}


def environ(cache: Path | str) -> dict[str, str]:
    """The credentials, and the realm cache file (``off``: none)."""
    return {**CREDS, "PROMOTER_REGISTRY_CACHE": str(cache)}


def count(text: str, pin: bool, env: dict[str, str]) -> int:
    ref = images.parse(text)
    _, client = gate.checked(Options(), ref, env, check=True, pin=pin, where="bench")
    assert client is not None
    return client.transport.sent


def check_time(text: str, runs: int, env: dict[str, str]) -> list[float]:
    """Seconds of ``gate.checked`` with a fresh client each time (as promote does)."""
    ref, found = images.parse(text), []
    for _ in range(runs):
        start = time.perf_counter()
        gate.checked(Options(), ref, env, check=True, pin=True, where="bench")
        found.append(time.perf_counter() - start)
    return found


def labels_count(host: str) -> int:
    new, old = images.parse(f"{host}/acme/api:1.1"), images.parse(f"{host}/acme/api:1.0")
    client = check.connect(new, Options(), environ("off"))
    check.verified(client, new, pin=False)  # as in a promotion: the check comes first
    before = client.transport.sent
    assert check.provenance(client, new, old) is not None
    return client.transport.sent - before


def config_tree(root: Path, host: str) -> Path:
    (root / "app").mkdir(parents=True)
    (root / ".promoter.yaml").write_text(
        "environments:\n  staging: {paths: [app], allow_downgrade: true}\n"
        f"apps:\n  api: {{image: '{host}/acme/api'}}\n")
    (root / "app" / "deployment.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n"
        "    spec:\n      containers:\n        - name: api\n"
        f"          image: {host}/acme/api:1.0\n")
    return root


def timed(remote: Path, image: str, options: Options, env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = promote(Request(repo=str(remote), app="api", env="staging", direct=True,
                             image=image, registry=options), env)
    elapsed = time.perf_counter() - start
    assert result.changed, "each run must change the tag"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    with tempfile.TemporaryDirectory(prefix="registry-bench-") as tmp:
        work = Path(tmp)
        layout = work / "oci"
        write_layout(layout, {"1.0": Image(labels=LABELS), "1.1": Image(labels=LABELS, salt="b"),
                              "multi": Index((Image(salt="m"), Image(arch="arm64", salt="m")))})
        tokens = TokenServer(work / "tokens", USER, PASSWORD)
        with Registry(work / "basic", USER, PASSWORD) as basic, \
                Registry(work / "token", USER, PASSWORD, token_realm=tokens.realm,
                         token_cert=tokens.cert_path) as bearer:
            for server in (basic, bearer):
                for tag in ("1.0", "1.1", "multi"):
                    server.push(layout, tag, "acme/api")
            report_counts(basic, bearer, work)
            report_check_times(basic.host, bearer.host, runs * 4, work)
            report_times(work, basic.host, bearer.host, runs)
        tokens.close()
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def report_counts(basic: Registry, bearer: Registry, work: Path) -> None:
    digest = basic.digest("acme/api", "1.0")
    rows = [
        ("tag, check", f"{basic.host}/acme/api:1.0", False),
        ("tag, check + pin", f"{basic.host}/acme/api:1.0", True),
        ("multi-arch index, check + pin", f"{basic.host}/acme/api:multi", True),
        ("tag@digest (--from sameness)", f"{basic.host}/acme/api:1.0@{digest}", False),
    ]
    print("| check | requests, Basic (htpasswd) | requests, Bearer, first run (nothing cached) "
          "| requests, Bearer, later runs (realm cached) |")
    print("|---|---|---|---|")
    for number, (name, text, pin) in enumerate(rows):
        cache = work / f"realms-{number}.json"  # a new, empty cache for each row
        token = text.replace(basic.host, bearer.host)  # the same images: the same digests
        first, later = count(token, pin, environ(cache)), count(token, pin, environ(cache))
        print(f"| {name} | {count(text, pin, environ('off'))} | {first} | {later} |")
    print(f"| PR body labels after the check, old and new image (GitHub/GitLab only) "
          f"| {labels_count(basic.host)} | - | - |")
    print()


def report_check_times(basic: str, bearer: str, runs: int, work: Path) -> None:
    warm = work / "realms-warm.json"
    count(f"{bearer}/acme/api:1.0", True, environ(warm))  # learns the realm
    print(f"| the check alone, check + pin ({runs} runs, a new client each) | requests "
          "| median | p95 | max |")
    print("|---|---|---|---|---|")
    cases = (("Basic (htpasswd)", basic, environ("off")),
             ("Bearer, first run (challenge: 401, token, HEAD)", bearer, environ("off")),
             ("Bearer, realm cached (token, HEAD)", bearer, environ(warm)))
    for name, host, env in cases:
        sent = count(f"{host}/acme/api:1.0", True, env)
        values = sorted(check_time(f"{host}/acme/api:1.0", runs, env))
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        print(f"| {name} | {sent} | {statistics.median(values) * 1000:.1f} ms "
              f"| {p95 * 1000:.1f} ms | {values[-1] * 1000:.1f} ms |")
    print()


def report_times(work: Path, basic: str, bearer: str, runs: int) -> None:
    remotes = {host: bare_from(config_tree(work / f"tree-{n}", host), work / f"remote-{n}.git")
               for n, host in enumerate((basic, bearer))}
    warm = environ(work / "realms-promote.json")
    count(f"{bearer}/acme/api:1.0", False, warm)  # learns the realm
    modes = {"check off": (basic, Options(check=False), environ("off")),
             "check on, Basic": (basic, Options(check=None), environ("off")),
             "check + pin, Basic": (basic, Options(check=None, pin_digest=True), environ("off")),
             "check on, Bearer, realm cached": (bearer, Options(check=None), warm)}
    times: dict[str, list[float]] = {name: [] for name in modes}
    tags = {host: iter(["1.1", "1.0"] * (runs * len(modes) + 1)) for host in remotes}
    for host in remotes:  # warm-up
        timed(remotes[host], f"{host}/acme/api:{next(tags[host])}", Options(check=False), warm)
    for _ in range(runs):
        for name, (host, options, env) in modes.items():
            image = f"{host}/acme/api:{next(tags[host])}"
            times[name].append(timed(remotes[host], image, options, env))
    base = statistics.median(times["check off"])
    print(f"| promote --direct, in process ({runs} runs each) | median | min | max "
          "| added (median) |")
    print("|---|---|---|---|---|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.3f} s | {min(values):.3f} s | {max(values):.3f} s "
              f"| {median - base:+.3f} s |")


if __name__ == "__main__":
    main()
