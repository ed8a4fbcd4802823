"""Benchmark the registry check of ``promoter promote`` against a local registry.

    .venv/bin/python benchmarks/registry_bench.py [--runs 15]

Starts Debian's docker-registry (CNCF Distribution) on 127.0.0.1 twice, with
htpasswd auth and with Bearer tokens (tests/support), pushes images with
skopeo, then:

1. counts the HTTP requests of the check itself (promoter.registry.gate.checked,
   the call promote makes) for a tag, a pinned tag, a multi-arch index and
   ``tag@digest``; and those of reading the PR body's labels (old and new image);
2. times in-process promotions (``promote(Request(..., direct=True))`` into a
   local bare repository), alternating check off / check on / check + pin, RUNS
   times each, and prints the medians and the difference.
Prints Markdown; numbers go into benchmarks/README.md.
"""

from __future__ import annotations

import argparse
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


def count(text: str, pin: bool) -> int:
    ref = images.parse(text)
    _, client = gate.checked(Options(), ref, CREDS, check=True, pin=pin, where="bench")
    assert client is not None
    return client.transport.sent


def check_time(text: str, runs: int) -> list[float]:
    """Seconds of ``gate.checked`` with a fresh client each time (as promote does)."""
    ref, found = images.parse(text), []
    for _ in range(runs):
        start = time.perf_counter()
        gate.checked(Options(), ref, CREDS, check=True, pin=True, where="bench")
        found.append(time.perf_counter() - start)
    return found


def labels_count(host: str) -> int:
    new, old = images.parse(f"{host}/acme/api:1.1"), images.parse(f"{host}/acme/api:1.0")
    client = check.connect(new, Options(), CREDS)
    check.verified(client, new, pin=False)  # as in a promotion: the check comes first
    before = client.transport.sent
    assert check.provenance(client, new, old) is not None
    return client.transport.sent - before


def config_tree(root: Path, host: str) -> Path:
    (root / "app").mkdir(parents=True)
    (root / ".promoter.yaml").write_text(
        "environments:\n  staging: {paths: [app]}\n"
        f"apps:\n  api: {{image: '{host}/acme/api'}}\n")
    (root / "app" / "deployment.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n"
        "    spec:\n      containers:\n        - name: api\n"
        f"          image: {host}/acme/api:1.0\n")
    return root


def timed(remote: Path, host: str, tag: str, options: Options) -> float:
    start = time.perf_counter()
    result = promote(Request(repo=str(remote), app="api", env="staging", direct=True,
                             image=f"{host}/acme/api:{tag}", registry=options), CREDS)
    elapsed = time.perf_counter() - start
    assert result.changed, "each run must change the tag"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
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
            report_counts(basic, bearer)
            report_check_times(basic.host, bearer.host, runs * 4)
            report_times(work, basic.host, runs)
        tokens.close()


def report_counts(basic: Registry, bearer: Registry) -> None:
    digest = basic.digest("acme/api", "1.0")
    rows = [
        ("tag, check", f"{basic.host}/acme/api:1.0", False, bearer.host),
        ("tag, check + pin", f"{basic.host}/acme/api:1.0", True, bearer.host),
        ("multi-arch index, check + pin", f"{basic.host}/acme/api:multi", True, bearer.host),
        ("tag@digest (--from sameness)", f"{basic.host}/acme/api:1.0@{digest}", False, None),
    ]
    print("| check | requests, Basic (htpasswd) | requests, Bearer (first token) |")
    print("|---|---|---|")
    for name, text, pin, other in rows:
        token = count(text.replace(basic.host, other), pin) if other else "-"
        print(f"| {name} | {count(text, pin)} | {token} |")
    print(f"| PR body labels after the check, old and new image (GitHub/GitLab only) "
          f"| {labels_count(basic.host)} | - |")
    print()


def report_check_times(basic: str, bearer: str, runs: int) -> None:
    print(f"| the check alone, check + pin ({runs} runs) | median | p95 | max |")
    print("|---|---|---|---|")
    for name, host in (("Basic (htpasswd)", basic), ("Bearer (token each time)", bearer)):
        values = sorted(check_time(f"{host}/acme/api:1.0", runs))
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        print(f"| {name} | {statistics.median(values) * 1000:.1f} ms | {p95 * 1000:.1f} ms "
              f"| {values[-1] * 1000:.1f} ms |")
    print()


def report_times(work: Path, host: str, runs: int) -> None:
    remote = bare_from(config_tree(work / "tree", host), work / "remote.git")
    modes = {"check off": Options(check=False), "check on": Options(check=None),
             "check + pin": Options(check=None, pin_digest=True)}
    times: dict[str, list[float]] = {name: [] for name in modes}
    tags = iter(["1.1", "1.0"] * (runs * len(modes) + 1))
    timed(remote, host, next(tags), modes["check off"])  # warm-up
    for _ in range(runs):
        for name, options in modes.items():
            times[name].append(timed(remote, host, next(tags), options))
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
