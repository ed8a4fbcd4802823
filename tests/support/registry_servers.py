"""Servers around the test registry: a Bearer token service and a proxy that
redirects blob downloads to another origin.

TokenServer issues RS256 JWTs (``x5c`` header: its self-signed certificate,
which the registry trusts through ``rootcertbundle``). A request with the right
Basic credentials gets every action it asks for; an anonymous one gets ``pull``
on the ``public`` repositories only; wrong credentials get 401.

RedirectProxy forwards everything to the registry, except blob GETs, which it
answers with 307 to ``storage`` (another port: another origin). Storage serves
the blob (fetched from the registry with the fixture's own credentials) and
records the headers each request brought.
"""

from __future__ import annotations

import base64
import datetime
import http.client
import json
import threading
import time
import uuid
from collections.abc import Collection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class _Server:
    """A ThreadingHTTPServer on 127.0.0.1 in a daemon thread; ``seen`` records
    (method, path, headers) of each request."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        handler = type("Handler", (_Handler,), {"owner": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(self, handler: _Handler) -> None:
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    owner: _Server
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.owner.seen.append((self.command, self.path, dict(self.headers.items())))
        self.owner.handle(self)

    do_HEAD = do_GET

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class TokenServer(_Server):
    def __init__(self, root: Path, user: str, password: str,
                 public: Collection[str] = ()) -> None:
        self.user, self.password, self.public = user, password, set(public)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.cert_path = root / "token-cert.pem"
        root.mkdir(parents=True, exist_ok=True)
        self.cert = _self_signed(self.key)
        self.cert_path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        super().__init__()

    @property
    def realm(self) -> str:
        return f"{self.url}/token"

    def handle(self, handler: _Handler) -> None:
        query = parse_qs(urlsplit(handler.path).query)
        authorization = handler.headers.get("Authorization", "")
        user = None
        if authorization:
            if authorization != "Basic " + _b64std(f"{self.user}:{self.password}"):
                handler.reply(401, b'{"details": "bad credentials"}')
                return
            user = self.user
        access = [a for a in (_access(s) for s in query.get("scope", [])) if a is not None]
        if user is None:
            access = [dict(a, actions=["pull"]) for a in access if a["name"] in self.public
                      and "pull" in a["actions"]]
        token = self.issue(query.get("service", [""])[0], user or "", access)
        handler.reply(200, json.dumps({"token": token, "expires_in": 300}).encode(),
                      {"Content-Type": "application/json"})

    def issue(self, service: str, subject: str, access: list[dict[str, Any]]) -> str:
        now = int(time.time())
        der = self.cert.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
        claims = {"iss": "test-issuer", "sub": subject, "aud": service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = self.key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing}.{_b64(signature)}"


def _b64std(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _access(scope: str) -> dict[str, Any] | None:
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    if kind != "repository" or not name:
        return None
    return {"type": "repository", "name": name, "actions": actions.split(",")}


def _self_signed(key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test token issuer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


class Storage(_Server):
    """Serves blobs by digest from the registry, as a storage host would."""

    def __init__(self, registry: str, authorization: str) -> None:
        self.registry, self.authorization = registry, authorization
        super().__init__()

    def handle(self, handler: _Handler) -> None:
        repository, _, digest = urlsplit(handler.path).path.strip("/").rpartition("/")
        status, _headers, body = _forward("GET", self.registry, f"/v2/{repository}/blobs/{digest}",
                                         {"Authorization": self.authorization})
        handler.reply(status, body, {"Content-Type": "application/octet-stream"})


class RedirectProxy(_Server):
    """The registry's API on another port; blob GETs redirect to ``storage``."""

    def __init__(self, registry: str, storage: Storage) -> None:
        self.registry, self.storage = registry, storage
        super().__init__()

    def handle(self, handler: _Handler) -> None:
        path = urlsplit(handler.path).path
        if handler.command == "GET" and "/blobs/" in path:
            repository, _, digest = path.removeprefix("/v2/").partition("/blobs/")
            where = f"{self.storage.url}/{repository}/{digest}?signature=test"
            handler.reply(307, b"", {"Location": where})
            return
        forwarded = {k: v for k, v in handler.headers.items()
                     if k.lower() in ("authorization", "accept")}
        status, headers, body = _forward(handler.command, self.registry, handler.path, forwarded)
        keep = {k: v for k, v in headers.items()
                if k.lower() in ("content-type", "docker-content-digest", "www-authenticate",
                                 "content-length")}
        handler.reply(status, body, keep)


def _forward(method: str, host: str, path: str,
             headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(host, timeout=10)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


class Canned(_Server):
    """Answers every request with ``status``, ``body`` and ``headers`` (a
    hostile or broken registry); ``{url}`` in a header is this server's URL."""

    def __init__(self, status: int, body: bytes = b"",
                 headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}
        super().__init__()

    def handle(self, handler: _Handler) -> None:
        headers = {k: v.replace("{url}", self.url) for k, v in self.headers.items()}
        handler.reply(self.status, self.body, headers)
