"""GitLab's deployment records read back (``status --deployments``): the real
python-gitlab against the fake GitLab, whose deployments and commits are
schema-checked and whose commits live in a real bare repository.

A GitLab deployment has no payload: the app is the one whose image promoter's
commit names (its ``Image:`` trailer), on the deployed commit itself or, for a
merge commit, on the merged parent."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.gitlab_server import FakeGitLab
from support.configrepo import bare_from, example_copy, heads

from promoter.forges import ForgeSettings
from promoter.forges import gitlab as gl
from promoter.forges.gitlab_records import GitLabRecords
from promoter.forges.records import DeploymentSpec
from promoter.retry import Backoff

TOKEN = "glpat-records-token"
API, WEB = "ghcr.io/acme/api", "ghcr.io/acme/web"


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeGitLab]:
    with FakeGitLab(token=TOKEN) as server:
        server.commits.git_dir = bare_from(example_copy(tmp_path / "tree"), tmp_path / "c.git")
        yield server
    assert server.violations == []


def records(fake: FakeGitLab) -> GitLabRecords:
    settings = ForgeSettings(repo="https://gitlab.example/acme/config.git", slug="acme/config",
                             api_url=fake.url, token=TOKEN)
    return GitLabRecords(gl.connect(settings, Backoff(sleep=lambda _: None, clock=lambda: 0.0)))


def commit(bare: Path, text: str, *parents: str) -> str:
    """A commit on the tree of the first parent (default: main); main moves to it."""
    parents = parents or (heads(bare)["main"],)
    args = [arg for parent in parents for arg in ("-p", parent)]
    sha = subprocess.run(["git", "commit-tree", f"{parents[0]}^{{tree}}", *args, "-m", text],
                         cwd=bare, capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run(["git", "update-ref", "refs/heads/main", sha], cwd=bare, check=True)
    return sha


def promoted(image: str) -> str:
    return f"Promote to staging\n\nPromoted-by: promoter 1.0\nImage: {image}"


def record(store: GitLabRecords, app: str, sha: str, image: str, state: str | None) -> int:
    spec = DeploymentSpec(app=app, env="staging", ref=sha, image=image, branch="main")
    deployment = store.start(spec)
    if state:
        store.finish(deployment, spec, state)
    return int(deployment)


def deployed(fake: FakeGitLab, store: GitLabRecords, app: str, image: str,
             state: str | None) -> tuple[str, int]:
    """promoter's commit of ``image`` on main, recorded as deployed: (sha, id)."""
    assert fake.commits.git_dir is not None
    sha = commit(fake.commits.git_dir, promoted(image))
    return sha, record(store, app, sha, image, state)


def test_the_newest_deployment_of_each_app_through_merge_commits(fake: FakeGitLab) -> None:
    bare, store = fake.commits.git_dir, records(fake)
    assert bare is not None
    base = heads(bare)["main"]
    api = commit(bare, promoted(f"{API}:1.5.0"), base)
    merged = commit(bare, "Merge branch 'promoter/staging/api' into 'main'", base, api)
    first = record(store, "api", merged, f"{API}:1.5.0", "success")
    web, second = deployed(fake, store, "web", f"{WEB}:2.0.0", "failure")  # fast-forward
    assert store.last("api", "staging", API) == {
        "id": first, "state": "success", "image": f"{API}:1.5.0", "commit": merged}
    assert store.last("web", "staging", WEB) == {
        "id": second, "state": "failure", "image": f"{WEB}:2.0.0", "commit": web}
    assert store.last("api", "production", API) is None


def test_a_newer_deployment_of_the_same_app_wins(fake: FakeGitLab) -> None:
    store, digest = records(fake), f"@sha256:{'a' * 64}"
    deployed(fake, store, "api", f"{API}:1.5.0", "success")
    new, newest = deployed(fake, store, "api", f"{API}:1.6.0{digest}", None)
    assert store.last("api", "staging", API) == {
        "id": newest, "state": "in_progress", "image": f"{API}:1.6.0{digest}", "commit": new}


def test_a_commit_without_promoter_trailers_is_not_attributed(fake: FakeGitLab) -> None:
    """A squash merge keeps only the merge request's title: no app to name."""
    bare, store = fake.commits.git_dir, records(fake)
    assert bare is not None
    squashed = commit(bare, "Promote api to staging: 1.5.0")
    record(store, "api", squashed, f"{API}:1.5.0", "success")
    assert store.last("api", "staging", API) is None


def test_one_list_per_environment_and_one_read_per_commit(fake: FakeGitLab) -> None:
    store = records(fake)
    api, _ = deployed(fake, store, "api", f"{API}:1.5.0", "success")
    web, _ = deployed(fake, store, "web", f"{WEB}:2.0.0", "success")
    before = len(fake.requests)
    assert store.last("api", "staging", API) is not None
    assert store.last("web", "staging", WEB) is not None
    assert store.last("other", "staging", "ghcr.io/acme/other") is None
    reads = [path for method, path in fake.requests[before:] if method == "GET"]
    assert reads.count("/api/v4/projects/acme/config/deployments") == 1
    assert sorted(p.rsplit("/", 1)[1] for p in reads if "/repository/commits/" in p) == sorted(
        [api, web])


def test_a_deployment_of_a_commit_gone_from_the_repository_is_passed_over(
        fake: FakeGitLab) -> None:
    store = records(fake)
    _, older = deployed(fake, store, "api", f"{API}:1.5.0", "success")
    record(store, "api", "f" * 40, f"{API}:1.6.0", "success")  # since force-pushed away
    found = store.last("api", "staging", API)
    assert found is not None and found["id"] == older
