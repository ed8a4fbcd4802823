"""Releases: a tag vX.Y.Z is the version (in a clone and in GitHub's tarball of
the tag), ``python -m build`` makes an sdist and a wheel that ``twine check``
accepts, and the wheel installs offline into a fresh venv where ``promoter
demo`` runs. The working tree is copied into a new repository first, so what
is tested is this tree, not the last commit."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from ci_support import BIN, ROOT, git
from ci_wheelhouse import constraints
from packaging.requirements import Requirement

VERSION_LINE = re.compile(r"0\.0\.1\.dev1\+g[0-9a-f]{7,}")


def tree_repository(dest: Path) -> Path:
    """This working tree's files (tracked and untracked, not ignored) committed
    as the only commit of a new repository on branch main."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() or source.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name, follow_symlinks=False)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "release candidate")
    return dest


def scm_version(path: Path) -> str:
    done = subprocess.run([str(BIN / "python"), "-m", "setuptools_scm"], cwd=path,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def offline_env() -> dict[str, str]:
    """pip with no configuration file (no index, find-links or constraints of
    this machine) and nothing from the environment but what is set here."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def test_the_tag_is_the_version_and_the_major_tag_never_is(tmp_path: Path) -> None:
    repo = tree_repository(tmp_path / "src")
    assert VERSION_LINE.fullmatch(scm_version(repo)), "a clone without tags"
    git(repo, "tag", "v1.2.3")
    # the moving major tag on the same commit, annotated (git describe prefers those)
    git(repo, "tag", "-a", "-m", "major", "v1")
    assert scm_version(repo) == "1.2.3"
    git(repo, "commit", "-q", "--allow-empty", "-m", "after the release")
    assert re.fullmatch(r"1\.2\.4\.dev1\+g[0-9a-f]{7,}", scm_version(repo))


def test_github_tarball_of_a_tag_knows_its_version(tmp_path: Path) -> None:
    """What `uses: OWNER/promoter@v1.2.3` downloads is `git archive` of the tag:
    no .git, but .git_archival.txt (export-subst) names the tag."""
    repo = tree_repository(tmp_path / "src")
    git(repo, "tag", "v1.2.3")
    git(repo, "tag", "v1")
    archive = subprocess.run(["git", "archive", "--format=tar", "v1"], cwd=repo,
                             capture_output=True, check=True).stdout
    out = tmp_path / "tarball"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(out, filter="data")
    assert "describe-name: v1.2.3" in (out / ".git_archival.txt").read_text()
    assert scm_version(out) == "1.2.3"


def build(repo: Path, out: Path) -> tuple[Path, Path]:
    done = subprocess.run(
        [str(BIN / "python"), "-m", "build", "--no-isolation", "--outdir", str(out), str(repo)],
        capture_output=True, text=True, env=offline_env(), timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out / "promoter-1.2.3.tar.gz", out / "promoter-1.2.3-py3-none-any.whl"


def test_sdist_and_wheel_pass_twine_and_the_wheel_runs_the_demo_offline(
    tmp_path: Path, wheelhouse: Path
) -> None:
    repo = tree_repository(tmp_path / "src")
    git(repo, "tag", "v1.2.3")
    sdist, wheel = build(repo, tmp_path / "dist")
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == sorted([sdist.name, wheel.name])
    check = subprocess.run([str(BIN / "twine"), "check", "--strict", str(sdist), str(wheel)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("PASSED") == 2, check.stdout
    names = zipfile.ZipFile(wheel).namelist()
    assert "promoter/_version.py" in names and "promoter/py.typed" in names
    assert any(n.startswith("promoter/example/") for n in names)
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/"))]
    with tarfile.open(sdist) as tar:
        members = tar.getnames()
    assert "promoter-1.2.3/PKG-INFO" in members and "promoter-1.2.3/pyproject.toml" in members

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-index",
         "--find-links", str(wheelhouse), str(wheel)],
        capture_output=True, text=True, env=offline_env(), timeout=300,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    exe = venv / "bin" / "promoter"
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == "promoter, version 1.2.3"
    demo = subprocess.run([str(exe), "demo"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "promoter/production/api" in demo.stdout
    assert_extras_are_named(exe, tmp_path)
    # and make test would not take this venv for a test environment of the tree
    check_venv = subprocess.run([sys.executable, str(ROOT / "tools" / "devenv.py"),
                                 "--check", str(venv)], capture_output=True, text=True)
    assert check_venv.returncode == 1
    assert "promoter is not an editable install of" in check_venv.stderr


def assert_extras_are_named(exe: Path, tmp_path: Path) -> None:
    """The plain install has no SDK: each command that needs one fails with one
    line naming the extra (exit 2), and promote pushes nothing first."""
    work = tmp_path / "config"
    shutil.copytree(ROOT / "promoter" / "example", work)
    git(work, "init", "-q", "-b", "main")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "config")
    bare = tmp_path / "config.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    env = {**os.environ, "PROMOTER_TOKEN": "unused"}
    for forge, what, extra in (("github", "the GitHub forge needs PyGithub", "github"),
                               ("gitlab", "the GitLab forge needs python-gitlab", "gitlab")):
        done = subprocess.run([str(exe), "promote", "--repo", str(bare), "--forge", forge,
                               "--app", "api", "--env", "staging",
                               "--image", "ghcr.io/acme/api:9.9.9"],
                              capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 2, done.stderr
        assert done.stderr == (f"error: {what}, which is not installed; pip install "
                               f"'promoter[{extra}]' (or promoter[all]; in the GitHub "
                               f"Action: extras: {extra})\n")
    assert git(bare, "branch", "--list", "promoter/*") == ""
    done = subprocess.run([str(exe), "verify", "--argocd-app", "api", "--revision", "a" * 40,
                           "--timeout", "5s"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith(
        "error: verifying from the cluster needs the kubernetes client, which is not "
        "installed; pip install 'promoter[kube]'")
    assert done.stderr.count("\n") == 1


def test_constraints_pin_every_runtime_dependency_at_the_version_installed() -> None:
    """constraints.txt is universal (markers for other Pythons); the pins that
    apply here are exactly the runtime dependencies of this venv, which
    tools/devenv.py installed with it."""
    applying: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        req = Requirement(line)
        [spec] = list(req.specifier)
        assert spec.operator == "==", line
        if req.marker is None or req.marker.evaluate():
            assert req.name not in applying, f"pinned twice here: {req.name}"
            applying[req.name] = spec.version
    assert applying == constraints.runtime_pins()
