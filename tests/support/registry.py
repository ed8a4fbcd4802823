"""A real OCI registry on 127.0.0.1 for tests: Debian's ``docker-registry``
(CNCF Distribution), with htpasswd auth or Bearer tokens from TokenServer, and
images pushed into it by ``skopeo`` from OCI layouts written here.

    layout = write_layout(tmp / "oci", {"1.0": Image(labels={...}),
                                        "multi": Index((Image(), Image(arch="arm64")))})
    with Registry(tmp / "reg", USER, PASSWORD) as registry:
        registry.push(layout, "1.0", "acme/api")        # 127.0.0.1:PORT/acme/api:1.0
        registry.digest("acme/api", "1.0")              # what the registry says

A tool that is missing fails the test with one line (install line in .ci/run).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import shutil
import socket
import subprocess
import tarfile
import threading
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from support import linux_tools

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, "application/vnd.docker.distribution.manifest.v2+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json"])


def tool(name: str) -> str:
    """The path of a required program; a clear failure when it is missing, or
    when the running test lacks the linux_tools marker these tools need."""
    linux_tools.check(name)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed: run .ci/run's install lines "
                           "(apt-get install docker-registry skopeo apache2-utils)")
    return found


@dataclass(frozen=True)
class Image:
    """One single-platform image; ``salt`` changes its content (a rebuild)."""

    labels: Mapping[str, str] | None = None
    arch: str = "amd64"
    salt: str = ""


@dataclass(frozen=True)
class Index:
    """A multi-arch image index of several images."""

    images: tuple[Image, ...]
    annotations: Mapping[str, str] = field(default_factory=dict)


def write_layout(root: Path, tags: Mapping[str, Image | Index]) -> dict[str, str]:
    """Write an OCI image layout holding ``tags``; their top-level digests."""
    (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    entries, digests = [], {}
    for tag, item in tags.items():
        descriptor = _index(root, item) if isinstance(item, Index) else _image(root, item)
        descriptor.pop("platform", None)
        entries.append({**descriptor, "annotations": {"org.opencontainers.image.ref.name": tag}})
        digests[tag] = descriptor["digest"]
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    (root / "index.json").write_text(json.dumps(index))
    return digests


def _blob(root: Path, data: bytes, media_type: str) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    (root / "blobs" / "sha256" / digest).write_bytes(data)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}


def _image(root: Path, image: Image) -> dict[str, object]:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        content = f"{image.arch} {image.salt}\n".encode()
        info = tarfile.TarInfo("hello.txt")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    layer = _blob(root, gzip.compress(raw.getvalue(), mtime=0), OCI_LAYER)
    config = {
        "architecture": image.arch, "os": "linux",
        "config": {"Labels": dict(image.labels)} if image.labels else {},
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()]},
    }
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": _blob(root, json.dumps(config).encode(), OCI_CONFIG), "layers": [layer]}
    descriptor = _blob(root, json.dumps(manifest).encode(), OCI_MANIFEST)
    return {**descriptor, "platform": {"architecture": image.arch, "os": "linux"}}


def _index(root: Path, index: Index) -> dict[str, object]:
    body: dict[str, object] = {"schemaVersion": 2, "mediaType": OCI_INDEX,
                               "manifests": [_image(root, image) for image in index.images]}
    if index.annotations:
        body["annotations"] = dict(index.annotations)
    return _blob(root, json.dumps(body).encode(), OCI_INDEX)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Registry:
    """``docker-registry serve`` on 127.0.0.1:<free port>. With ``token_realm``
    (and ``token_cert``), Bearer token auth; else htpasswd Basic auth."""

    def __init__(
        self, root: Path, user: str, password: str, *, token_realm: str | None = None,
        token_cert: Path | None = None, service: str = "test-registry",
    ) -> None:
        self.root, self.user, self.password = Path(root), user, password
        self.token_realm, self.token_cert, self.service = token_realm, token_cert, service
        self.port = free_port()
        self.log: list[str] = []
        self._ready = threading.Event()
        self._process: subprocess.Popen[str] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> Registry:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "config.yml"
        config.write_text(json.dumps(self._config()))  # JSON is YAML
        self._process = subprocess.Popen(
            [tool("docker-registry"), "serve", str(config)], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        threading.Thread(target=self._drain, daemon=True).start()
        if not self._ready.wait(20):
            self.stop()
            raise RuntimeError("docker-registry did not start: " + " | ".join(self.log[-5:]))

    def _config(self) -> dict[str, object]:
        if self.token_realm is not None:
            auth: dict[str, object] = {"token": {
                "realm": self.token_realm, "service": self.service, "issuer": "test-issuer",
                "rootcertbundle": str(self.token_cert)}}
        else:
            htpasswd = self.root / "htpasswd"
            result = subprocess.run([tool("htpasswd"), "-Bbn", self.user, self.password],
                                    capture_output=True, text=True, check=True)
            htpasswd.write_text(result.stdout)
            auth = {"htpasswd": {"realm": "test", "path": str(htpasswd)}}
        return {
            "version": 0.1,
            "log": {"level": "info", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(self.root / "data")},
                        "delete": {"enabled": True}},
            "http": {"addr": self.host, "secret": "test-secret"},
            "auth": auth,
        }

    def _drain(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        for line in self._process.stderr:
            self.log.append(line.rstrip())
            if "listening on" in line:
                self._ready.set()
        self._ready.set()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(10)
        self._process = None

    def push(self, layout: Path, tag: str, repository: str, dest_tag: str | None = None,
             docker_format: bool = False) -> None:
        """``skopeo copy --all`` of ``layout:tag`` to ``repository:dest_tag``."""
        command = [tool("skopeo"), "--insecure-policy", "copy", "--all", "--quiet",
                   "--dest-tls-verify=false", "--dest-creds", f"{self.user}:{self.password}"]
        if docker_format:
            command += ["--format", "v2s2"]
        command += [f"oci:{layout}:{tag}", f"docker://{self.host}/{repository}:{dest_tag or tag}"]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"skopeo copy failed: {result.stderr.strip()}")

    def digest(self, repository: str, reference: str, token: str | None = None) -> str:
        """The Docker-Content-Digest the registry reports (Basic auth only)."""
        request = urllib.request.Request(
            f"http://{self.host}/v2/{repository}/manifests/{reference}", method="HEAD",
            headers={"Accept": ACCEPT, "Authorization": token or _basic(self.user, self.password)})
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(response.headers["Docker-Content-Digest"])


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
