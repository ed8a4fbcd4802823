"""The Kubernetes API client and a redirect: the kubeconfig's server answers
with a redirect to another origin. The kubernetes client (urllib3) would follow
it, without the token but with the request, and judge whatever the other
server says. promoter's rule for every HTTP client holds here too: nothing is
sent to the other origin, and the run stops with exit 2 naming both ends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import verify_objects as o
from fakes.kube_server import ADMIN_TOKEN, FakeKube
from support.hostile import HostileServer, redirect

from promoter.errors import InputError
from promoter.verify import VerifyRequest, parse_target, run

SHA = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"


@pytest.mark.parametrize("code", [302, 307])
def test_a_redirect_to_another_origin_is_refused_and_nothing_reaches_it(
    kube: FakeKube, tmp_path: Path, code: int
) -> None:
    kube.apply(o.application(SHA))  # the other origin would say: verified
    tls = (kube.workdir / "kube-ca.pem", kube.workdir / "kube-key.pem")
    with HostileServer(tls=tls) as front:
        front.reply = redirect(kube.url, code)
        config = json.loads(Path(kube.kubeconfig()).read_text())
        config["clusters"][0]["cluster"]["server"] = front.url
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(json.dumps(config))
        with pytest.raises(InputError) as caught:
            run([parse_target("argocd-app", "argocd/api")],
                VerifyRequest(revision=SHA, settle=0.0, timeout=20.0,
                              kubeconfig=str(kubeconfig)))
        assert front.seen, "the front was never asked: the test proves nothing"
    assert caught.value.exit_code == 2
    assert f"redirect ({code}) to {kube.url}" in caught.value.message
    assert ADMIN_TOKEN not in caught.value.message
    assert kube.seen_auth == []  # not a request, with or without the token
