"""Forge API requests per publish, counted in the fakes (tests/fakes), through
``promote`` with real git (http-backend) and the real SDKs: create, no-op
(same image again) and update (a newer image), with 0 and 151 unrelated open
pull requests. Run: ``.venv/bin/python benchmarks/requests_bench.py``."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "tests")]

from pipeline.world import world  # noqa: E402


def counts(forge: str, open_prs: int) -> list[int]:
    with tempfile.TemporaryDirectory() as tmp, world(forge, Path(tmp)) as w:
        for i in range(open_prs):
            w.open_foreign(f"feature/{i}", f"unrelated {i}", author="someone")
        found = []
        for version in ("1.5.0", "1.5.0", "1.6.0"):
            before = len(w.requests)
            w.promote(f"ghcr.io/acme/api:{version}")
            found.append(len(w.requests) - before)
        return found


def main() -> None:
    print("| forge | open PRs | create | no-op | update |")
    print("|---|---|---|---|---|")
    for forge in ("github", "gitlab"):
        for open_prs in (0, 151):
            create, noop, update = counts(forge, open_prs)
            print(f"| {forge} | {open_prs} | {create} | {noop} | {update} |")


if __name__ == "__main__":
    main()
