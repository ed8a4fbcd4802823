"""The Dockerfile, built without a Docker daemon, pushed to a real registry on
127.0.0.1, pulled back and run from its root filesystem.

The Dockerfile's pinned base cannot be pulled offline, so a local Debian base
(mmdebstrap: python3, python3-venv, git, ca-certificates) stands in through
``--build-arg BASE``; everything else is the real file, built by buildah
(chroot isolation) from the checkout as its context (.dockerignore applies).
promoter installs from a wheelhouse of this environment (bind-mounted,
``PIP_NO_INDEX``) when the base's Python is this one, else from PyPI. The
image is pushed to docker-registry (htpasswd auth), pulled back by skopeo and unpacked by
umoci; ``promoter demo`` then runs chrooted into that root filesystem as the
image's user, with its entrypoint, environment and working directory.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from ci_support import ROOT, git
from image_tools import Buildah, base_tarball, require, run, scratch_dir, wheels_fit_base
from support.registry import Registry

import promoter

DOCKERFILE = ROOT / "Dockerfile"
SOURCE = "https://github.com/acme/promoter"
USER, PASSWORD = "ci", "registry-secret-5d1e"
OCI = "org.opencontainers.image"


def test_dockerfile_pins_its_base_by_digest_and_runs_promoter_as_non_root() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^ARG BASE=\S+:[\w.-]+@sha256:[0-9a-f]{64}$", text, re.M), "pin the base"
    assert re.findall(r"^FROM\s+(.+)$", text, re.M) == ["${BASE}"]
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


def run_image(rootfs: Path, config: dict[str, Any], *args: str) -> str:
    """The image's process (entrypoint + ``args``), chrooted into ``rootfs`` with
    its user, environment and working directory, as a runtime would start it."""
    uid, gid = (int(n) for n in config["User"].split(":"))
    env = dict(item.split("=", 1) for item in config["Env"])
    env.setdefault("HOME", passwd_home(rootfs, uid))

    def enter() -> None:
        os.chroot(rootfs)
        os.chdir(config["WorkingDir"])
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)

    return run([*config["Entrypoint"], *args], timeout=120, env=env, preexec_fn=enter)


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
            "--file", DOCKERFILE, "--build-arg", f"BASE={local_base}",
            *build_args(version, revision, wheels), "--tag", "localhost/promoter:test", ROOT,
            timeout=600)
    creds = f"{USER}:{PASSWORD}"
    with Registry(work / "registry", USER, PASSWORD) as registry:
        tag = re.sub(r"[^\w.-]", "-", version)  # a dev version's "+" is no tag character
        ref = f"docker://{registry.host}/acme/promoter:{tag}"
        buildah("push", "--quiet", "--tls-verify=false", "--creds", creds,
                "--digestfile", work / "digest", "localhost/promoter:test", ref)
        pushed = (work / "digest").read_text().strip()
        served = registry.digest("acme/promoter", tag)
        inspect = ["skopeo", "inspect", "--tls-verify=false", "--creds", creds]
        pulled = run([*inspect, "--format", "{{.Digest}}", ref]).strip()
        image = json.loads(run([*inspect, "--config", ref]))
        run(["skopeo", "copy", "--quiet", "--src-tls-verify=false", "--src-creds", creds, ref,
             f"oci:{work / 'layout'}:promoter"])
    run(["umoci", "raw", "unpack", "--image", f"{work / 'layout'}:promoter",
         work / "rootfs"])
    assert pulled == pushed == served
    check_config(image["config"], version, revision)
    check_rootfs(work / "rootfs", image["config"], version)


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
