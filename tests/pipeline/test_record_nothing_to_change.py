"""``promote --verify --record`` when the base already holds the image (through
a pull request, so nothing is proposed): verification proves the base head,
and the record lands where ``--require-verified`` reads it, on the commit that
holds the image, as it does for a direct push that changed nothing. Exit 0
with --record asked for and nothing recorded would be a silent no."""

from __future__ import annotations

from fakes.kube_server import FakeKube
from support.configrepo import heads
from test_gates import IMAGE, World, o, world  # noqa: F401 (the fixture; o: verify_objects)

from promoter.promote import promote
from promoter.verify.cluster import Cluster


def test_a_verified_base_that_already_holds_the_image_is_recorded(
    world: World,  # noqa: F811 (the fixture of tests/test_gates.py)
) -> None:
    promote(world.request("staging", image=f"{IMAGE}:1.5.0", direct=True), world.environ())
    holding = heads(world.bare)["main"]
    where = world.tmp / "kube"
    where.mkdir()
    kube = FakeKube(where)
    try:
        kube.apply(o.application(holding, name="api-staging"))
        o.running(kube, o.deployment(f"{IMAGE}:1.5.0", namespace="staging"), f"{IMAGE}:1.5.0")
        result = promote(world.request("staging", image=f"{IMAGE}:1.5.0", verify=True,
                                       record=True, cluster=Cluster(kubeconfig=kube.kubeconfig())),
                         world.environ())
    finally:
        kube.close()
    record = result.record()
    assert (record["operation"], record["exit_code"]) == ("none", 0)
    assert record["verify"]["status"] == "verified"
    assert world.fake.records.states(holding) == {"promoter/staging": "success"}
