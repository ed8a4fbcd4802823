"""verify's messages name what the user has: the setting that sets the time
limit (``--timeout`` for ``promoter verify``, the environment's
``verify.timeout`` in .promoter.yaml under ``promote --verify``), and for a
refusal the request the API server refused (verb, resource, namespace), not
the object being verified."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import pytest
import verify_objects as o
from fakes.kube_server import FakeKube
from support.gitserver import GitServer
from test_verify_fetch_deadline import UNKNOWN, stalled  # noqa: F401 (the fixture)
from test_verify_kubeconfig_bounds import PLUGIN, exec_kubeconfig

from promoter.config_environments import VerifySettings
from promoter.errors import AuthError, VerifyTimeout, WaitTimeout
from promoter.images import parse
from promoter.verify import VerifyRequest, parse_target, run
from promoter.verify.ancestry import repo_ancestry
from promoter.verify.cluster import Cluster
from promoter.verify.pipeline import verify_promotion

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
SETTING = "environments.prod.verify.timeout in .promoter.yaml"


def promotion(kube: FakeKube, timeout: float, is_ancestor: object = None,
              kubeconfig: str | None = None) -> None:
    spec = VerifySettings(argocd_apps=("argocd/{app}-{env}",), timeout=timeout, settle=0)
    verify_promotion(spec, app="api", env="prod", revision=SHA, image=None,
                     is_ancestor=is_ancestor,  # type: ignore[arg-type]
                     cluster=Cluster(kubeconfig=kubeconfig or kube.kubeconfig()))


def test_promote_verify_timing_out_names_the_config_setting(kube: FakeKube) -> None:
    kube.apply(o.application(o.OLD, name="api-prod"))
    with pytest.raises(VerifyTimeout) as info:
        promotion(kube, 0.5)
    assert info.value.message.endswith(f"; raise {SETTING} or check the controller")
    assert "--timeout" not in info.value.message


def test_promote_verify_fetch_cut_by_the_deadline_names_the_config_setting(
        kube: FakeKube, stalled: tuple[GitServer, str]) -> None:  # noqa: F811
    """The cluster names a commit the clone lacks; the fetch stalls and is cut
    at the time left of the environment's verify.timeout (1 s)."""
    server, path = stalled
    kube.apply(o.application(UNKNOWN[::-1], name="api-prod"))
    with pytest.raises(WaitTimeout) as info:
        promotion(kube, 1.0, repo_ancestry(path, timeout=600.0))
    assert server.stalled.is_set()
    assert f"took longer than {SETTING} (" in info.value.message
    assert info.value.message.endswith(f"raise {SETTING}")
    assert "--timeout" not in info.value.message


def test_promote_verify_stalled_exec_plugin_names_the_config_setting(
        kube: FakeKube, tmp_path: Path) -> None:
    plugin = tmp_path / "plugin.py"
    plugin.write_text(PLUGIN)
    try:
        with pytest.raises(WaitTimeout) as info:
            promotion(kube, 1.0, kubeconfig=exec_kubeconfig(kube, tmp_path, str(plugin)))
    finally:
        pid = tmp_path / "plugin.pid"
        if pid.exists():  # the plugin promoter started: end it by its id
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid.read_text()), signal.SIGKILL)
    assert f"had not answered when {SETTING} (1s) ran out" in info.value.message
    assert "--timeout" not in info.value.message


def test_verify_names_its_own_option(kube: FakeKube) -> None:
    kube.apply(o.application(o.OLD))
    with pytest.raises(VerifyTimeout, match=r"; raise --timeout or check the controller$"):
        run([parse_target("argocd-app", "api")],
            VerifyRequest(revision=SHA, timeout=0.5, settle=0, kubeconfig=kube.kubeconfig()))


@pytest.mark.parametrize("refused", ["pods", "replicasets"])
def test_a_refused_list_names_the_request_not_the_workload(kube: FakeKube,
                                                           refused: str) -> None:
    """RBAC lets the token read the Deployment but not list its Pods (or
    ReplicaSets): exit 3 names the refused request (listing pods in namespace
    prod), not the Deployment."""
    o.running(kube, o.deployment(f"{o.IMAGE}:2.0"), f"{o.IMAGE}:2.0")
    kube.refused.add(refused)
    with pytest.raises(AuthError) as info:
        run([parse_target("workload", "Deployment/prod/api")],
            VerifyRequest(revision=SHA, timeout=20, settle=0, kubeconfig=kube.kubeconfig(),
                          image=parse(f"{o.IMAGE}:2.0")))
    assert info.value.exit_code == 3
    assert f"refused listing {refused} in namespace prod (403 Forbidden)" in info.value.message
    assert "deployments" not in info.value.message


@pytest.mark.parametrize(("refused", "request_words"), [
    ("applications", "listing applications argocd/api"),
    ("watch applications", "watching applications argocd/api"),
    ("patch applications", "patching applications argocd/api"),
])
def test_a_refused_request_on_the_object_names_its_verb(kube: FakeKube, refused: str,
                                                        request_words: str) -> None:
    """RBAC refuses the Application itself (every verb, the watch, or the
    patch of --refresh, the first request when asked for): exit 3 says which
    request, so the Role can be fixed from the message alone."""
    kube.apply(o.application(o.OLD))
    kube.refused.add(refused)
    with pytest.raises(AuthError) as info:
        run([parse_target("argocd-app", "api")],
            VerifyRequest(revision=SHA, timeout=20, settle=0, kubeconfig=kube.kubeconfig(),
                          refresh=refused.startswith("patch")))
    assert info.value.exit_code == 3
    assert f"Kubernetes API refused {request_words} (403 Forbidden)" in info.value.message
