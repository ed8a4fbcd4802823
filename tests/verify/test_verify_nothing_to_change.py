"""``promote --verify`` when the base already holds the image: nothing is
proposed, but the user asked for proof that the image is live. The base head is
the commit that must be live (as for a direct push that changed nothing); the
run never exits 0 without having looked at the cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
import verify_objects as o
from fakes.kube_server import FakeKube
from support.configrepo import bare_from, example_copy, heads

from promoter.errors import PromotionFailed
from promoter.promote import Request, promote
from promoter.verify.cluster import Cluster

NEW = f"{o.IMAGE}:1.5.0"


def holding_the_image(tmp_path: Path, timeout: str = "20s") -> Path:
    """The example config repository whose production base already holds 1.5.0
    (verify ``timeout``, settle 0s)."""
    tree = example_copy(tmp_path / "tree")
    config = tree / ".promoter.yaml"
    config.write_text(config.read_text().replace("      timeout: 10m\n",
                                                 f"      timeout: {timeout}\n      settle: 0s\n"))
    remote = bare_from(tree, tmp_path / "remote.git")
    promote(Request(repo=str(remote), app="api", env="production", direct=True, image=NEW), {})
    return remote


def test_a_cluster_still_on_an_older_failed_sync_fails_the_promotion(
    kube: FakeKube, tmp_path: Path
) -> None:
    remote = holding_the_image(tmp_path, timeout="1s")
    kube.apply(o.application(o.OLD, name="api-production", sync="OutOfSync",
                             health="Degraded", phase="Failed"))
    kube.apply(o.deployment(f"{o.IMAGE}:1.0", namespace="production"))
    with pytest.raises(PromotionFailed) as failed:
        promote(Request(repo=str(remote), app="api", env="production", image=NEW, verify=True,
                        cluster=Cluster(kubeconfig=kube.kubeconfig())), {})
    record = failed.value.result.record()
    assert failed.value.exit_code == 5  # still on the old revision when the wait ran out
    assert record["operation"] == "none" and record["verify"]["status"] != "verified"


def test_a_cluster_running_the_base_head_is_verified(kube: FakeKube, tmp_path: Path) -> None:
    remote = holding_the_image(tmp_path)
    head = heads(remote)["main"]
    kube.apply(o.application(head, name="api-production"))
    o.running(kube, o.deployment(NEW, namespace="production", observed=1), NEW)
    result = promote(Request(repo=str(remote), app="api", env="production", image=NEW,
                             verify=True, cluster=Cluster(kubeconfig=kube.kubeconfig())), {})
    record = result.record()
    assert (record["operation"], record["exit_code"]) == ("none", 0)
    assert record["verify"]["status"] == "verified"
    assert record["verify"]["synced_revision"] == head
