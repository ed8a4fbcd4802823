"""The Dockerfile, built without a Docker daemon, pushed to a real registry on
127.0.0.1, pulled back and run from its root filesystem.

The Dockerfile's pinned base cannot be pulled offline, so a local Debian base
(mmdebstrap: python3, python3-venv, git, ca-certificates) stands in through
buildah's ``--from`` (the first FROM's image); everything else is the real file, built by buildah
(chroot isolation) from the checkout as its context (.dockerignore applies).
promoter installs from a wheelhouse of this environment (bind-mounted,
``PIP_NO_INDEX``) when the base's Python is this one, else from PyPI. The
image is pushed to docker-registry (htpasswd auth), pulled back by skopeo and unpacked by
umoci; ``promoter demo`` then runs chrooted into that root filesystem as the
image's user, with its entrypoint, environment and working directory, and so
does the GitLab template's job script (the component's default image), which
promotes this very image through the registry's authenticated check.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from ci_support import CONFIG, KUSTOMIZATION, ROOT, git
from image_tools import Buildah, base_tarball, require, run, scratch_dir, wheels_fit_base
from support.registry import Registry
from test_ci_schemas import interpolate

import promoter

DOCKERFILE = ROOT / "Dockerfile"
SOURCE = "https://github.com/acme/promoter"
USER, PASSWORD = "ci", "registry-secret-5d1e"
OCI = "org.opencontainers.image"


def test_dockerfile_pins_its_base_by_digest_and_runs_promoter_as_non_root() -> None:
    text = DOCKERFILE.read_text()
    # one literal FROM, tag and index digest: what Dependabot's docker updater moves
    assert re.findall(r"^FROM\s+(.+)$", text, re.M) == [
        "python:3.12.14-slim-bookworm@sha256:"
        "782412e85d0f0984994c290652577d4018aff08145c85b262bb63dc0c7522254"]
    assert "\nARG BASE" not in text
    user = re.findall(r"^USER (\d+):(\d+)$", text, re.M)
    assert len(user) == 1 and "0" not in user[0]
    assert re.findall(r"^ENTRYPOINT (.+)$", text, re.M) == ['["promoter"]']
    for label in ("source", "revision", "version"):
        assert f'{OCI}.{label}="${{{label.upper()}}}"' in text


def build_args(version: str, revision: str, wheels: Path | None) -> list[str]:
    args = ["--build-arg", f"VERSION={version}", "--build-arg", f"REVISION={revision}",
            "--build-arg", f"SOURCE={SOURCE}"]
    if wheels is not None:
        args += ["--build-arg", "PIP_NO_INDEX=1", "--build-arg", "PIP_FIND_LINKS=/wheels",
                 "--volume", f"{wheels}:/wheels:ro"]
    return args


def passwd_home(rootfs: Path, uid: int) -> str:
    for line in (rootfs / "etc" / "passwd").read_text().splitlines():
        fields = line.split(":")
        if int(fields[2]) == uid:
            return fields[5]
    raise AssertionError(f"uid {uid} is not in the image's /etc/passwd")


def enter(rootfs: Path, uid: int, gid: int, cwd: str) -> Any:
    """A preexec function: chroot into ``rootfs``, cd, drop to uid:gid."""
    def preexec() -> None:
        os.chroot(rootfs)
        os.chdir(cwd)
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    return preexec


def run_image(rootfs: Path, config: dict[str, Any], *args: str) -> str:
    """The image's process (entrypoint + ``args``), chrooted into ``rootfs`` with
    its user, environment and working directory, as a runtime would start it."""
    uid, gid = (int(n) for n in config["User"].split(":"))
    env = dict(item.split("=", 1) for item in config["Env"])
    env.setdefault("HOME", passwd_home(rootfs, uid))
    return run([*config["Entrypoint"], *args], timeout=120, env=env,
               preexec_fn=enter(rootfs, uid, gid, config["WorkingDir"]))


@pytest.mark.linux_tools
def test_image_builds_pushes_pulls_and_runs_promoter_demo(
    tmp_path: Path, request: pytest.FixtureRequest,
) -> None:
    require()
    base = base_tarball()
    wheels = request.getfixturevalue("wheelhouse") if wheels_fit_base() else None
    work = scratch_dir(tmp_path / "image")
    try:
        build_push_pull_run(work, base, wheels)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build_push_pull_run(work: Path, base: Path, wheels: Path | None) -> None:
    version, revision = promoter.__version__, git(ROOT, "rev-parse", "HEAD")
    buildah = Buildah(work)
    local_base = buildah.import_rootfs(base, "localhost/promoter-test-base:latest")
    buildah("bud", "--isolation", "chroot", "--pull-never", "--layers=false", "--quiet",
            "--file", DOCKERFILE, "--from", local_base,
            *build_args(version, revision, wheels), "--tag", "localhost/promoter:test", ROOT,
            timeout=600)
    creds = f"{USER}:{PASSWORD}"
    with Registry(work / "registry", USER, PASSWORD) as registry:
        tag = re.sub(r"[^\w.-]", "-", version)  # a dev version's "+" is no tag character
        ref = f"docker://{registry.host}/acme/promoter:{tag}"
        buildah("push", "--quiet", "--tls-verify=false", "--creds", creds,
                "--digestfile", work / "digest", "localhost/promoter:test", ref)
        pushed = (work / "digest").read_text().strip()
        inspect = ["skopeo", "inspect", "--tls-verify=false", "--creds", creds]
        pulled = run([*inspect, "--format", "{{.Digest}}", ref]).strip()
        assert pulled == pushed == registry.digest("acme/promoter", tag)
        image = json.loads(run([*inspect, "--config", ref]))
        run(["skopeo", "copy", "--quiet", "--src-tls-verify=false", "--src-creds", creds, ref,
             f"oci:{work / 'layout'}:promoter"])
        run(["umoci", "raw", "unpack", "--image", f"{work / 'layout'}:promoter",
             work / "rootfs"])
        check_config(image["config"], version, revision)
        check_rootfs(work / "rootfs", image["config"], version)
        check_component_job(work / "rootfs", image["config"], registry, tag)


def check_config(config: dict[str, Any], version: str, revision: str) -> None:
    labels = config["Labels"]
    assert labels[f"{OCI}.source"] == SOURCE
    assert labels[f"{OCI}.revision"] == revision
    assert labels[f"{OCI}.version"] == version
    assert config["Entrypoint"] == ["promoter"]
    assert config["Cmd"] == ["--help"]
    uid, gid = config["User"].split(":")
    assert uid.isdigit() and gid.isdigit() and int(uid) != 0 and int(gid) != 0
    assert any(item.startswith("PATH=/opt/promoter/bin:") for item in config["Env"])


def check_rootfs(rootfs: Path, config: dict[str, Any], version: str) -> None:
    assert not (rootfs / "tmp" / "promoter-src").exists()  # the build context is gone
    assert not (rootfs / "wheels").exists() or not any((rootfs / "wheels").iterdir())
    assert version in run_image(rootfs, config, "--version")
    assert "Usage:" in run_image(rootfs, config, "--help")
    demo = run_image(rootfs, config, "demo")  # git, clone, commit, push as the image's user
    assert "promoter/production/api  promote api to production: 1.4.0 -> 1.5.0" in demo
    assert "main  promote api to staging: 1.4.1 -> 1.5.0" in demo


def config_repository(rootfs: Path, uid: int, gid: int, app_image: str) -> str:
    """A bare config repository inside the image, owned by the image's user,
    whose app api runs ``app_image``."""
    work, bare = rootfs / "tmp" / "config-work", rootfs / "tmp" / "config.git"
    for env, tag in (("staging", "0.0.2"), ("production", "0.0.1")):  # older than the image
        overlay = work / "apps" / "api" / "overlays" / env
        overlay.mkdir(parents=True)
        text = KUSTOMIZATION.format(tag=tag).replace("ghcr.io/acme/api", app_image)
        (overlay / "kustomization.yaml").write_text(text)
    (work / ".promoter.yaml").write_text(CONFIG.replace("ghcr.io/acme/api", app_image))
    git(work, "init", "-q", "-b", "main")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "initial config")
    git(rootfs / "tmp", "clone", "-q", "--bare", str(work), str(bare))
    for path in [bare, *bare.rglob("*")]:
        os.lchown(path, uid, gid)
    return "/tmp/config.git"


def check_component_job(rootfs: Path, config: dict[str, Any], registry: Registry,
                        tag: str) -> None:
    """The GitLab job (the template's before_script and script) run in the image
    as a Docker runner does with `entrypoint: [""]`: /bin/sh as the image's user
    in the project directory, with the promoter the image has. What it promotes
    is this very image, so promoter's registry check asks the registry above
    (with its credentials from CI/CD variables) that the tag exists."""
    uid, gid = (int(n) for n in config["User"].split(":"))
    app_image = f"{registry.host}/acme/promoter"
    job = interpolate(
        (ROOT / ".gitlab-ci-template.yml").read_text().partition("\n---\n")[2],
        {"environment": "staging", "app": "api", "image": f"{app_image}:{tag}", "forge": "local",
         "repository": config_repository(rootfs, uid, gid, app_image)})
    assert job[".promoter"]["image"]["entrypoint"] == [""]
    project = rootfs / "builds" / "app"
    project.mkdir(parents=True)
    os.chown(project, uid, gid)
    variables = {**job[".promoter"]["variables"], **job["promote-staging"]["variables"]}
    env = {**dict(item.split("=", 1) for item in config["Env"]),
           **{k: str(v) for k, v in variables.items() if v != ""},
           "HOME": passwd_home(rootfs, uid), "CI_PROJECT_DIR": "/builds/app",
           "CI_PROJECT_URL": "https://gitlab.example.com/acme/app", "CI_COMMIT_SHA": "0" * 40,
           "CI_PIPELINE_URL": "https://gitlab.example.com/acme/app/-/pipelines/1",
           "CI_SERVER_URL": "https://gitlab.example.com",
           "PROMOTER_REGISTRY_USER": USER, "PROMOTER_REGISTRY_PASSWORD": PASSWORD,
           "PROMOTER_INSECURE_REGISTRY": registry.host}
    script = "\n".join(job[".promoter"]["before_script"] + job[".promoter"]["script"])
    out = run(["/bin/sh", "-c", script], timeout=120, env=env,
              preexec_fn=enter(rootfs, uid, gid, "/builds/app"))
    report = dict(line.split("=", 1) for line in
                  (project / "promoter.env").read_text().splitlines() if line)
    assert report["PROMOTER_OPERATION"] == "created", out
    assert report["PROMOTER_NEW_IMAGE"].startswith(f"{app_image}:{tag}"), report
    assert "pip install" not in out and PASSWORD not in out
