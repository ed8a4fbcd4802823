"""`command: verify` through each wrapper under its real runner, against the
fake Kubernetes API on 127.0.0.1 (tests/fakes/kube_server.py: TLS, a bearer
token, every object validated against its schema): the action under act, the
component and the template under gitlab-ci-local. The verify-only inputs
(argocd-app, flux-kustomization, flux-helmrelease, workload, revision, settle)
reach ``promoter verify``; a verification that passes sets verify-status and
synced-revision, one that fails sets operation=failed and the error (an
``::error::`` on GitHub, PROMOTER_OPERATION=failed in the dotenv on GitLab)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from act_support import run_act
from ci_support import ROOT, SENTINEL, config_tree, files_containing, git
from fakes.kube_server import ADMIN_TOKEN, FakeKube
from gitlab_support import TEMPLATE, job_report, run_project, version
from support.gitserver import GitServer

sys.path.insert(0, str(Path(__file__).parents[1] / "verify"))
import verify_objects as o

IMAGE = f"{o.IMAGE}:2.0"


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[FakeKube]:
    (tmp_path / "kube").mkdir()
    server = FakeKube(tmp_path / "kube")
    yield server
    server.close()
    assert not server.store.pruned, f"fields pruned by the API server: {server.store.pruned}"


@pytest.fixture
def merged(tmp_path: Path) -> tuple[Path, str, str]:
    """The config repository (bare) with two commits: the merged one (BASE) and a
    later one (CHILD) that the controllers have synced since."""
    work = config_tree(tmp_path / "config-work")
    git(work, "init", "-q", "-b", "main")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "merge: promote api to 2.0")
    base = git(work, "rev-parse", "HEAD")
    (work / "README").write_text("a later commit\n")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "a later commit")
    bare = tmp_path / "config.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    return bare, base, git(work, "rev-parse", "HEAD")


def live(kube: FakeKube, synced: str) -> None:
    """A cluster where ``synced`` is live everywhere: Argo CD app api, Flux's
    Kustomization and HelmRelease api, Deployments api and worker on IMAGE; and
    an Argo CD app ``broken`` that is Degraded after syncing it."""
    kube.apply(o.application(synced))
    kube.apply(o.application(synced, name="broken", health="Degraded"))
    kube.apply(o.flux("Kustomization", f"main@sha1:{synced}"))
    kube.apply(o.flux("HelmRelease", f"main/{synced}"))
    for name in ("api", "worker"):
        o.running(kube, o.deployment(IMAGE, name=name), IMAGE)


VERIFY = {"command": "verify", "settle": "0s", "timeout": "20s"}


def test_action_verify_passes_with_the_verify_inputs(
    tmp_path: Path, act_bin: Path, kube: FakeKube, merged: tuple[Path, str, str],
    promoter_bin: Path,
) -> None:
    """Lists comma or newline separated, as labels; `repository` is --repo (so a
    descendant of `revision` counts), `image` is --image."""
    remote, base, child = merged
    live(kube, child)
    run = run_act(tmp_path, act_bin, remote, IMAGE, inputs={
        **VERIFY, "revision": base, "kubeconfig": kube.kubeconfig(), "argocd-app": "argocd/api",
        "flux-kustomization": "flux-system/api", "flux-helmrelease": "flux-system/api",
        "workload": '"Deployment/prod/api\\nDeployment/prod/worker"'})
    assert run.returncode == 0, run.text[-4000:]
    assert run.outputs["verify-status"] == "verified", run.text[-4000:]
    assert run.outputs["synced-revision"] == child
    assert run.outputs["operation"] == "none" and run.outputs["error"] == ""
    record = json.loads(run.outputs["result"])
    assert record["revision"] == base and record["image"] == IMAGE
    assert sorted((t["kind"], t["name"], t["status"]) for t in record["verify"]["targets"]) == [
        ("argocd-app", "api", "ready"), ("flux-helmrelease", "api", "ready"),
        ("flux-kustomization", "api", "ready"), ("workload", "api", "ready"),
        ("workload", "worker", "ready")]
    assert [e for e in run.events if e.get("command") == "error"] == []
    assert "### promoter: verify" in run.summary()
    assert ADMIN_TOKEN not in run.printed() and SENTINEL not in run.printed()


def test_action_verify_failure_sets_failed_the_error_and_one_annotation(
    tmp_path: Path, act_bin: Path, kube: FakeKube, merged: tuple[Path, str, str],
    promoter_bin: Path,
) -> None:
    remote, base, child = merged
    live(kube, child)
    run = run_act(tmp_path, act_bin, remote, IMAGE, inputs={
        **VERIFY, "revision": base, "kubeconfig": kube.kubeconfig(),
        "argocd-app": "broken", "workload": "Deployment/prod/api"})
    assert run.returncode != 0
    out = run.outputs
    assert out["operation"] == "failed", run.text[-4000:]
    assert out["verify-status"] == "failed" and out["synced-revision"] == child
    assert "verification failed: argocd-app argocd/broken: Degraded" in out["error"], out
    errors = [e["arg"] for e in run.events if e.get("command") == "error"]
    assert len(errors) == 1 and "argocd/broken" in errors[0], errors
    assert "exited with code 6" not in out["error"]  # promoter's own report, not the fallback


# Two stages: gitlab-ci-local's shell executor runs every job in the project
# directory itself, so two jobs of one stage would share their report files.
PIPELINE = """\
stages: [ok, broken]

include:
  - SOURCE
    inputs: &verify
      environment: staging
      stage: ok
      job-suffix: -ok
      command: verify
      image: IMAGE
      REPOSITORY
      revision: REVISION
      argocd-app: argocd/api
      flux-kustomization: flux-system/api
      flux-helmrelease: flux-system/api
      workload: Deployment/prod/api Deployment/prod/worker
      kubeconfig: KUBECONFIG
      settle: 0s
      timeout: 20s
      install: false
  - SOURCE
    inputs:
      <<: *verify
      stage: broken
      job-suffix: -broken
      revision: BROKEN_REVISION
      argocd-app: broken
"""


# The merged commit from an earlier job's dotenv, as a promote job reports it:
# `revision: $PROMOTER_MERGE_COMMIT_SHA` with `needs:` that job (the -broken
# job has no `needs:`, so it still waits for the -ok job's stage).
FROM_DOTENV = """\
merged:
  stage: merge
  script:
    - echo "PROMOTER_MERGE_COMMIT_SHA=MERGED" > merge.env
  artifacts:
    reports:
      dotenv: merge.env

promote-staging-ok:
  needs: [merged]
"""


def gitlab_pipeline(source: str, repository: str, revision: str, kube: FakeKube,
                    literal: str = "") -> str:
    """``revision`` for the -ok job; the -broken job (a later stage, never beside
    it) takes ``literal``, else the same."""
    literal = literal or revision
    return (PIPELINE.replace("SOURCE", source).replace("IMAGE", IMAGE)
            .replace("REPOSITORY", repository).replace("BROKEN_REVISION", literal)
            .replace("REVISION", revision).replace("KUBECONFIG", kube.kubeconfig()))


REPORTED = ("promote-staging-ok", "promote-staging-broken")


def reported(artifacts: Path) -> bool:
    return all((artifacts / job / ".gitlab-ci-reports" / "dotenv" / "promoter.env").exists()
               for job in REPORTED)


def run_verify_pipeline(tmp_path: Path, runner: Path, pipeline: str,
                        files: dict[str, Path], origin: str | None = None
                        ) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """The pipeline under gitlab-ci-local; once more (in a new project) only if a
    job left no report at all, which one full-suite run met once and no rerun
    reproduced. A template that never writes its report fails both runs, and
    check_gitlab_jobs then shows the log."""
    for attempt in ("first", "again"):
        where = tmp_path / attempt
        where.mkdir()
        done, artifacts = run_project(where, runner, pipeline, files, origin=origin)
        if reported(artifacts):
            break
    return done, artifacts, where / "app"


def check_gitlab_jobs(artifacts: Path, log: str, synced: str) -> None:
    """Job -ok verified and reported it; job -broken failed and reported that."""
    assert reported(artifacts), f"a job left no dotenv report:\n{log[-6000:]}"
    ok = job_report(artifacts, "promote-staging-ok")
    assert ok["PROMOTER_VERIFY_STATUS"] == "verified", log[-4000:]
    assert ok["PROMOTER_SYNCED_REVISION"] == synced
    assert ok["PROMOTER_OPERATION"] == "none" and ok["PROMOTER_ERROR"] == ""
    record = json.loads((artifacts / "promote-staging-ok" / "promoter-result.json").read_text())
    assert len(record["verify"]["targets"]) == 5 and record["image"] == IMAGE
    broken = job_report(artifacts, "promote-staging-broken")
    assert broken["PROMOTER_OPERATION"] == "failed", log[-4000:]
    assert broken["PROMOTER_VERIFY_STATUS"] == "failed"
    assert "verification failed: argocd-app argocd/broken: Degraded" in broken[
        "PROMOTER_ERROR"]
    assert "exited 6 without a report" not in broken["PROMOTER_ERROR"]
    assert ADMIN_TOKEN not in log and SENTINEL not in log


def test_component_verify_passes_and_fails_with_the_verify_inputs(
    tmp_path: Path, gitlab_ci_local: Path, kube: FakeKube, component_server: GitServer,
    merged: tuple[Path, str, str], promoter_bin: Path,
) -> None:
    """Included as a user does; lists space separated, as labels. No
    `repository`: the exact commit must be live (for `verify`, an empty
    repository is not this project, which would be cloned without credentials)."""
    _, _, child = merged
    live(kube, child)
    source = f"component: $CI_SERVER_FQDN/acme/promoter/promote@v{version()}"
    done, artifacts, project = run_verify_pipeline(
        tmp_path, gitlab_ci_local, gitlab_pipeline(source, "", child, kube), {},
        origin=component_server.url("acme/app"))
    log = done.stdout + done.stderr
    assert done.returncode != 0  # the -broken job
    check_gitlab_jobs(artifacts, log, child)
    assert files_containing(project, ADMIN_TOKEN) == []
    cloned = [r.path for r in component_server.requests if r.path.startswith("/acme/app")]
    assert cloned == []  # this project (CI_PROJECT_URL) was never cloned as --repo


def test_template_verify_passes_and_fails_with_the_verify_inputs(
    tmp_path: Path, gitlab_ci_local: Path, kube: FakeKube,
    merged: tuple[Path, str, str], promoter_bin: Path,
) -> None:
    """`include: local` of .gitlab-ci-template.yml; `revision` from an earlier
    job's dotenv; `repository` (a path) is --repo, so the later commit the
    controllers synced counts for that revision."""
    remote, base, child = merged
    live(kube, child)
    pipeline = gitlab_pipeline("local: promoter.gitlab-ci.yml", f"repository: {remote}",
                               "$PROMOTER_MERGE_COMMIT_SHA", kube, literal=base)
    pipeline = (pipeline.replace("stages: [ok, broken]", "stages: [merge, ok, broken]")
                + "\n" + FROM_DOTENV.replace("MERGED", base))
    done, artifacts, _ = run_verify_pipeline(tmp_path, gitlab_ci_local, pipeline,
                                             {"promoter.gitlab-ci.yml": TEMPLATE})
    log = done.stdout + done.stderr
    assert done.returncode != 0  # the -broken job
    check_gitlab_jobs(artifacts, log, child)
    record = json.loads((artifacts / "promote-staging-ok" / "promoter-result.json").read_text())
    assert record["revision"] == base  # from the merged job's dotenv


def test_action_installs_only_kube_for_verify(tmp_path: Path) -> None:
    """`command: verify` needs the kubernetes client, never a forge's SDK, even
    with a github.com `repository` (its --repo is only cloned with git)."""
    outputs = tmp_path / "outputs"
    env = {"PATH": "/usr/bin:/bin", "GITHUB_OUTPUT": str(outputs), "RUNNER_TEMP": str(tmp_path),
           "GITHUB_ACTION_PATH": str(ROOT), "ACTION_PYTHON": sys.executable,
           "ACTION_COMMAND": "verify", "ACTION_REPOSITORY": "https://github.com/acme/config"}
    done = subprocess.run(["bash", str(ROOT / "scripts" / "action-install.sh"), "plan"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "promoter install: extras kube " in done.stdout, done.stdout
    assert "error=" not in outputs.read_text()
    [key] = [line[4:] for line in outputs.read_text().splitlines() if line.startswith("key=")]
    assert "-kube-" in key


def test_a_verify_failure_before_the_verdict_still_sets_the_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """An unreadable kubeconfig (exit 2, before any record): the outputs say
    failed with promoter's own message, as the wrappers' users read them."""
    from promoter.cli import main

    outputs, dotenv = tmp_path / "github_output", tmp_path / "promoter.env"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("PROMOTER_DOTENV", str(dotenv))
    monkeypatch.setenv("PROMOTER_RESULT_FILE", str(tmp_path / "promoter-result.json"))
    for output in ("github", "gitlab"):
        with pytest.raises(SystemExit) as exited:
            main(["verify", "--argocd-app", "api", "--revision", "a" * 40, "--kubeconfig",
                  str(tmp_path / "missing"), "--output", output])
        assert exited.value.code == 2
    assert "cannot load kubeconfig" in capsys.readouterr().err
    text = outputs.read_text()
    assert re.search(r"^operation<<(\S+)\nfailed\n\1$", text, re.M), text
    assert re.search(r"^error<<(\S+)\n.*cannot load kubeconfig.*\n\1$", text, re.M), text
    report = dict(line.split("=", 1) for line in dotenv.read_text().splitlines())
    assert report["PROMOTER_OPERATION"] == "failed"
    assert "cannot load kubeconfig" in report["PROMOTER_ERROR"]
