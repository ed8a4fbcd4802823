"""``--record`` (deployments, commit status promoter/<env>) and the gate
``--from staging --require-verified``, end to end: real git over smart HTTP,
real PyGithub against the schema-validating fake GitHub, real verification
against the fake cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.github_server import FakeGitHub
from fakes.gitlab_server import FakeGitLab
from fakes.kube_server import FakeKube
from support.configrepo import example_copy, heads, show
from support.gitserver import GitServer

sys.path.insert(0, str(Path(__file__).parent / "verify"))
import verify_objects as o

from promoter.errors import InputError, PromoterError, PromotionFailed
from promoter.promote import Promotion, Request, promote
from promoter.verify.cluster import Cluster

TOKEN = "ghp_gates_test_token"
IMAGE = "ghcr.io/acme/api"
PRODUCTION = "apps/api/overlays/production/kustomization.yaml"
STAGING_VERIFY = """    verify:
      argocd_apps: ["argocd/{app}-{env}"]
      workloads: ["Deployment/{env}/{app}"]
      timeout: 20s
      settle: 0s
"""


class World:
    def __init__(self, fake: Any, server: GitServer, bare: Path, tmp: Path) -> None:
        self.fake, self.server, self.bare, self.tmp = fake, server, bare, tmp
        self.forge = "github" if isinstance(fake, FakeGitHub) else "gitlab"
        self.runs = 0

    def request(self, env: str, **fields: Any) -> Request:
        api = self.fake.api_url if isinstance(self.fake, FakeGitHub) else self.fake.url
        return Request(repo=self.server.url("acme/config"), app="api", env=env,
                       forge=self.forge, api_url=api, **fields)

    def environ(self) -> dict[str, str]:
        return {"PROMOTER_TOKEN": TOKEN,
                "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/api",
                "GITHUB_RUN_ID": "7", "GITHUB_SHA": "a" * 40}

    def staging(self, tag: str, *, live: bool) -> Any:
        """Promote ``tag`` into staging directly, verify against a fresh fake
        cluster, whose controller syncs the pushed commit (``live``) or degrades."""
        self.runs += 1
        where = self.tmp / f"kube{self.runs}"
        where.mkdir()
        kube = FakeKube(where)
        kube.apply(o.application(o.OLD, name="api-staging"))
        kube.apply(o.deployment(f"{IMAGE}:1.4.1", namespace="staging"))

        def controller() -> None:
            kube.wait_watches(2)
            sha = heads(self.bare)["main"]
            kube.apply(o.application(sha, name="api-staging",
                                     health="Healthy" if live else "Degraded"))
            if live:
                o.running(kube, o.deployment(f"{IMAGE}:{tag}", namespace="staging",
                                             observed=2), f"{IMAGE}:{tag}")

        thread = o.in_thread(controller)
        request = self.request("staging", image=f"{IMAGE}:{tag}", direct=True, verify=True,
                               record=True, environment_url="https://staging.example",
                               cluster=Cluster(kubeconfig=kube.kubeconfig()))
        try:
            result: Promotion | PromotionFailed
            try:
                result = promote(request, self.environ())
            except PromotionFailed as failed:  # the cluster proved it not live
                result = failed
            o.join_ok(thread)
        finally:
            kube.close()
        return result

    def url(self) -> str:
        return self.server.url("acme/config")


def ended(outcome: Promotion | PromotionFailed) -> tuple[int, str | None]:
    """The exit code and error of the record a run leaves, failed or not."""
    if isinstance(outcome, PromotionFailed):
        record = outcome.result.record(outcome)
    else:
        record = outcome.record()
    return record["exit_code"], record["error"]


def _tree(tmp_path: Path) -> Path:
    tree = example_copy(tmp_path / "tree")
    config = tree / ".promoter.yaml"
    config.write_text(config.read_text().replace(
        "      labels: [promotion, staging]\n",
        "      labels: [promotion, staging]\n" + STAGING_VERIFY))
    return tree


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with FakeGitHub(token=TOKEN, prefix="/api/v3") as fake, \
            GitServer(tmp_path / "srv", "x-access-token", TOKEN) as server:
        bare = server.create("acme/config", _tree(tmp_path))
        fake.head_sha = lambda ref: heads(bare).get(ref)
        yield World(fake, server, bare, tmp_path)
        assert fake.violations == []


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[World]:
    with FakeGitLab(token=TOKEN) as fake, \
            GitServer(tmp_path / "srv", "oauth2", TOKEN) as server:
        bare = server.create("acme/config", _tree(tmp_path))
        fake.head_sha = lambda ref: heads(bare).get(ref) or ref
        fake.commits.git_dir = bare
        yield World(fake, server, bare, tmp_path)
        assert fake.violations == []


def test_verified_staging_leaves_deployment_and_success_status(world: World) -> None:
    result = world.staging("1.5.0", live=True)
    assert ended(result) == (0, None)
    sha = heads(world.bare)["main"]
    assert result.commit == sha
    assert world.fake.records.states(sha) == {"promoter/staging": "success"}
    [deployment] = world.fake.records.deployments.values()
    assert (deployment.environment, deployment.sha, deployment.task) == ("staging", sha, "deploy")
    assert deployment.payload == {"app": "api", "image": f"{IMAGE}:1.5.0",
                                  "config_commit": sha, "source_commit": "a" * 40}
    assert [s["state"] for s in deployment.statuses] == ["in_progress", "success"]
    assert deployment.statuses[-1]["environment_url"] == "https://staging.example"
    assert deployment.statuses[-1]["target_url"] == "https://github.com/acme/api/actions/runs/7"


def test_the_next_verified_deployment_makes_the_previous_inactive(world: World) -> None:
    world.staging("1.5.0", live=True)
    second = world.staging("1.6.0", live=True)
    assert ended(second) == (0, None)
    first, new = world.fake.records.deployments[1], world.fake.records.deployments[2]
    assert [s["state"] for s in first.statuses] == ["in_progress", "success", "inactive"]
    assert [s["state"] for s in new.statuses] == ["in_progress", "success"]
    assert any("deployment 1 (superseded) set to inactive" in n for n in second.notes)


def test_failed_verification_records_failure(world: World) -> None:
    result = world.staging("1.5.0", live=False)
    assert ended(result)[0] == 6
    sha = heads(world.bare)["main"]
    assert world.fake.records.states(sha) == {"promoter/staging": "failure"}
    [deployment] = world.fake.records.deployments.values()
    assert [s["state"] for s in deployment.statuses] == ["in_progress", "failure"]


def test_gate_lets_a_verified_staging_commit_into_production(world: World) -> None:
    world.staging("1.5.0", live=True)
    result = promote(world.request("production", from_env="staging", require_verified=True),
                     world.environ())
    assert ended(result)[0] == 0 and result.operation == "created"
    assert 'newTag: "1.5.0"' in show(world.bare, "promoter/production/api", PRODUCTION)


def test_gate_refuses_unverified_staging_naming_the_commit(world: World) -> None:
    world.staging("1.5.0", live=False)  # verification failed: status failure
    sha = heads(world.bare)["main"]
    before = heads(world.bare)
    with pytest.raises(PromoterError) as caught:
        promote(world.request("production", from_env="staging", require_verified=True),
                world.environ())
    assert caught.value.exit_code == 1
    assert f"commit {sha}" in caught.value.message
    assert "status failure promoter/staging" in caught.value.message
    assert heads(world.bare) == before and world.fake.pulls == {}


def test_gate_refuses_when_a_later_commit_changed_staging_unverified(world: World) -> None:
    world.staging("1.5.0", live=True)
    promote(world.request("staging", image=f"{IMAGE}:1.6.0", direct=True), world.environ())
    newest = heads(world.bare)["main"]
    with pytest.raises(PromoterError, match=f"commit {newest} holding {IMAGE}:1.6.0 in staging"
                                            " has no status"):
        promote(world.request("production", from_env="staging", require_verified=True),
                world.environ())


def test_gate_follows_the_commit_that_changed_staging_not_the_newest(world: World) -> None:
    """Commits that do not touch staging (production, other apps) keep the gate open."""
    verified = world.staging("1.5.0", live=True).commit
    promote(world.request("production", image=f"{IMAGE}:1.4.9", direct=True), world.environ())
    assert heads(world.bare)["main"] != verified
    result = promote(world.request("production", from_env="staging", require_verified=True),
                     world.environ())
    assert ended(result)[0] == 0 and result.image == f"{IMAGE}:1.5.0"


def test_gate_needs_a_forge_with_statuses_and_a_source(world: World, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--forge local does not keep"):
        promote(Request(repo=str(world.bare), app="api", env="production", forge="local",
                        from_env="staging", require_verified=True), {})
    with pytest.raises(InputError, match="--require-verified needs --from ENV"):
        promote(world.request("staging", image=f"{IMAGE}:1.5.0", require_verified=True),
                world.environ())


# -- GitLab: the same life cycle through the Commits and Deployments APIs ------------


def test_gitlab_verified_staging_leaves_deployment_and_status(lab: World) -> None:
    result = lab.staging("1.5.0", live=True)
    assert ended(result) == (0, None)
    sha = heads(lab.bare)["main"]
    assert lab.fake.records.states(sha) == {"promoter/staging": "success"}
    [deployment] = lab.fake.records.deployments.values()
    assert (deployment.environment, deployment.sha, deployment.ref) == ("staging", sha, "main")
    assert deployment.states == ["running", "success"]


def test_gitlab_failed_verification_records_failed(lab: World) -> None:
    assert ended(lab.staging("1.5.0", live=False))[0] == 6
    sha = heads(lab.bare)["main"]
    assert lab.fake.records.states(sha) == {"promoter/staging": "failed"}
    assert lab.fake.records.deployments[1].states == ["running", "failed"]


def test_gitlab_gate_opens_on_success_and_refuses_otherwise(lab: World) -> None:
    lab.staging("1.5.0", live=False)
    unverified = heads(lab.bare)["main"]
    with pytest.raises(PromoterError, match=f"commit {unverified} .* has status failure"):
        promote(lab.request("production", from_env="staging", require_verified=True),
                lab.environ())
    assert lab.fake.mrs == {}
    lab.staging("1.6.0", live=True)
    result = promote(lab.request("production", from_env="staging", require_verified=True),
                     lab.environ())
    assert ended(result)[0] == 0 and result.image == f"{IMAGE}:1.6.0"
    assert lab.fake.mrs[1].source == "promoter/production/api"


def test_refused_record_keeps_the_pull_request_and_exits_3(world: World) -> None:
    world.fake.fail(403, "Resource not accessible by integration", method="POST",
                    path="/deployments")
    with pytest.raises(PromotionFailed) as info:
        promote(world.request("staging", image=f"{IMAGE}:1.5.0", record=True), world.environ())
    result = info.value.result
    assert ended(info.value)[0] == 3
    assert "deployments: write" in info.value.message
    assert result.pull_request is not None and result.pull_request_operation == "created"
    assert "promoter/staging/api" in heads(world.bare)


def test_pull_request_without_merge_records_in_progress_only(world: World) -> None:
    result = promote(world.request("staging", image=f"{IMAGE}:1.5.0", record=True),
                     world.environ())
    assert ended(result)[0] == 0
    [deployment] = world.fake.records.deployments.values()
    assert deployment.sha == result.commit == heads(world.bare)["promoter/staging/api"]
    assert [s["state"] for s in deployment.statuses] == ["in_progress"]
    assert world.fake.records.statuses == []


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "promoter", *args], capture_output=True,
                          text=True, env={**os.environ, **env}, check=False, timeout=120)


def test_status_shows_the_newest_recorded_deployment(world: World) -> None:
    world.staging("1.5.0", live=True)
    world.staging("1.6.0", live=False)
    sha = heads(world.bare)["main"]
    args = ("status", "--repo", world.url(), "--base", "main", "--deployments",
            "--forge", "github", "--api-url", world.fake.api_url)
    done = _cli(*args, "--output", "json", env={"PROMOTER_TOKEN": TOKEN})
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)["deployments"]
    assert found == {"api": {"staging": {"id": 2, "state": "failure",
                                         "image": f"{IMAGE}:1.6.0", "commit": sha}}}
    text = _cli(*args, env={"PROMOTER_TOKEN": TOKEN})
    assert f"api in staging: deployment 2 failure {IMAGE}:1.6.0 at {sha[:12]}" in text.stdout
    assert TOKEN not in text.stdout + text.stderr


def test_status_shows_the_newest_recorded_deployment_on_gitlab(lab: World) -> None:
    lab.staging("1.5.0", live=True)
    lab.staging("1.6.0", live=False)
    sha = heads(lab.bare)["main"]
    args = ("status", "--repo", lab.url(), "--base", "main", "--deployments", "--forge",
            "gitlab", "--api-url", lab.fake.url)
    env = {"PROMOTER_TOKEN": TOKEN, "CI_SERVER_URL": lab.server.base_url}
    done = _cli(*args, "--output", "json", env=env)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)["deployments"]
    [second] = [d for d in lab.fake.records.deployments.values() if d.sha == sha]
    assert found == {"api": {"staging": {"id": 500 + second.id, "state": "failure",
                                         "image": f"{IMAGE}:1.6.0", "commit": sha}}}
    text = _cli(*args, env=env)
    assert f"api in staging: deployment {500 + second.id} failure {IMAGE}:1.6.0" in text.stdout
    assert TOKEN not in text.stdout + text.stderr


def test_reverifying_what_staging_holds_marks_the_commit_that_holds_it(world: World) -> None:
    """A second verified run with nothing to change (another commit landed since)
    records success on the commit holding the image, so the gate opens."""
    world.staging("1.5.0", live=False)  # pushed, but verification failed
    holding = heads(world.bare)["main"]
    promote(world.request("production", image=f"{IMAGE}:1.4.9", direct=True), world.environ())
    again = world.staging("1.5.0", live=True)  # nothing to change: verify only
    assert ended(again)[0] == 0 and again.commit is None
    assert world.fake.records.states(holding) == {"promoter/staging": "success"}
    result = promote(world.request("production", from_env="staging", require_verified=True),
                     world.environ())
    assert ended(result)[0] == 0 and result.image == f"{IMAGE}:1.5.0"


def test_a_pull_request_that_never_merges_leaves_no_deployment(world: World) -> None:
    with pytest.raises(PromotionFailed) as info:
        promote(world.request("staging", image=f"{IMAGE}:1.5.0", record=True, wait_merge=True,
                              timeout=0.0), world.environ())
    assert ended(info.value)[0] == 5
    assert world.fake.records.deployments == {} and world.fake.records.statuses == []
