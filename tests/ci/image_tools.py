"""Daemonless image tools for tests/ci/test_image.py: a Debian base built by
mmdebstrap, buildah with its own storage, skopeo and umoci; the registry on
127.0.0.1 is tests/support/registry.py's (Debian's docker-registry, the CNCF
Distribution server, with htpasswd auth).

Every tool is a Debian package (.ci/run installs them); a missing one fails the
test with one line (``require``). The base is the only download (Debian's
mirror); it stands in for the Dockerfile's pinned base, which cannot be pulled
offline, and is cached on this machine (/var/tmp/promoter-tests, outside any
checkout, so that a fresh clone's CI reuses it) keyed by everything that
defines it; the image under test is always built anew.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ci_support import missing
from support import linux_tools

TOOLS = {  # command: Debian package
    "mmdebstrap": "mmdebstrap", "buildah": "buildah", "skopeo": "skopeo",
    "umoci": "umoci", "docker-registry": "docker-registry", "htpasswd": "apache2-utils",
}
# The Debian suite whose python3 matches this interpreter: the build then
# installs promoter from a wheelhouse of this environment, offline.
SUITES = {(3, 11): "bookworm", (3, 13): "trixie"}
MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("python3", "python3-venv", "git", "ca-certificates")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CACHE = Path("/var/tmp/promoter-tests/image-base")


def require() -> None:
    """Fail with one line unless every tool is installed (and the test carries
    the linux_tools marker)."""
    for cmd in TOOLS:
        linux_tools.check(cmd)
    absent = [f"{cmd} (apt-get install {pkg})" for cmd, pkg in TOOLS.items()
              if shutil.which(cmd) is None]
    if absent:
        missing(f"the image test needs {', '.join(absent)}; .ci/run installs them")
    if os.geteuid() != 0:
        missing("the image test builds and chroots as root (mmdebstrap, buildah, chroot)")


def run(argv: Sequence[str | Path], timeout: float = 300, **kwargs: object) -> str:
    """Run a tool; on failure raise with its command line and the end of its output."""
    linux_tools.check(Path(str(argv[0])).name)
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                          timeout=timeout, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-3000:]
        raise AssertionError(f"{' '.join(map(str, argv))} exited {done.returncode}:\n{tail}")
    return str(done.stdout)


def suite() -> str:
    return SUITES.get(sys.version_info[:2], "bookworm")


def wheels_fit_base() -> bool:
    """This environment's wheels install in the base: same Python version."""
    return sys.version_info[:2] in SUITES


def _mmdebstrap_argv(out: Path) -> list[str]:
    return ["mmdebstrap", "--quiet", "--variant=minbase", f"--include={','.join(PACKAGES)}",
            "--aptopt=Acquire::Languages \"none\"",
            "--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-exclude=/usr/share/man/*",
            "--dpkgopt=path-exclude=/usr/share/locale/*", suite(), str(out), MIRROR]


def base_tarball() -> Path:
    """The base root filesystem as a tarball, built once per definition (argv and
    mmdebstrap's version) and reused; written atomically, shared under a lock."""
    version = run(["mmdebstrap", "--version"]).strip()
    key = hashlib.sha256(repr((_mmdebstrap_argv(Path("-")), version)).encode()).hexdigest()
    tarball = CACHE / f"base-{suite()}-{key[:16]}.tar"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "base.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not tarball.exists():
            partial = tarball.with_suffix(".partial.tar")
            run(_mmdebstrap_argv(partial), timeout=600)
            partial.rename(tarball)
    return tarball


def scratch_dir(fallback: Path) -> Path:
    """Where image storage goes: a tmpfs when one has room (unpacking ~1 GB of
    layers is 5-10x faster than on this VM's disk), else ``fallback``."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        stat = os.statvfs(shm)
        if stat.f_bavail * stat.f_frsize > 4 << 30:
            return Path(run(["mktemp", "-d", "-p", str(shm), "promoter-image-XXXXXX"]).strip())
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


class Buildah:
    """buildah with a private storage (vfs: no kernel overlay needed) under ``root``."""

    def __init__(self, root: Path) -> None:
        self.flags = ["--root", str(root / "storage"), "--runroot", str(root / "run"),
                      "--storage-driver", "vfs"]
        self.env = {**os.environ, "TMPDIR": str(root / "tmp"), "BUILDAH_ISOLATION": "chroot"}
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    def __call__(self, *args: str | Path, timeout: float = 300) -> str:
        return run(["buildah", *self.flags, *args], timeout=timeout, env=self.env)

    def import_rootfs(self, tarball: Path, name: str) -> str:
        """An image with ``tarball`` as its single layer."""
        container = self("from", "scratch").strip()
        self("add", container, tarball, "/")
        self("config", "--env", f"PATH={PATH}", "--cmd", "/bin/sh", container)
        self("commit", "--quiet", container, name)
        self("rm", container)
        return name
