"""A real git smart-HTTP server for tests: ``git http-backend`` behind Basic auth.

    with GitServer(tmp_path / "srv", user="bot", password="s3cret") as server:
        server.create("config")                       # empty bare repo srv/config.git
        url = server.url("config")                    # http://127.0.0.1:PORT/config.git
        ...
        assert server.requests[-1].service == "git-receive-pack"

Bare repositories live in ``root`` as ``<name>.git``. The server listens on
127.0.0.1 on an ephemeral port, in a daemon thread. With ``user`` set every
request must carry that user and password (else 401); ``allow_filter=False``
simulates a server without partial-clone support. Each request is recorded in
``requests`` (method, path, service, user, authorized); ``user`` is the
Basic-auth user a request presented, on an open server too.

Hostile modes, per stage (``"GET git-upload-pack"`` is the ref advertisement of
a fetch or clone, ``"POST git-receive-pack"`` the pack of a push, ``"*"`` any):

    server.modes["GET git-upload-pack"] = "stall"     # never answer
    server.modes["POST git-upload-pack"] = "trickle"  # one byte every 0.2 s
    server.modes["POST git-receive-pack"] = "drop"    # apply the push, then hang up
    server.modes["*"] = "html"                        # a web page, 200
    server.modes["POST git-receive-pack"] = "500"     # an HTTP status
    server.modes["POST git-upload-pack"] = "500 after 1"  # the first one goes through
    server.modes["GET git-upload-pack"] = "stall after push"  # once a push came in

``server.moved["old.git"] = "config.git"`` answers every request under
``/old.git/`` with a 301 to the same path under ``/config.git/`` (a renamed
repository, as GitHub redirects it). ``tls=(certificate, key)`` serves https.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from support.loopback import serve

_EXEC_PATH = subprocess.run(["git", "--exec-path"], capture_output=True, text=True, check=True)
_BACKEND = Path(_EXEC_PATH.stdout.strip()) / "git-http-backend"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    service: str  # git-upload-pack | git-receive-pack | "" (e.g. HEAD, info/refs w/o service)
    user: str | None  # the Basic-auth user presented, if any
    authorized: bool


class GitServer:
    """``git http-backend`` over HTTP on 127.0.0.1, serving bare repos in ``root``."""

    def __init__(
        self,
        root: Path,
        user: str | None = None,
        password: str | None = None,
        *,
        allow_filter: bool = True,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.user = user
        self.password = password
        self.allow_filter = allow_filter
        self.requests: list[Request] = []
        self.modes: dict[str, str] = {}
        self.moved: dict[str, str] = {}  # "old.git" -> "new.git": answered with a 301
        self.counts: dict[str, int] = {}
        self.tls = tls
        self.stopping = threading.Event()
        self.stalled = threading.Event()  # set when a "stall" request arrives
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------
    def __enter__(self) -> GitServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"server_state": self})
        self._httpd = serve(handler, self.tls)

    def stop(self) -> None:
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    # -- helpers ---------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def url(self, name: str) -> str:
        """The clone URL of ``root/<name>.git`` (no credentials in it)."""
        return f"{self.base_url}/{_repo_name(name)}"

    def path(self, name: str) -> Path:
        return self.root / _repo_name(name)

    def create(self, name: str, source: Path | None = None, branch: str = "main") -> Path:
        """Create bare repo ``name``; with ``source`` (a work tree dir), one commit of it."""
        bare = self.path(name)
        _git("init", "--bare", "-q", "-b", branch, str(bare))
        if source is not None:
            seed_bare(bare, source, branch)
        return bare

    def mode(self, stage: str) -> str:
        """The hostile mode for this request; ``"500 after 1"`` spares the first one."""
        with self._lock:
            self.counts[stage] = self.counts.get(stage, 0) + 1
            mode, _, after = (self.modes.get(stage) or self.modes.get("*", "")).partition(
                " after ")
            if after == "push":  # spared until a push has come in
                return mode if self.counts.get("POST git-receive-pack") else ""
            return "" if after and self.counts[stage] <= int(after) else mode

    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def check(self, header: str | None) -> tuple[str | None, bool]:
        """(user presented, authorized) for an Authorization header; an open
        server (no ``user``) lets every request in and still records who it claimed."""
        if not header or not header.startswith("Basic "):
            return None, self.user is None
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except ValueError:
            return None, self.user is None
        user, _, password = decoded.partition(":")
        return user, self.user is None or (user == self.user and password == self.password)


def seed_bare(bare: Path, source: Path, branch: str = "main", message: str = "initial") -> str:
    """Commit the tree of ``source`` as the first commit of ``branch`` in ``bare``."""
    work = bare.parent / (bare.name + ".seed")
    shutil.copytree(source, work, symlinks=True)
    env = {**os.environ, "GIT_DIR": str(work / ".git"), "GIT_WORK_TREE": str(work)}
    _git("init", "-q", "-b", branch, env=env)
    _git("add", "-A", env=env)
    _git("commit", "-q", "--no-verify", "-m", message, env=env)
    _git("push", "-q", str(bare), f"HEAD:refs/heads/{branch}", env=env)
    sha = _git("rev-parse", "HEAD", env=env)
    shutil.rmtree(work)
    return sha


def _repo_name(name: str) -> str:
    return name if name.endswith(".git") else f"{name}.git"


def _git(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(["git", *args], capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


class _Handler(BaseHTTPRequestHandler):
    server_state: GitServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        state = self.server_state
        split = urlsplit(self.path)
        service = parse_qs(split.query).get("service", [""])[0] or split.path.rsplit("/", 1)[-1]
        service = service if service.startswith("git-") else ""
        user, authorized = state.check(self.headers.get("Authorization"))
        state.record(Request(self.command, split.path, service, user, authorized))
        moved = next((new for old, new in state.moved.items()
                      if split.path.startswith(f"/{old}/")), None)
        if moved is not None:  # a renamed repository: 301 to its new path, same origin
            new_path = split.path.replace(split.path.split("/")[1], moved, 1)
            self.send_response(301)
            self.send_header("Location", state.base_url + new_path
                             + (f"?{split.query}" if split.query else ""))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if not authorized:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self._read_body()
        mode = state.mode(f"{self.command} {service}")
        if mode == "stall":
            state.stalled.set()
            state.stopping.wait(60)
            return
        if mode in ("html", "500"):
            self._send_plain(200 if mode == "html" else 500)
            return
        output = self._run_backend(split.path, split.query, user, body)
        if mode == "drop":
            return  # the push is applied; the answer never comes
        self._send_cgi(output, trickle=mode == "trickle")

    def _send_plain(self, status: int) -> None:
        page = b"<html><body>Sign in to continue</body></html>"
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def _read_body(self) -> bytes:
        if self.command != "POST":
            return b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def _run_backend(self, path: str, query: str, user: str | None, body: bytes) -> bytes:
        state = self.server_state
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(state.root),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_PROJECT_ROOT": str(state.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_USER": user or "anonymous",
            "GIT_CONFIG_COUNT": "3",
            "GIT_CONFIG_KEY_0": "http.receivepack",
            "GIT_CONFIG_VALUE_0": "true",
            "GIT_CONFIG_KEY_1": "uploadpack.allowFilter",
            "GIT_CONFIG_VALUE_1": "true" if state.allow_filter else "false",
            "GIT_CONFIG_KEY_2": "uploadpack.allowAnySHA1InWant",
            "GIT_CONFIG_VALUE_2": "true",
        }
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        result = subprocess.run(
            [str(_BACKEND)], input=body, capture_output=True, env=env, check=False
        )
        return result.stdout

    def _send_cgi(self, output: bytes, trickle: bool = False) -> None:
        head, sep, payload = output.partition(b"\r\n\r\n")
        if not sep:
            head, _, payload = output.partition(b"\n\n")
        status = 200
        headers: list[tuple[str, str]] = []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if not trickle:
            self.wfile.write(payload)
            return
        for byte in payload:
            if self.server_state.stopping.wait(0.2):
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
