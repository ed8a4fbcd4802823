"""The project's workflows (.github/workflows), the action and the example
workflows: zizmor (offline) reports nothing, they validate against the vendored
GitHub schemas, every third-party action is pinned to a commit SHA, and the
release and CI workflows do what the README promises."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ci_support import BIN, ROOT
from ruamel.yaml import YAML
from test_ci_schemas import check_jsonschema

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ZIZMOR_CONFIG = ROOT / ".github" / "zizmor.yml"
PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s*([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+(\.\d+)*\s*$")
OWN_ACTION = "OWNER/promoter"  # the examples' placeholder for this repository


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def example_workflows() -> list[Path]:
    """Every YAML file under examples/ that is a GitHub workflow (on: and jobs:)."""
    return [path for path in sorted((ROOT / "examples").rglob("*.yml"))
            if re.search(r"^on:", text := path.read_text(), re.M)
            and re.search(r"^jobs:", text, re.M)]


def zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    exe = BIN / "zizmor"
    assert exe.exists(), "zizmor is not installed; the test extra installs it (pip install zizmor)"
    return subprocess.run(
        [str(exe), "--offline", "--no-progress", "--config", str(ZIZMOR_CONFIG),
         "--format", "json", *map(str, paths)],
        capture_output=True, text=True, timeout=120,
    )


def test_there_are_workflows_and_example_workflows() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "release.yml"]
    assert len(example_workflows()) >= 2


def test_zizmor_reports_nothing() -> None:
    done = zizmor(*WORKFLOWS, ROOT / "action.yml", *example_workflows())
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert json.loads(done.stdout) == []


def test_zizmor_finds_an_unpinned_action_and_persisted_credentials(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
                   "    steps:\n      - uses: actions/checkout@v4\n")
    done = zizmor(bad)
    assert done.returncode != 0
    found = {finding["ident"] for finding in json.loads(done.stdout)}
    assert {"unpinned-uses", "artipacked"} <= found


def test_workflows_validate_against_the_github_workflows_schema() -> None:
    done = check_jsonschema("github-workflows", *WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def uses_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines()
            if re.match(r"^\s*(-\s+)?uses:", line)]


@pytest.mark.parametrize("path", [*WORKFLOWS, ROOT / "action.yml", *example_workflows()],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_every_third_party_action_is_pinned_to_a_commit_with_its_version(path: Path) -> None:
    for line in uses_lines(path):
        if f"{OWN_ACTION}@" in line:
            continue
        assert PINNED.match(line), f"{path.name}: not pinned to a commit SHA: {line.strip()}"


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


def test_checkouts_never_persist_credentials() -> None:
    for path in [*WORKFLOWS, *example_workflows()]:
        for job in load(path)["jobs"].values():
            for step in steps(job):
                if str(step.get("uses", "")).startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, path.name


def readme_test_command() -> str:
    """The command in the README's block after 'Run the test suite'."""
    text = (ROOT / "README.md").read_text()
    match = re.search(r"Run the test suite.*?```sh\n(.+?)\n```", text, re.S)
    assert match, "README.md has no test command block"
    return match.group(1).strip()


def test_ci_runs_the_readme_test_command_on_linux_and_macos_python_310_to_313() -> None:
    command = readme_test_command()
    assert command == "make test"
    ci = load(ROOT / ".github" / "workflows" / "ci.yml")
    assert ci["permissions"] == {}
    assert set(ci["jobs"]) == {"test", "image"}
    job = ci["jobs"]["test"]
    assert job["permissions"] == {"contents": "read"}
    matrix = job["strategy"]["matrix"]
    assert set(matrix["os"]) == {"ubuntu-latest", "macos-latest"}
    assert matrix["python"] == ["3.10", "3.11", "3.12", "3.13"]
    runs = {s["if"]: s for s in steps(job) if "make test" in s.get("run", "")}
    # Linux runs the whole suite, as root (the image test chroots), with every tool
    linux = runs["runner.os == 'Linux'"]
    assert linux["run"] == f'sudo env "PATH=$PATH" {command}' and "env" not in linux
    # macOS runs everything except the tests marked linux_tools, said so explicitly
    macos = runs["runner.os == 'macOS'"]
    assert macos["run"] == command
    assert macos["env"] == {"PYTEST_ADDOPTS": '-m "not linux_tools"'}
    assert set(runs) == {"runner.os == 'Linux'", "runner.os == 'macOS'"}
    tools = next(s["run"] for s in steps(job) if "apt-get install" in s.get("run", ""))
    assert all(tool in tools for tool in ("docker-registry", "skopeo", "apache2-utils",
                                          "mmdebstrap", "buildah", "umoci"))
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "macOS runs everything except the tests marked `linux_tools`" in readme
    # the image job builds the Dockerfile as released (the real base, by digest)
    image = ci["jobs"]["image"]
    assert image["permissions"] == {"contents": "read"}
    runs_image = " ".join(s.get("run", "") for s in steps(image))
    assert "docker build --file ./Dockerfile" in runs_image
    assert "docker run --rm promoter-ci demo" in runs_image
    # and .ci/run ends with exactly the same command
    lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[-1] == command


def test_release_publishes_on_version_tags_with_least_privilege() -> None:
    release = load(ROOT / ".github" / "workflows" / "release.yml")
    assert release["on"] == {"push": {"tags": ["v*.*.*"]}}
    assert release["permissions"] == {}
    jobs = release["jobs"]
    assert set(jobs) == {"build", "pypi", "github-release", "image", "major-tag"}
    assert jobs["build"]["permissions"] == {"contents": "read"}
    pypi = jobs["pypi"]
    assert pypi["permissions"] == {"id-token": "write"}
    assert pypi["environment"]["name"] == "pypi"
    assert [s["uses"].split("@")[0] for s in steps(pypi)] == [
        "actions/download-artifact", "pypa/gh-action-pypi-publish"]
    assert jobs["github-release"]["permissions"] == {"contents": "write"}
    assert "gh release create" in steps(jobs["github-release"])[-1]["run"]
    assert jobs["image"]["permissions"] == {"contents": "read", "packages": "write"}
    image_script = steps(jobs["image"])[-1]["run"]
    assert "--file ./Dockerfile" in image_script and "ghcr.io/" in image_script
    major = jobs["major-tag"]
    assert set(major["needs"]) == {"github-release", "image"}
    assert "refs/tags/$major" in steps(major)[-1]["run"]
    build_steps = steps(jobs["build"])
    assert build_steps[0]["with"]["fetch-depth"] == 0  # setuptools-scm needs the tag
    assert any("twine check --strict" in s.get("run", "") for s in build_steps)
