"""An Argo CD Application with the source hydrator, followed through the fake
cluster and through the fake Argo CD API server while a test controller plays
Argo CD: hydrate the dry commit promoter pushed, commit the hydrated manifests
to the sync branch (or to a hydrateTo staging branch, merged later), sync."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fakes.kube_server import ADMIN_TOKEN, FakeKube
from hydrator_objects import hydrate_operation as op
from hydrator_objects import hydrator_app
from test_verify_scenarios import Lines
from verify_objects import in_thread, join_ok

from promoter.cli import main
from promoter.config_environments import VerifySettings as VerifyConfig
from promoter.errors import VerifyFailed, VerifyTimeout
from promoter.verify import VerifyRequest, parse_target, run
from promoter.verify.ancestry import repo_ancestry
from promoter.verify.cluster import Cluster
from promoter.verify.pipeline import verify_promotion

APP = parse_target("argocd-app", "argocd/api")
STAGING = "env/prod-next"


class Config:
    """The config repository: dry commits on main, hydrated ones on env/prod
    (and on the staging branch env/prod-next, merged into env/prod)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir()
        self.git("init", "-q", "-b", "main")
        self.prev = self.commit("apps/api/values.yaml", "tag: 1.0")
        self.dry = self.commit("apps/api/values.yaml", "tag: 2.0")  # what promoter pushed
        self.git("checkout", "-q", "--orphan", "env/prod")
        self.git("rm", "-rqf", ".")
        self.hydrated_prev = self.commit("api/manifest.yaml", "image: api:1.0")
        self.git("checkout", "-q", "-b", STAGING)
        self.hydrated = self.commit("api/manifest.yaml", "image: api:2.0")
        self.git("checkout", "-q", "env/prod")
        self.git("merge", "-q", "--no-ff", "-m", "promote env/prod-next", STAGING)
        self.merged = self.git("rev-parse", "HEAD")

    def git(self, *args: str) -> str:
        return subprocess.run(["git", "-C", str(self.path), *args], check=True, text=True,
                              capture_output=True).stdout.strip()

    def commit(self, name: str, text: str) -> str:
        (self.path / name).parent.mkdir(parents=True, exist_ok=True)
        (self.path / name).write_text(text + "\n")
        self.git("add", name)
        self.git("commit", "-q", "-m", f"{name}: {text}")
        return self.git("rev-parse", "HEAD")

    def ancestry(self) -> Callable[[str, str], bool]:
        return repo_ancestry(str(self.path))


@pytest.fixture
def repo(tmp_path: Path) -> Config:
    return Config(tmp_path / "config")


def in_cluster(kube: FakeKube, revision: str, **extra: Any) -> VerifyRequest:
    extra.setdefault("timeout", 20.0)
    return VerifyRequest(revision=revision, settle=0.0, kubeconfig=kube.kubeconfig(), **extra)


def through_api(kube: FakeKube, revision: str, **extra: Any) -> VerifyRequest:
    extra.setdefault("timeout", 20.0)
    return VerifyRequest(revision=revision, settle=0.0, argocd_server=kube.url,
                         argocd_token=ADMIN_TOKEN, argocd_ca=kube.ca_path,
                         kubeconfig="/nonexistent", **extra)


PATHS = {"cluster": in_cluster, "argocd-api": through_api}


@pytest.mark.parametrize("path", PATHS)
def test_the_dry_commit_is_live_once_its_hydrated_commit_is_synced(
        kube: FakeKube, repo: Config, path: str) -> None:
    """Argo CD hydrates, commits, syncs: every step before the last is waited for."""
    before = (repo.prev, repo.hydrated_prev)
    kube.apply(hydrator_app(repo.hydrated_prev, current=op("Hydrated", *before), last=before))
    ours = (repo.dry, repo.hydrated)
    seen = Lines()

    def controller() -> None:
        seen.wait_for(f"last hydrated dry commit {repo.prev[:12]} is not {repo.dry[:12]}")
        kube.apply(hydrator_app(repo.hydrated_prev, current=op("Hydrating"), last=before))
        seen.wait_for("source hydrator Hydrating")
        kube.apply(hydrator_app(repo.hydrated_prev, current=op("Hydrated", *ours), last=ours))
        seen.wait_for(f"is not {repo.hydrated[:12]}, the hydrated commit of dry commit")
        kube.apply(hydrator_app(repo.hydrated, current=op("Hydrated", *ours), last=ours,
                                phase="Running", health="Progressing"))
        seen.wait_for("sync operation Running")
        kube.apply(hydrator_app(repo.hydrated, current=op("Hydrated", *ours), last=ours))

    thread = in_thread(controller)
    result = run([APP], PATHS[path](kube, repo.dry, is_ancestor=repo.ancestry()), progress=seen)
    join_ok(thread)
    assert (result.status, result.synced_revision) == ("verified", repo.hydrated)
    assert result.targets[0]["reason"] == (f"Synced and Healthy at {repo.hydrated[:12]} "
                                           f"(hydrated from dry commit {repo.dry[:12]})")


@pytest.mark.parametrize("path", PATHS)
def test_a_failed_hydration_of_the_dry_commit_fails_fast_with_its_message(
        kube: FakeKube, repo: Config, path: str) -> None:
    before = (repo.prev, repo.hydrated_prev)
    message = (f'Failed to hydrate revision "{repo.dry}": failed to get repo objects: '
               "kustomize build apps/api: accumulating resources")
    kube.apply(hydrator_app(repo.hydrated_prev, current=op("Failed", repo.dry, message=message),
                            last=before))
    with pytest.raises(VerifyFailed) as caught:
        run([APP], PATHS[path](kube, repo.dry))
    assert caught.value.exit_code == 6
    assert (f"argocd-app argocd/api: source hydrator Failed for dry commit {repo.dry[:12]}: "
            f"{message}") in caught.value.message


def test_a_staged_hydration_merged_into_the_sync_branch_counts_with_the_repository(
        kube: FakeKube, repo: Config) -> None:
    """hydrateTo: Argo CD pushed the hydrated commit to env/prod-next and a pull
    request merged it into env/prod, which the app syncs at the merge commit."""
    ours = (repo.dry, repo.hydrated)
    kube.apply(hydrator_app(repo.merged, current=op("Hydrated", *ours, hydrate_to=STAGING),
                            last=ours, hydrate_to=STAGING))
    result = run([APP], in_cluster(kube, repo.dry, is_ancestor=repo.ancestry()))
    assert (result.status, result.synced_revision) == ("verified", repo.merged)
    with pytest.raises(VerifyTimeout, match=re.escape("it syncs once it is moved to env/prod "
                                                      "(without --repo only that exact commit "
                                                      "counts)")):
        run([APP], in_cluster(kube, repo.dry, timeout=1.0))


def test_the_dry_commit_as_sync_revision_without_a_hydration_is_not_live(
        kube: FakeKube, repo: Config) -> None:
    kube.apply(hydrator_app(repo.dry))
    with pytest.raises(VerifyTimeout, match="no hydration recorded yet"):
        run([APP], in_cluster(kube, repo.dry, timeout=1.0))


def test_promoter_verify_reports_the_hydrated_commit_and_the_dry_one(
        kube: FakeKube, repo: Config, capsys: pytest.CaptureFixture[str]) -> None:
    ours = (repo.dry, repo.hydrated)
    kube.apply(hydrator_app(repo.hydrated, current=op("Hydrated", *ours), last=ours))
    with pytest.raises(SystemExit) as exited:
        main(["verify", "--argocd-app", "argocd/api", "--revision", repo.dry, "--repo",
              str(repo.path), "--kubeconfig", kube.kubeconfig(), "--settle", "0s",
              "--output", "json"])
    record = json.loads(capsys.readouterr().out)
    assert exited.value.code in (0, None)
    assert record["verify"]["status"] == "verified"
    assert record["verify"]["synced_revision"] == repo.hydrated
    assert f"hydrated from dry commit {repo.dry[:12]}" in record["verify"]["targets"][0]["reason"]


def test_promote_verify_judges_a_hydrator_app_the_same_way(kube: FakeKube, repo: Config) -> None:
    """``promote --verify``'s stage: the merge commit is the dry commit."""
    ours = (repo.dry, repo.hydrated)
    kube.apply(hydrator_app(repo.hydrated, name="api-prod", current=op("Hydrated", *ours),
                            last=ours))
    spec = VerifyConfig(argocd_apps=("argocd/{app}-{env}",), settle=0)
    result = verify_promotion(spec, app="api", env="prod", revision=repo.dry, image=None,
                              is_ancestor=repo.ancestry(),
                              cluster=Cluster(kubeconfig=kube.kubeconfig()))
    assert (result.status, result.synced_revision) == ("verified", repo.hydrated)
