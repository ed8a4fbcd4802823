"""How verification reaches the cluster and the Argo CD API, and what it may ask
of them: the flags ``promoter verify`` and ``promote --verify`` share
(promoter.cli.common.cluster_options)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from promoter.images import ImageRef
from promoter.verify import VerifyRequest


@dataclass(frozen=True)
class Cluster:
    kubeconfig: str | None = None  # None: KUBECONFIG or ~/.kube/config, as kubectl
    context: str | None = None  # None: the kubeconfig's current context
    argocd_server: str | None = None  # read Applications from the Argo CD API instead
    argocd_token: str | None = field(default=None, repr=False)  # a secret
    argocd_ca: str | None = None  # CA bundle for the Argo CD API server
    sync: bool = False  # Argo CD: request a sync of an OutOfSync app (auto-sync off)
    refresh: bool = False  # ask Argo CD / Flux to reconcile now
    allow_paused: bool = False  # accept an Argo Rollout paused indefinitely

    def check(self) -> None:
        """InputError for a cluster URL with credentials in it: ``--argocd-server``,
        the kubeconfig's server (read without running its exec plugins). The
        checks verification makes before its first request; ``promote --verify``
        makes them before the clone, so a refusal comes before any push."""
        from promoter.verify.argocd_api import server_url
        from promoter.verify.kube_connect import check_server

        if self.argocd_server:
            server_url(self.argocd_server)
        check_server(self.kubeconfig, self.context)

    def settings(self, revision: str, *, image: ImageRef | None, timeout: float, settle: float,
                 is_ancestor: Callable[[str, str], bool] | None,
                 repo_url: str | None, limit: str = "--timeout") -> VerifyRequest:
        """The settings of one verification of ``revision`` through this cluster;
        ``limit`` names the setting of ``timeout`` in messages."""
        return VerifyRequest(
            revision=revision, image=image, timeout=timeout, settle=settle,
            kubeconfig=self.kubeconfig, context=self.context,
            argocd_server=self.argocd_server, argocd_token=self.argocd_token,
            argocd_ca=self.argocd_ca, sync=self.sync, refresh=self.refresh,
            allow_paused=self.allow_paused, is_ancestor=is_ancestor, repo_url=repo_url,
            limit=limit,
        )
