"""The Argo CD API-server path against the fake: the streaming watch, sync,
Argo CD 3.x's resource tree, redirects, TLS and redaction."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import verify_objects as o
from fakes.kube_server import ADMIN_TOKEN, FakeKube
from verify_objects import in_thread, join_ok

from promoter.errors import AuthError, PromoterError, VerifyFailed, VerifyTimeout
from promoter.verify import VerifyRequest, parse_target, run

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
APP = parse_target("argocd-app", "argocd/api")


def through_api(kube: FakeKube, **extra: Any) -> VerifyRequest:
    extra.setdefault("argocd_ca", kube.ca_path)
    extra.setdefault("timeout", 20.0)
    return VerifyRequest(revision=SHA, settle=0.0, argocd_server=kube.url,
                          argocd_token=ADMIN_TOKEN, kubeconfig="/nonexistent", **extra)


@pytest.fixture
def other(tmp_path: Path) -> Iterator[FakeKube]:
    server = FakeKube(tmp_path / "other" if (tmp_path / "other").mkdir() is None else tmp_path)
    server.name = "other"
    yield server
    server.close()


def test_follows_the_stream_not_a_poll(kube: FakeKube) -> None:
    kube.apply(o.application(o.OLD))

    def controller() -> None:
        kube.wait_watches(1)  # the stream is a watch on the fake's store
        kube.apply(o.application(SHA, phase="Running", health="Progressing"))
        kube.apply(o.application(SHA))

    thread = in_thread(controller)
    result = run([APP], through_api(kube))
    join_ok(thread)
    assert result.synced_revision == SHA
    gets = [a for a in kube.seen_auth if a[1] == f"Bearer {ADMIN_TOKEN}"]
    assert len(gets) <= 3  # one read, one stream (and maybe a re-read): no polling


def test_a_missing_app_is_a_403_that_says_it_may_not_exist(kube: FakeKube) -> None:
    with pytest.raises(AuthError) as caught:
        run([APP], through_api(kube))
    assert "403" in caught.value.message
    assert "may not exist, or the token may not be allowed to see it" in caught.value.message


@pytest.mark.parametrize("code", [302, 307])
def test_a_redirect_to_another_origin_is_refused_without_the_token(
        kube: FakeKube, other: FakeKube, code: int) -> None:
    kube.apply(o.application(SHA))
    other.apply(o.application(SHA))
    kube.argocd_redirect = (code, other.url)
    with pytest.raises(PromoterError) as caught:
        run([APP], through_api(kube))
    assert caught.value.exit_code == 2
    assert f"the Argo CD API ({code}) redirected to {other.url}" in caught.value.message
    assert "another origin" in caught.value.message
    assert ADMIN_TOKEN not in caught.value.message
    assert other.seen_auth == []


def test_tls_failure_names_its_cause_and_argocd_ca_fixes_it(
        kube: FakeKube, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    kube.apply(o.application(SHA))
    with pytest.raises(PromoterError) as caught:
        run([APP], through_api(kube, argocd_ca=None))
    assert caught.value.exit_code == 2
    assert "TLS verification" in caught.value.message
    assert "certificate verify failed" in caught.value.message
    assert "--argocd-ca" in caught.value.message
    assert run([APP], through_api(kube)).status == "verified"


def test_server_messages_are_redacted(kube: FakeKube) -> None:
    kube.apply(o.application(SHA))
    kube.argocd_echo = True
    with pytest.raises(VerifyTimeout) as caught:
        run([APP], through_api(kube, timeout=1.0))
    assert "500" in caught.value.message
    assert ADMIN_TOKEN not in caught.value.message
    assert "***" in caught.value.message  # the echoed Authorization header, masked


def test_auto_sync_off_is_said_at_once_and_sync_triggers_one(kube: FakeKube) -> None:
    app = o.application(o.OLD, sync="OutOfSync", phase=None)
    kube.apply(app)
    with pytest.raises(VerifyTimeout, match="auto-sync is off for this application"):
        run([APP], through_api(kube, timeout=1.0))
    assert kube.argocd_syncs == []

    def controller() -> None:  # Argo CD's controller runs the operation it was given
        kube.wait_watches(1)
        with kube.store.cond:
            kube.store.cond.wait_for(lambda: bool(kube.argocd_syncs), 10)
        kube.apply(o.application(SHA))

    thread = in_thread(controller)
    assert run([APP], through_api(kube, sync=True)).status == "verified"
    join_ok(thread)
    assert [name for name, _ in kube.argocd_syncs] == ["api"]


def test_argocd_3_resource_health_comes_from_the_resource_tree(kube: FakeKube) -> None:
    """Argo CD 3.x keeps no health in status.resources: the failing workload is
    named from the API server's resource tree."""
    resources = [{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "prod",
                  "name": "api", "status": "Synced"}]
    kube.apply(o.application(SHA, health="Degraded", resources=resources))
    kube.resource_tree["api"] = [{**resources[0], "uid": "u1", "resourceVersion": "1",
                                  "health": {"status": "Degraded",
                                             "message": "exceeded its progress deadline"}}]
    with pytest.raises(VerifyFailed) as caught:
        run([APP], through_api(kube))
    assert caught.value.result.targets[0]["resources"] == [
        "Deployment/prod/api: Degraded: exceeded its progress deadline"]
