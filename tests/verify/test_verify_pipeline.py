"""``promote --verify``'s stage: targets from the environment's verify config."""

from __future__ import annotations

import json
from pathlib import Path
from threading import Thread

import pytest
import verify_objects as o
from fakes.kube_server import FakeKube
from support.configrepo import bare_from, example_copy, heads
from verify_objects import in_thread, join_ok

from promoter.config_environments import VerifySettings as VerifyConfig
from promoter.errors import InputError, VerifyTimeout
from promoter.images import parse
from promoter.verify import parse_target
from promoter.verify.cluster import Cluster
from promoter.verify.pipeline import targets_from, verify_promotion

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"


def test_targets_fill_app_and_env() -> None:
    spec = VerifyConfig(argocd_apps=("argocd/{app}-{env}",),
                        workloads=("Deployment/{env}/{app}",))
    assert targets_from(spec, "api", "prod") == [
        parse_target("argocd-app", "argocd/api-prod"),
        parse_target("workload", "Deployment/prod/api")]


def test_verified_record(kube: FakeKube) -> None:
    kube.apply(o.application(SHA, name="api-prod"))
    o.running(kube, o.deployment(f"{o.IMAGE}:2.0"), f"{o.IMAGE}:2.0")
    spec = VerifyConfig(argocd_apps=("argocd/{app}-{env}",),
                        workloads=("Deployment/{env}/{app}",), settle=0)
    result = verify_promotion(spec, app="api", env="prod", revision=SHA,
                              image=parse(f"{o.IMAGE}:2.0"), is_ancestor=None,
                              cluster=Cluster(kubeconfig=kube.kubeconfig()))
    assert result.status == "verified"
    assert result.synced_revision == SHA


def test_timeout_is_recorded_with_exit_5(kube: FakeKube) -> None:
    kube.apply(o.application(o.OLD, name="api-prod"))
    spec = VerifyConfig(argocd_apps=("argocd/{app}-{env}",), timeout=1, settle=0)
    with pytest.raises(VerifyTimeout) as info:
        verify_promotion(spec, app="api", env="prod", revision=SHA, image=None,
                         is_ancestor=None, cluster=Cluster(kubeconfig=kube.kubeconfig()))
    assert (info.value.exit_code, info.value.result.status) == (5, "timeout")
    assert "argocd-app argocd/api-prod" in info.value.message


@pytest.mark.parametrize(("spec", "revision", "text"), [
    (VerifyConfig(), SHA, "environments.prod.verify"),
    (VerifyConfig(argocd_apps=("api",)), None, "no merge commit"),
    (VerifyConfig(argocd_apps=("api",)), "main", "invalid --revision"),
])
def test_unusable_settings_exit_2(spec: VerifyConfig, revision: str | None, text: str) -> None:
    with pytest.raises(InputError) as info:
        verify_promotion(spec, app="api", env="prod", revision=revision, image=None,
                         is_ancestor=None, cluster=Cluster())
    assert info.value.exit_code == 2
    assert text in info.value.message


def promotion_into_production(kube: FakeKube, tmp_path: Path) -> tuple[Path, Thread]:
    """The example config repository (verify timeout 20s, settle 0s) and a controller
    that syncs api-production to the pushed commit and rolls out 1.5.0."""
    tree = example_copy(tmp_path / "tree")
    config = tree / ".promoter.yaml"
    config.write_text(config.read_text().replace("      timeout: 10m\n",
                                                 "      timeout: 20s\n      settle: 0s\n"))
    remote = bare_from(tree, tmp_path / "remote.git")
    kube.apply(o.application(o.OLD, name="api-production"))
    kube.apply(o.deployment(f"{o.IMAGE}:1.0", namespace="production"))

    def controller() -> None:
        kube.wait_watches(2)
        sha = heads(remote)["main"]
        kube.apply(o.application(sha, name="api-production"))
        o.running(kube, o.deployment(f"{o.IMAGE}:1.5.0", namespace="production", observed=2),
                  f"{o.IMAGE}:1.5.0")

    return remote, in_thread(controller)


def test_promote_verify_direct_push(kube: FakeKube, tmp_path: Path) -> None:
    """``promote --verify``: the pushed commit, the config's targets, the new image."""
    from promoter.promote import Request, promote

    remote, thread = promotion_into_production(kube, tmp_path)
    result = promote(Request(repo=str(remote), app="api", env="production", direct=True,
                             image=f"{o.IMAGE}:1.5.0", verify=True,
                             cluster=Cluster(kubeconfig=kube.kubeconfig())), {})
    join_ok(thread)
    record = result.record()
    assert (record["exit_code"], record["error"]) == (0, None)
    assert record["verify"]["status"] == "verified"
    assert record["verify"]["synced_revision"] == record["commit"] == heads(remote)["main"]


def two_contexts(kube: FakeKube, path: Path) -> Path:
    """A kubeconfig whose current context is a closed port; only ``fake`` reaches
    the fake cluster."""
    config = json.loads(Path(kube.kubeconfig()).read_text())
    config["clusters"].append({"name": "elsewhere",
                               "cluster": {"server": "https://127.0.0.1:9"}})
    config["contexts"].append({"name": "elsewhere",
                               "context": {"cluster": "elsewhere", "user": "fake"}})
    config["current-context"] = "elsewhere"
    path.write_text(json.dumps(config))
    return path


def test_promote_cli_verify_kubeconfig_and_context_reach_the_verifier(
        kube: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """``promote --verify --kubeconfig X --context Y``: verify's cluster flags
    (promoter.cli.common.cluster_options) reach the verifier."""
    from promoter.cli import main

    kubeconfig = two_contexts(kube, tmp_path / "kubeconfig")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    remote, thread = promotion_into_production(kube, tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(["promote", "--repo", str(remote), "--app", "api", "--env", "production",
              "--image", f"{o.IMAGE}:1.5.0", "--direct", "--verify", "--output", "json",
              "--kubeconfig", str(kubeconfig), "--context", "fake"])
    join_ok(thread)
    out, err = capsys.readouterr()
    assert exited.value.code == 0, err
    record = json.loads(out)
    assert record["verify"]["status"] == "verified"
    assert record["verify"]["synced_revision"] == record["commit"] == heads(remote)["main"]
