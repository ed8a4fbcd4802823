"""The GitLab CI/CD component templates/promote.yml, included as a user does
(``component: $CI_SERVER_FQDN/acme/promoter/promote@v<version>``) and run by
gitlab-ci-local with the shell executor, offline.

gitlab-ci-local fetches a component the way GitLab does: from the project
``acme/promoter`` on the pipeline's own server at the given tag. Here that
server is ``git http-backend`` on 127.0.0.1 (the application project's origin),
serving this checkout's templates/ at the tag ``v<version>``: the include line
is the user's, unchanged. .gitlab-ci-template.yml must be the same file below
its comments, so both entry points run the same job.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from ci_support import ROOT, SENTINEL, files_containing, git, history
from gitlab_support import (
    COMPONENT,
    TEMPLATE,
    failed_report,
    job_report,
    run_project,
    spec_inputs,
    version,
)
from support.gitserver import GitServer
from test_ci_schemas import check_jsonschema

PIPELINE = """\
stages: [staging, report]

include:
  - component: $CI_SERVER_FQDN/acme/promoter/promote@vVERSION
    inputs:
      environment: staging
      stage: staging
      app: api
      image: ghcr.io/acme/api:1.4.2
      repository: CONFIG_REPO
      registry: "false"
      forge: local
      INSTALL

report:
  stage: report
  needs: [promote-staging]
  script:
    - echo "seen OPERATION=$PROMOTER_OPERATION BRANCH=$PROMOTER_MR_BRANCH"
"""


def below_comments(path: Path) -> str:
    """The file without its leading comment block: the part GitLab reads."""
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    return "".join(lines[start:])


def test_template_is_the_component_below_its_comments() -> None:
    assert below_comments(TEMPLATE) == below_comments(COMPONENT)
    assert below_comments(COMPONENT).startswith("spec:\n  inputs:\n")


def test_component_validates_against_gitlab_ci_schema(tmp_path: Path) -> None:
    """GitLab's schema (vendored in check-jsonschema, offline) for the spec header
    and the job document, each alone: check-jsonschema reads one document a file."""
    head, sep, body = below_comments(COMPONENT).partition("\n---\n")
    assert sep
    (tmp_path / "head.yml").write_text(head + "\n")
    (tmp_path / "body.yml").write_text(body)
    done = check_jsonschema("gitlab-ci", tmp_path / "head.yml", tmp_path / "body.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_component_runs_its_own_release_image_and_pins_the_install() -> None:
    inputs = spec_inputs(COMPONENT)
    release = version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", release)
    assert inputs["runner-image"]["default"] == f"ghcr.io/<owner>/promoter:{release}"
    assert inputs["install"]["default"] is False  # the image has promoter: no install
    body = below_comments(COMPONENT)
    installs = re.findall(r"-m pip install [^\n]*", body)
    assert installs and all('"promoter[gitlab,kube]==$PROMOTER_CI_VERSION"' in line
                            for line in installs)  # the SDKs are extras
    assert "PROMOTER_CI_VERSION: $[[ inputs.version ]]" in body
    assert 'entrypoint: [""]' in body  # the image's entrypoint is promoter, not a shell


def test_at_a_release_tag_the_component_names_that_release() -> None:
    """The commit a tag vX.Y.Z points at carries version X.Y.Z in the component,
    so `@vX.Y.Z` runs image X.Y.Z. Untagged commits carry the next release."""
    exact = subprocess.run(
        ["git", "describe", "--exact-match", "--tags", "--match", "v[0-9]*.[0-9]*.[0-9]*"],
        cwd=ROOT, capture_output=True, text=True,
    )
    tag = exact.stdout.strip()
    if exact.returncode == 0:
        assert tag == f"v{version()}", f"{tag} releases templates/promote.yml {version()}"
    else:
        assert "no tag exactly matches" in exact.stderr or "No names found" in exact.stderr \
            or "cannot describe" in exact.stderr, exact.stderr


def test_docs_include_the_component_at_its_own_release() -> None:
    """Every include shown (README, examples, the two files' own comments) names
    the release the templates carry, so copying one runs a matching image."""
    refs = []
    for path in (ROOT / "README.md", ROOT / "examples" / "gitlab" / ".gitlab-ci.yml",
                 COMPONENT, TEMPLATE):
        text = path.read_text()
        refs += re.findall(r"/promoter/promote@(\S+)", text)
        refs += re.findall(r"/promoter/([^/\s]+)/\.gitlab-ci-template\.yml", text)
    assert len(refs) >= 5 and set(refs) == {f"v{version()}"}, refs


def run_component(tmp_path: Path, runner: Path, server: GitServer, config_repo: str,
                  install: str = "", variables: tuple[str, ...] = (), extra: str = "") -> tuple[
    subprocess.CompletedProcess[str], Path
]:
    pipeline = (PIPELINE.replace("VERSION", version()).replace("CONFIG_REPO", config_repo)
                .replace("INSTALL", install)) + extra
    return run_project(tmp_path, runner, pipeline, {}, origin=server.url("acme/app"),
                       variables=variables)


def test_component_job_promotes_and_writes_the_dotenv_report(
    tmp_path: Path, gitlab_ci_local: Path, http_remote: tuple[GitServer, Path],
    component_server: GitServer, promoter_bin: Path,
) -> None:
    server, config_remote = http_remote
    done, artifacts = run_component(tmp_path, gitlab_ci_local, component_server,
                                    server.url("config"))
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    fetched = [r.path for r in component_server.requests if r.service == "git-upload-pack"]
    assert any(path.startswith("/acme/promoter.git") for path in fetched), fetched
    report = job_report(artifacts)
    head = git(config_remote, "rev-parse", "refs/heads/promoter/staging/api")
    assert report["PROMOTER_OPERATION"] == "created"
    assert report["PROMOTER_COMMIT_SHA"] == head
    assert report["PROMOTER_NEW_IMAGE"] == "ghcr.io/acme/api:1.4.2"
    assert "seen OPERATION=created BRANCH=promoter/staging/api" in log
    assert "pip install" not in log and not (tmp_path / "app" / ".promoter-venv").exists()
    assert SENTINEL not in log and files_containing(tmp_path, SENTINEL) == []
    assert SENTINEL not in history(config_remote)


def test_a_failed_install_still_reports_failed_and_names_the_pinned_release(
    tmp_path: Path, gitlab_ci_local: Path, config_remote: Path,
    component_server: GitServer,
) -> None:
    """install: true on an index without promoter: pip fails before promoter runs;
    the report says failed, with the error, and the pin is the component's."""
    empty = tmp_path / "empty-index"
    empty.mkdir()
    done, artifacts = run_component(
        tmp_path, gitlab_ci_local, component_server, str(config_remote), install="install: true",
        variables=("PIP_NO_INDEX=1", f"PIP_FIND_LINKS={empty}"))
    report, log = failed_report(done, artifacts)
    assert report["PROMOTER_CHANGED"] == "false"
    assert f"pip install promoter=={version()} failed" in report["PROMOTER_ERROR"]
    assert f"ERROR: {report['PROMOTER_ERROR']}" in log
    assert f"promoter[gitlab,kube]=={version()}" in log  # pip names the pinned release
    assert git(config_remote, "branch", "--list", "promoter/*") == ""


def test_a_usage_error_promoter_cannot_report_is_still_reported_failed(
    tmp_path: Path, gitlab_ci_local: Path, config_remote: Path,
    component_server: GitServer, promoter_bin: Path,
) -> None:
    """A job variable the user overrides with a value the CLI refuses: click
    exits 2 before promoter can write its report; the job's own line says so."""
    override = "\npromote-staging:\n  variables:\n    PROMOTER_DRAFT: maybe\n"
    done, artifacts = run_component(tmp_path, gitlab_ci_local, component_server,
                                    str(config_remote), extra=override)
    report, log = failed_report(done, artifacts)
    assert report["PROMOTER_ERROR"] == "promoter exited 2 without a report; see the job log"
    assert "'maybe' is not a valid boolean" in log
    assert git(config_remote, "branch", "--list", "promoter/*") == ""


def release_wheel(tmp_path: Path) -> Path:
    """A wheel of this source tree as release <version>, built offline."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "promoter", source / "promoter",
                    ignore=shutil.ignore_patterns("__pycache__", "_version.py"))
    env = {**os.environ, "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_PROMOTER": version(),
           "PIP_NO_INDEX": "1"}
    out = tmp_path / "release"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(out), str(source)],
                   check=True, capture_output=True, env=env, timeout=300)
    wheels = list(out.glob("promoter-*.whl"))
    assert [w.name.split("-")[1] for w in wheels] == [version()], wheels
    return out


def test_install_true_installs_exactly_the_components_release(
    tmp_path: Path, gitlab_ci_local: Path, config_remote: Path,
    component_server: GitServer, wheelhouse: Path,
) -> None:
    """install: true with an offline index holding promoter <version>: the job
    installs that release into a fresh venv of its own and promotes with it."""
    release = release_wheel(tmp_path)
    done, artifacts = run_component(
        tmp_path, gitlab_ci_local, component_server, str(config_remote), install="install: true",
        variables=("PIP_NO_INDEX=1", f"PIP_FIND_LINKS={release} {wheelhouse}"))
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    report = job_report(artifacts)
    assert report["PROMOTER_OPERATION"] == "created"
    installed = list((tmp_path / "app").glob(f".promoter-venv/lib/python*/site-packages/"
                                               f"promoter-{version()}.dist-info"))
    assert installed, log[-3000:]
