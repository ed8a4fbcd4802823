"""Running a GitLab pipeline under gitlab-ci-local (npm) with the shell
executor, offline, for the template and component tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from ci_support import BIN, ROOT, SENTINEL, git
from ruamel.yaml import YAML

COMPONENT = ROOT / "templates" / "promote.yml"
TEMPLATE = ROOT / ".gitlab-ci-template.yml"


def spec_inputs(path: Path) -> dict[str, Any]:
    head = path.read_text().partition("\n---\n")[0]
    inputs: dict[str, Any] = YAML(typ="safe").load(head)["spec"]["inputs"]
    return inputs


def version() -> str:
    """The release the component names (input ``version``'s default)."""
    return str(spec_inputs(COMPONENT)["version"]["default"])


def run_project(tmp_path: Path, runner: Path, pipeline: str, files: dict[str, Path],
                origin: str | None = None, variables: tuple[str, ...] = ()) -> tuple[
    subprocess.CompletedProcess[str], Path
]:
    """Commit ``pipeline`` as .gitlab-ci.yml (plus ``files``) in a new project
    and run it under gitlab-ci-local; returns the run and its artifacts folder."""
    project = tmp_path / "app"
    project.mkdir()
    for name, source in files.items():
        shutil.copy(source, project / name)
    (project / ".gitlab-ci.yml").write_text(pipeline)
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "pipeline")
    if origin is not None:
        git(project, "remote", "add", "origin", origin)
    # Nothing of this process's PROMOTER_* reaches the jobs (the pipelines say
    # `registry: "false"` for their images that are in no registry, as a user
    # would); a dead proxy stands between the jobs and anything but 127.0.0.1.
    dead = "http://127.0.0.1:9"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PROMOTER_")},
           "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           "HTTPS_PROXY": dead, "HTTP_PROXY": dead, "https_proxy": dead, "http_proxy": dead}
    options = [arg for variable in (f"PROMOTER_TOKEN={SENTINEL}", *variables)
               for arg in ("--variable", variable)]
    done = subprocess.run(
        [str(runner), "--force-shell-executor", "--no-color",
         "--home", str(tmp_path / "gcl-home"), *options],
        cwd=project, capture_output=True, text=True, env=env, timeout=300,
    )
    return done, project / ".gitlab-ci-local" / "artifacts"


def read_dotenv(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)


def job_report(artifacts: Path, job: str = "promote-staging") -> dict[str, str]:
    """The dotenv report (``PROMOTER_*``) a job left among its artifacts."""
    return read_dotenv(artifacts / job / ".gitlab-ci-reports" / "dotenv" / "promoter.env")


def failed_report(done: subprocess.CompletedProcess[str], artifacts: Path
                  ) -> tuple[dict[str, str], str]:
    """A failed job's report and the pipeline log: the job failed, and its
    report says ``PROMOTER_OPERATION=failed``."""
    log = done.stdout + done.stderr
    assert done.returncode != 0
    report = job_report(artifacts)
    assert report["PROMOTER_OPERATION"] == "failed", log[-3000:]
    return report, log
