"""``promoter verify``'s options come from the verify kinds' table
(promoter.verify.kinds.KINDS): one row per kind, and ``--help`` says what it
said when they were listed by hand."""

from __future__ import annotations

import textwrap

from click.testing import CliRunner

from promoter.cli import cli
from promoter.cli.verify import verify
from promoter.verify.kinds import KINDS

HELP = textwrap.dedent("""\
    Usage: promoter verify [OPTIONS]

      Verify that REVISION (or a later commit containing it) is live: Argo CD or
      Flux synced it, and the workloads rolled out and run --image.

      Without --repo only an exact SHA match of the synced revision counts.

    Options:
      --argocd-app [NS/]NAME          Argo CD Application (namespace argocd by
                                      default).  [env var: PROMOTER_ARGOCD_APP]
      --flux-kustomization NS/NAME    Flux Kustomization.  [env var:
                                      PROMOTER_FLUX_KUSTOMIZATION]
      --flux-helmrelease NS/NAME      Flux HelmRelease.  [env var:
                                      PROMOTER_FLUX_HELMRELEASE]
      --workload KIND/NS/NAME         Deployment, StatefulSet, DaemonSet or
                                      Rollout.  [env var: PROMOTER_WORKLOAD]
      --revision SHA                  The merged commit.  [env var:
                                      PROMOTER_REVISION; required]
      --repo URL|PATH                 Config repository: accept descendants of the
                                      merged commit, and pick its source in multi-
                                      source Argo CD apps.  [env var:
                                      PROMOTER_REPO]
      --image REF                     Image the workloads must run.  [env var:
                                      PROMOTER_IMAGE]
      --timeout TEXT                  Give up after this long.  [env var:
                                      PROMOTER_TIMEOUT; default: 10m]
      --settle TEXT                   How long everything must stay ready.  [env
                                      var: PROMOTER_SETTLE; default: 10s]
      --kubeconfig PATH               kubeconfig file (default: the usual).  [env
                                      var: PROMOTER_KUBECONFIG]
      --context NAME                  kubeconfig context.  [env var:
                                      PROMOTER_CONTEXT]
      --argocd-server URL             Read Applications from the Argo CD API.
                                      [env var: PROMOTER_ARGOCD_SERVER]
      --argocd-token TOKEN            Argo CD API token.  [env var:
                                      PROMOTER_ARGOCD_TOKEN]
      --argocd-ca PATH                CA bundle for the Argo CD API server
                                      (default: system store, SSL_CERT_FILE).
                                      [env var: PROMOTER_ARGOCD_CA]
      --sync                          Sync an OutOfSync Argo CD app (for apps
                                      without auto-sync).  [env var:
                                      PROMOTER_SYNC]
      --refresh                       Ask Argo CD / Flux to reconcile now.  [env
                                      var: PROMOTER_REFRESH]
      --allow-paused                  Accept an Argo Rollout paused indefinitely
                                      (timed pauses are followed).  [env var:
                                      PROMOTER_ALLOW_PAUSED]
      --output [text|json|github|gitlab]
                                      [env var: PROMOTER_OUTPUT; default: text]
      -h, --help                      Show this message and exit.
""")


def test_help_is_unchanged() -> None:
    # 78: what click formats for an 80-column terminal, or output that is no terminal
    result = CliRunner().invoke(cli, ["verify", "--help"], terminal_width=78,
                                prog_name="promoter")
    assert result.exit_code == 0 and result.output == HELP


def test_each_kind_is_one_repeatable_option() -> None:
    options = {param.name: param for param in verify.params}
    for key in KINDS:
        option = options[key.replace("-", "_")]
        assert option.opts == [f"--{key}"] and option.multiple
        assert option.envvar == "PROMOTER_" + key.upper().replace("-", "_")
