""".gitlab-ci-template.yml under a real runner emulator: gitlab-ci-local (npm)
with the shell executor, no Docker, offline.

gitlab-ci-local implements ``include: local`` with ``inputs:`` and the ``spec:
inputs`` header, ``extends``, ``needs`` and dotenv reports; PyPI's gitlab-emulator
does not know ``spec: inputs``. The pipeline includes the template twice
(staging, then production from staging), like examples/gitlab/.gitlab-ci.yml,
with ``install: false`` so that the jobs use the promoter installed here.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from ci_support import ROOT, SENTINEL, files_containing, git, history, read_remote
from gitlab_support import failed_report, job_report, run_project
from support.gitserver import GitServer

PIPELINE = """\
stages: [staging, production, report]

include:
  - local: promoter.gitlab-ci.yml
    inputs:
      environment: staging
      stage: staging
      app: api
      image: ghcr.io/acme/api:IMAGE_TAG
      repository: CONFIG_REPO
      registry: "false"
      labels: promotion ci
      install: false
  - local: promoter.gitlab-ci.yml
    inputs:
      environment: production
      stage: production
      app: api
      from-environment: staging
      repository: CONFIG_REPO
      registry: "false"
      install: false

promote-production:
  needs: [promote-staging]

report:
  stage: report
  needs: [promote-staging]
  script:
    - echo "seen MR_BRANCH=$PROMOTER_MR_BRANCH OPERATION=$PROMOTER_OPERATION"
"""


def run_pipeline(tmp_path: Path, runner: Path, config_repo: Path | str, tag: str) -> tuple[
    subprocess.CompletedProcess[str], Path
]:
    pipeline = PIPELINE.replace("CONFIG_REPO", str(config_repo)).replace("IMAGE_TAG", tag)
    return run_project(tmp_path, runner, pipeline,
                       {"promoter.gitlab-ci.yml": ROOT / ".gitlab-ci-template.yml"})


def test_template_job_promotes_and_writes_the_dotenv_report(
    tmp_path: Path, gitlab_ci_local: Path, http_remote: tuple[GitServer, Path],
    promoter_bin: Path,
) -> None:
    server, config_remote = http_remote
    done, artifacts = run_pipeline(tmp_path, gitlab_ci_local, server.url("config"), "1.4.2")
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    pushes = [r for r in server.requests if r.service == "git-receive-pack"]
    assert len(pushes) >= 2 and all(r.authorized or r.user is None for r in pushes)
    assert any(r.authorized and r.method == "POST" for r in pushes)  # a 401 asks for the token

    staging = job_report(artifacts)
    head = git(config_remote, "rev-parse", "refs/heads/promoter/staging/api")
    assert staging["PROMOTER_OPERATION"] == "created"
    assert staging["PROMOTER_CHANGED"] == "true"
    assert staging["PROMOTER_MR_BRANCH"] == "promoter/staging/api"
    assert staging["PROMOTER_COMMIT_SHA"] == head
    assert staging["PROMOTER_NEW_IMAGE"] == "ghcr.io/acme/api:1.4.2"
    assert staging["PROMOTER_MR_IID"] == "" and staging["PROMOTER_VERIFY_STATUS"] == ""
    record = json.loads((artifacts / "promote-staging" / "promoter-result.json").read_text())
    assert record["schema"] == "promoter/v1" and record["commit"] == head
    pushed = read_remote(config_remote, head, "apps/api/overlays/staging/kustomization.yaml")
    assert 'newTag: "1.4.2"' in pushed

    # production copied staging's image from the base branch (1.4.1): the staging
    # job's dotenv (it `needs:` it) did not leak into its options.
    production = job_report(artifacts, "promote-production")
    assert production["PROMOTER_MR_BRANCH"] == "promoter/production/api"
    assert production["PROMOTER_NEW_IMAGE"] == "ghcr.io/acme/api:1.4.1"
    assert "seen MR_BRANCH=promoter/staging/api OPERATION=created" in log
    assert SENTINEL not in log
    assert files_containing(tmp_path, SENTINEL) == []  # job logs, scripts, artifacts
    assert SENTINEL not in history(config_remote)
    # provenance from the CI variables (CI_COMMIT_SHA, CI_PIPELINE_URL) in the commit
    assert f"Source-Commit: {git(tmp_path / 'app', 'rev-parse', 'HEAD')}" in history(
        config_remote)
    assert "Source-Run: https://" in history(config_remote)


def test_template_job_failure_still_reports(
    tmp_path: Path, gitlab_ci_local: Path, config_remote: Path, promoter_bin: Path,
) -> None:
    """A tag that is not an image tag: promoter refuses (or does not exist yet);
    the job fails, the dotenv report says so, and the token is nowhere."""
    done, artifacts = run_pipeline(tmp_path, gitlab_ci_local, config_remote, "bad tag!")
    staging, log = failed_report(done, artifacts)
    assert staging["PROMOTER_CHANGED"] == "false"
    assert "bad tag!" in staging["PROMOTER_ERROR"]  # promoter's own message
    assert f"ERROR: {staging['PROMOTER_ERROR']}" in log
    assert SENTINEL not in log
    assert git(config_remote, "branch", "--list", "promoter/*") == ""


ONE_JOB = """\
variables:
  VARIABLES
include:
  - local: promoter.gitlab-ci.yml
    inputs:
      environment: staging
      app: api
      image: ghcr.io/acme/api:1.4.2
      repository: CONFIG_REPO
      install: false
      INPUTS
"""


def run_one_job(tmp_path: Path, runner: Path, config_repo: Path, variables: str, inputs: str,
                cicd: tuple[str, ...] = ()) -> tuple[str, int, dict[str, str]]:
    pipeline = (ONE_JOB.replace("CONFIG_REPO", str(config_repo))
                .replace("VARIABLES", variables).replace("INPUTS", inputs))
    done, artifacts = run_project(tmp_path, runner, pipeline,
                                  {"promoter.gitlab-ci.yml": ROOT / ".gitlab-ci-template.yml"},
                                  variables=cicd)
    report = job_report(artifacts)
    return done.stdout + done.stderr, done.returncode, report


def test_an_empty_input_leaves_the_pipelines_variables_alone(
    tmp_path: Path, gitlab_ci_local: Path, config_remote: Path, promoter_bin: Path,
) -> None:
    """No `registry` and no `branch` input: the pipeline's own `variables:` decide.
    Had the empty inputs (job variables) overridden them, promoter would ask
    ghcr.io for the image (through the dead proxy: exit 1) and push the default
    branch promoter/staging/api."""
    log, code, report = run_one_job(
        tmp_path, gitlab_ci_local, config_remote,
        'PROMOTER_REGISTRY: "false"\n  PROMOTER_BRANCH: "release/{env}-{app}"', "")
    assert code == 0, log[-4000:]
    assert report["PROMOTER_OPERATION"] == "created"
    assert report["PROMOTER_MR_BRANCH"] == "release/staging-api"
    assert git(config_remote, "branch", "--list", "promoter/*") == ""


def test_an_input_wins_over_a_ci_cd_variable(
    tmp_path: Path, gitlab_ci_local: Path, config_remote: Path, promoter_bin: Path,
) -> None:
    """`registry: "true"` beats the CI/CD variable PROMOTER_REGISTRY=false (which
    GitLab ranks above job variables): promoter checks ghcr.io, unreachable here."""
    log, code, report = run_one_job(
        tmp_path, gitlab_ci_local, config_remote, "{}",
        'registry: "true"\n      registry-timeout: 2s', cicd=("PROMOTER_REGISTRY=false",))
    assert code != 0
    assert report["PROMOTER_OPERATION"] == "failed", log[-3000:]
    assert "ghcr.io" in report["PROMOTER_ERROR"], report
    assert git(config_remote, "branch", "--list", "promoter/*") == ""
