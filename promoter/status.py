"""``promoter status`` and ``promoter config validate``: read a config repository
(a local working tree in place, or a sparse clone of a remote) and report."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from promoter import config as cfg
from promoter import credentials, git_remote, images, remote, workspace
from promoter.errors import InputError
from promoter.manifests import Found, find_references, flux, overlay, plan_update
from promoter.manifests.explain import nothing_found

NETWORK_TIMEOUT = 300.0  # seconds each git command may take (--network-timeout)


@contextmanager
def tree(repo: str, base: str | None, environ: Mapping[str, str],
         timeout: float | None = NETWORK_TIMEOUT) -> Iterator[Path]:
    """The root of a checkout of ``repo``: a local working tree (or a directory
    holding .promoter.yaml) as it is when no --base is given, else a sparse clone
    holding every configured path, each git command bounded by ``timeout``
    seconds (--network-timeout)."""
    local = Path(repo).expanduser()
    in_place = (local / ".git").exists() or (local / cfg.FILE).exists()
    if "://" not in repo and base is None and in_place:
        yield local.resolve()
        return
    url = remote.git_url(repo)
    found = credentials.from_env(environ, remote.infer_forge(repo, environ))
    session = git_remote.session(url, found, timeout or None)
    with tempfile.TemporaryDirectory(prefix="promoter-") as tmp:
        ws = workspace.open_clone(session, url, Path(tmp) / "repo", base, repo)
        config = cfg.load(ws.work)
        if config is not None:
            paths = sorted({p for target in targets(config) for p in target.paths})
            workspace.checkout_paths(ws, cfg.sparse_roots(paths), cfg.FILE, skip_missing=True)
            overlay.widen(ws.work, cfg.expand(ws.work, paths), lambda wanted: (
                workspace.checkout_paths(ws, wanted, cfg.FILE, skip_missing=True)))
            any(flux.widen(ws.work, cfg.expand(ws.work, t.paths), t.image, lambda wanted: (
                workspace.checkout_paths(ws, wanted, cfg.FILE)), t.keys) for t in targets(config))
            # (any: after the first widening the whole tree is there)
        yield ws.work


def targets(config: cfg.Config) -> Iterator[cfg.Target]:
    """The target of every app in every environment it is promoted into."""
    for app in config.apps:
        for env in config.environments:
            if cfg.deployed(config, app, env):
                yield cfg.resolve(config, app, env)


def require(root: Path) -> cfg.Config:
    config = cfg.load(root)
    if config is None:
        raise InputError(f"no {cfg.FILE} at the root of the repository; create one")
    return config


def matrix(root: Path) -> dict[str, Any]:
    """app -> env -> the version (tag, @digest or tag@digest) the repository
    holds; an environment the app is not promoted into is left out."""
    config = require(root)
    apps: dict[str, dict[str, str | None]] = {app: {} for app in config.apps}
    for target in targets(config):
        versions = sorted({f.ref.version for f in _found(root, target) if f.ref.version})
        apps[target.app][target.env] = ", ".join(versions) or None
    return {"schema": "promoter/v1", "environments": list(config.environments), "apps": apps}


def _found(root: Path, target: cfg.Target) -> list[Found]:
    present = [p for p in cfg.expand(root, target.paths) if (root / p).exists()]
    return find_references(root, present, target.image, keys=target.keys) if present else []


def problems(root: Path) -> list[str]:
    """``config validate``: the config's own problems (paths that do not exist,
    globs that match nothing), then every target for which ``status`` would show
    nothing, with the reason."""
    config = require(root)
    found = cfg.missing_paths(config, root)
    if found:
        return found
    for target in targets(config):
        if not _found(root, target):
            paths = cfg.expand(root, target.paths)
            why = nothing_found(root, paths, target.image,
                                plan_update(root, paths, images.parse_new(f"{target.image}:x")))
            found.append(f"{cfg.FILE}: apps.{target.app} in environments.{target.env}: "
                         f"status would show nothing: {why}")
    return found
