"""Races: 20 promotions of 20 apps started at once, all pushing directly to one
remote's base branch; every one must land (rejected pushes are re-planned)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from support.configrepo import bare_from, count, show

from promoter.promote import Request, promote
from promoter.retry import PUSH


def twenty_apps(tree: Path) -> list[str]:
    apps = [f"app{i:02d}" for i in range(20)]
    config = ["environments:", "  staging:", '    paths: ["apps/{app}/{env}"]', "apps:"]
    for app in apps:
        config += [f"  {app}:", f"    image: ghcr.io/acme/{app}"]
        (tree / "apps" / app / "staging").mkdir(parents=True)
        (tree / "apps" / app / "staging" / "kustomization.yaml").write_text(
            f"images:\n  - name: ghcr.io/acme/{app}\n    newTag: 1.0.0\n")
    (tree / ".promoter.yaml").write_text("\n".join(config) + "\n")
    return apps


def test_twenty_concurrent_direct_promotions_all_land(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    apps = twenty_apps(tree)
    bare = bare_from(tree, tmp_path / "remote.git")

    def one(app: str) -> str:
        request = Request(repo=bare.as_uri(), app=app, env="staging", direct=True,
                          image=f"ghcr.io/acme/{app}:2.0.0",
                          retry=replace(PUSH, attempts=40, base=0.02, cap=0.5))
        return promote(request, {}).operation

    with ThreadPoolExecutor(max_workers=20) as pool:
        operations = list(pool.map(one, apps))
    assert operations == ["pushed"] * 20
    assert count(bare, "main") == 21
    for app in apps:
        assert "newTag: 2.0.0" in show(bare, "main", f"apps/{app}/staging/kustomization.yaml")
