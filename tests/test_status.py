"""Environment paths real layouts need: globs, a ``{namespace}`` placeholder, a
per-app list of environments; ``status`` through them, and ``config validate``
failing wherever ``status`` would show nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support.configrepo import bare_from

from promoter import config as cfg
from promoter import status
from promoter.errors import InputError
from promoter.promote import Request, promote

DEPLOYMENT = "spec:\n  template:\n    spec:\n      containers:\n      - image: {}\n"
CONFIG = """\
version: 1
environments:
  staging:
    paths: ["envs/staging-*/{app}"]
  production:
    paths: ["kubernetes/{env}/apps/{namespace}/{app}"]
    promote_from: staging
apps:
  api:
    image: ghcr.io/acme/api
    namespace: web
  jobs:
    image: ghcr.io/acme/jobs
    namespace: batch
    environments: [production]
"""


def layout(root: Path, config: str = CONFIG) -> Path:
    files = {
        ".promoter.yaml": config,
        "envs/staging-eu/api/deploy.yaml": DEPLOYMENT.format("ghcr.io/acme/api:1.1"),
        "envs/staging-us/api/deploy.yaml": DEPLOYMENT.format("ghcr.io/acme/api:1.1"),
        "kubernetes/production/apps/web/api/deploy.yaml": DEPLOYMENT.format("ghcr.io/acme/api:1.0"),
        "kubernetes/production/apps/batch/jobs/deploy.yaml":
            DEPLOYMENT.format("ghcr.io/acme/jobs:7"),
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_globs_namespace_and_per_app_environments(tmp_path: Path) -> None:
    root = layout(tmp_path / "tree")
    assert status.matrix(root)["apps"] == {
        "api": {"staging": "1.1", "production": "1.0"},
        "jobs": {"production": "7"},  # not promoted into staging: no cell, no error
    }
    assert status.problems(root) == []
    config = cfg.load(root)
    assert config is not None
    with pytest.raises(InputError, match=r"app 'jobs' is not in environment 'staging'"):
        cfg.resolve(config, "jobs", "staging")
    assert cfg.resolve(config, "api", "production").paths == ("kubernetes/production/apps/web/api",)


def test_promotion_through_a_glob_and_from_a_glob(tmp_path: Path) -> None:
    remote = bare_from(layout(tmp_path / "tree"), tmp_path / "remote.git")
    staged = promote(Request(repo=str(remote), app="api", env="staging",
                             image="ghcr.io/acme/api:1.2", direct=True), {})
    assert sorted(staged.record()["files"]) == [
        "envs/staging-eu/api/deploy.yaml", "envs/staging-us/api/deploy.yaml"]
    production = promote(Request(repo=str(remote), app="api", env="production", direct=True), {})
    assert production.record()["files"] == ["kubernetes/production/apps/web/api/deploy.yaml"]
    assert production.record()["image"] == "ghcr.io/acme/api:1.2"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda root: (root / "envs/staging-eu/api/deploy.yaml").write_text("kind: Service\n"),
         None),
        (lambda root: (root / "kubernetes/production/apps/web/api/deploy.yaml").write_text(
            "kind: Service\n"),
         r"apps\.api in environments\.production: status would show nothing: no file under "
         r"kubernetes/production/apps/web/api mentions 'api'; check the paths"),
        (lambda root: (root / "kubernetes/production/apps/web/api/deploy.yaml").write_text(
            "spec:\n  apiImage:\n    ref: ghcr.io/acme/api:1.0\n"),
         r"status would show nothing: kubernetes/production/apps/web/api/deploy\.yaml mentions "
         r"'api' but holds no reference to ghcr\.io/acme/api that promoter recognises; name the "
         r"field with keys \(--key KEY\)"),
        (lambda root: (root / "kubernetes/production/apps/web/api/deploy.yaml").write_text(
            DEPLOYMENT.format("'ghcr.io/acme/api:{{ .Values.tag }}'")),
         r"apps\.api in environments\.production: status would show nothing: the references to "
         r"ghcr\.io/acme/api under kubernetes/production/apps/web/api cannot be edited: "
         r".*template or substitution expression"),
        (lambda root: subprocess.run(["rm", "-r", str(root / "envs")], check=True),
         r"apps\.api in environments\.staging: path envs/staging-\*/api matches nothing"),
    ],
)
def test_validate_fails_where_status_shows_nothing(
    tmp_path: Path, change: object, message: str | None
) -> None:
    root = layout(tmp_path / "tree")
    change(root)  # type: ignore[operator]
    found = status.problems(root)
    if message is None:  # one staging directory still holds the image: status shows it
        assert found == [] and status.matrix(root)["apps"]["api"]["staging"] == "1.1"
    else:
        assert len(found) == 1, found
        assert found[0].startswith(".promoter.yaml: ")
        import re
        assert re.search(message, found[0]), found[0]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    namespace: web\n", "", r"apps\.api\.namespace: missing; the paths use \{namespace\}"),
        ("environments: [production]", "environments: [qa]",
         r"apps\.jobs\.environments: unknown environment 'qa'"),
        ('"kubernetes/{env}/apps/{namespace}/{app}"', '"k/{cluster}/{app}"',
         r"unresolved placeholder \{cluster\}"),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    root = layout(tmp_path / "tree", CONFIG.replace(old, new))
    with pytest.raises(InputError, match=message):
        status.problems(root)


def test_status_and_validate_of_a_sparse_clone(tmp_path: Path) -> None:
    remote = bare_from(layout(tmp_path / "tree"), tmp_path / "remote.git")
    with status.tree(remote.as_uri(), None, {}) as root:
        assert status.matrix(root)["apps"]["api"] == {"staging": "1.1", "production": "1.0"}
        assert status.problems(root) == []


def test_a_path_starting_with_a_wildcard_is_refused(tmp_path: Path) -> None:
    root = layout(tmp_path / "tree", CONFIG.replace('"envs/staging-*/{app}"', '"*/{app}"'))
    with pytest.raises(InputError, match=r"environments\.staging\.paths: path '\*/\{app\}' starts"
                                         r" with a wildcard"):
        status.problems(root)
