"""``promoter status`` and ``promoter config validate``: read a config repository
(a local working tree in place, or a sparse clone of a remote) and report."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from promoter import config as cfg
from promoter import credentials, git, remote, workspace
from promoter.errors import InputError
from promoter.manifests import find_references, overlay


@contextmanager
def tree(repo: str, base: str | None, environ: Mapping[str, str]) -> Iterator[Path]:
    """The root of a checkout of ``repo``: a local working tree (or a directory
    holding .promoter.yaml) as it is when no --base is given, else a sparse clone
    holding every configured path."""
    local = Path(repo).expanduser()
    in_place = (local / ".git").exists() or (local / cfg.FILE).exists()
    if "://" not in repo and base is None and in_place:
        yield local.resolve()
        return
    url = remote.git_url(repo)
    session = git.session(url, credentials.from_env(environ, remote.infer_forge(repo, environ)))
    with tempfile.TemporaryDirectory(prefix="promoter-") as tmp:
        ws = workspace.open_clone(session, url, Path(tmp) / "repo", base, repo)
        config = cfg.load(ws.work)
        if config is not None:
            paths = sorted({p for app in config.apps for env in config.environments
                            for p in cfg.resolve(config, app, env).paths})
            workspace.checkout_paths(ws, paths, cfg.FILE, skip_missing=True)
            overlay.widen(ws.work, paths, lambda wanted: workspace.checkout_paths(
                ws, wanted, cfg.FILE, skip_missing=True))
        yield ws.work


def require(root: Path) -> cfg.Config:
    config = cfg.load(root)
    if config is None:
        raise InputError(f"no {cfg.FILE} at the root of the repository; create one")
    return config


def matrix(root: Path) -> dict[str, Any]:
    """app -> env -> the version (tag, @digest or tag@digest) the repository holds."""
    config = require(root)
    apps: dict[str, dict[str, str | None]] = {}
    for app in config.apps:
        apps[app] = {}
        for env in config.environments:
            target = cfg.resolve(config, app, env)
            present = [p for p in target.paths if (root / p).exists()]
            found = (find_references(root, present, target.image, keys=target.keys)
                     if present else [])
            versions = sorted({f.ref.version for f in found if f.ref.version})
            apps[app][env] = ", ".join(versions) or None
    return {"schema": "promoter/v1", "environments": list(config.environments), "apps": apps}
