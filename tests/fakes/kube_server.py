"""A fake Kubernetes API server on 127.0.0.1 with TLS and bearer tokens, for the
real kubernetes client (and kubectl) through a generated kubeconfig.

It serves discovery (/api, /apis, group versions), get/list/watch of namespaced
objects with resourceVersions, 410 Gone for a watch from a compacted
resourceVersion, watch timeouts (timeoutSeconds), Status objects for 401, 403,
404, 409, 422; merge patches and PUT with the status-subresource rules of the
real CRDs (Argo CD Application: none, so PATCH .../status is 404); every stored
object validates against its CRD's openAPIV3Schema. It also answers the Argo
CD API server's ``GET /api/v1/applications/NAME`` (fakes.kube_argocd). The
objects, their history and the watches are fakes.kube_store; the API's rules
fakes.kube_api, its discovery documents fakes.kube_discovery.

The test controller drives it in process: ``apply`` (create or replace, as a
controller writing spec and status), ``drop_watches``, ``expire`` (compact
history and drop watches, so the next watch gets 410), ``wait_watches``.
"""

from __future__ import annotations

import base64
import copy
import json
import socket
import ssl
import threading
from collections.abc import Collection, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from support.tls import self_signed

from fakes import kube_api as api
from fakes import kube_argocd as argocd
from fakes.kube_discovery import discovery
from fakes.kube_store import Event, Store, matching

ADMIN_TOKEN = "admin-token-0123456789"
NOBODY_TOKEN = "nobody-token-0123456789"


class FakeKube:
    """The server and its controller API."""

    def __init__(self, workdir: Path, missing: Collection[str] = ()) -> None:
        """``missing``: plurals whose CRD is not installed (e.g. ``("rollouts",)``):
        discovery omits them and their paths answer 404 like any unknown path."""
        self.store = Store()
        self.served = {p: r for p, r in api.resources().items() if p not in missing}
        self.tokens = {ADMIN_TOKEN: "admin", NOBODY_TOKEN: "nobody"}
        # what RBAC refuses to every token (403): a plural ("pods", every verb)
        # or a verb and a plural ("patch applications")
        self.refused: set[str] = set()
        cert, key, self.ca_pem = self_signed(workdir)
        self.ca_path = str(cert)
        handler = type("Handler", (Handler,), {"fake": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.workdir = workdir
        self.name = "kube"
        self.seen_auth: list[tuple[str, str]] = []  # (server name, Authorization header)
        self.argocd_redirect: tuple[int, str] | None = None  # (code, other origin)
        self.argocd_echo = False
        self.argocd_syncs: list[tuple[str, Any]] = []
        self.resource_tree: dict[str, list[dict[str, Any]]] = {}  # app -> nodes
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def kubeconfig(self, token: str = ADMIN_TOKEN) -> str:
        ca = base64.b64encode(self.ca_pem).decode()
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {
                "server": self.url, "certificate-authority-data": ca}}],
            "users": [{"name": "fake", "user": {"token": token}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
        }
        path = self.workdir / f"kubeconfig-{abs(hash(token))}"
        path.write_text(json.dumps(config))
        return str(path)

    def close(self) -> None:
        with self.store.cond:
            self.store.closing = True
            self.store.cond.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- the test controller's API -----------------------------------------

    def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or replace an object as a controller would (spec and status)."""
        res = api.resource_of_object(obj, self.served)
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        with self.store.cond:
            old = self.store.objects.get((res.plural, meta.get("namespace", ""), meta["name"]))
            if old is not None:  # a controller keeps what others set in metadata
                for key in ("annotations", "labels"):
                    if key in old["metadata"]:
                        meta.setdefault(key, copy.deepcopy(old["metadata"][key]))
            return self.store.write(res, obj, writer="controller")

    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self.store.cond:
            found = self.store.objects.get((plural, namespace, name))
            return copy.deepcopy(found) if found else None

    def drop_watches(self, abrupt: bool = False) -> None:
        """End every open watch: cleanly, or by cutting the connection."""
        with self.store.cond:
            self.store.drops += 1
            self.store.abrupt = abrupt
            self.store.cond.notify_all()

    def delete(self, plural: str, namespace: str, name: str) -> None:
        """Remove an object (finalizers done): watches see DELETED."""
        with self.store.cond:
            obj = self.store.objects.pop((plural, namespace, name))
            self.store.rv += 1
            obj["metadata"]["resourceVersion"] = str(self.store.rv)
            self.store.events.append(Event(self.store.rv, "DELETED", plural, obj))
            self.store.cond.notify_all()

    def stall_watches(self) -> None:
        """From now on every watch stays open and sends nothing (a stalled proxy)."""
        with self.store.cond:
            self.store.stalled = True
            self.store.cond.notify_all()

    def expire(self, *objects: dict[str, Any]) -> None:
        """Write ``objects``, compact history to now and drop watches before they
        deliver anything: the next watch from an older resourceVersion gets 410
        Gone, and only a relist shows the new state."""
        with self.store.cond:
            for obj in objects:
                self.store.write(api.resource_of_object(obj, self.served), copy.deepcopy(obj),
                            "controller")
            self.store.compacted = self.store.rv
            self.store.abrupt = False
            self.store.drops += 1
            self.store.cond.notify_all()

    def wait_watches(self, count: int, timeout: float = 10.0) -> None:
        """Block until ``count`` watch requests have started in total."""
        with self.store.cond:
            if not self.store.cond.wait_for(lambda: self.store.watches >= count, timeout):
                raise AssertionError(f"only {self.store.watches} watches started, want {count}")

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeKube

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        # Go's net/http (the real API servers) sets TCP_NODELAY; without it the
        # header and body writes meet delayed ACKs and every answer takes 40 ms
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    # -- plumbing -----------------------------------------------------------

    def send_json(self, code: int, body: Any, content_type: str = "application/json") -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_status(self, code: int, reason: str, message: str) -> None:
        self.send_json(code, api.status(code, reason, message))

    def body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"null")

    def role(self) -> str | None:
        header = self.headers.get("Authorization", "")
        return self.fake.tokens.get(header[7:]) if header.startswith("Bearer ") else None

    def do_GET(self) -> None:
        self.dispatch("GET")

    def do_PATCH(self) -> None:
        self.dispatch("PATCH")

    def do_PUT(self) -> None:
        self.dispatch("PUT")

    def do_POST(self) -> None:
        self.dispatch("POST")

    def dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        role = self.role()
        self.fake.seen_auth.append((self.fake.name, self.headers.get("Authorization", "")))
        if role is None:
            if method != "GET":
                self.body()
            return self.send_status(401, "Unauthorized", "Unauthorized")
        if url.path.startswith(("/api/v1/applications/", "/api/v1/stream/applications")):
            return argocd.answer(self, method, url.path, query, role)
        found = discovery(url.path, self.fake.served)
        if found is not None:
            return self.send_json(200, found)
        route = api.route(url.path, self.fake.served)
        verb = {"GET": "get" if route and route[2] else
                "watch" if query.get("watch") in ("true", "1") else "list",
                "PATCH": "patch"}.get(method, "update")
        refused = route is not None and (role != "admin" or route[0].plural in self.fake.refused
                                         or f"{verb} {route[0].plural}" in self.fake.refused)
        if method != "GET" and (route is None or refused):
            self.body()  # read what is refused, or it spoils the kept-alive connection
        if route is None:
            return self.send_status(404, "NotFound", "the server could not find the requested "
                                    "resource")
        res, namespace, name, sub = route
        if refused:
            return self.send_status(403, "Forbidden", f'{res.plural}.{res.group} "{name}" is '
                                    f'forbidden: User "nobody" cannot {verb} resource '
                                    f'"{res.plural}" in API group "{res.group}" in the '
                                    f'namespace "{namespace}"')
        if method == "GET" and not name:
            if query.get("watch") in ("true", "1"):
                return self.watch(res, namespace, query)
            return self.list(res, namespace, query)
        return self.item(method, res, namespace, name, sub)

    # -- reads ----------------------------------------------------------------

    def list(self, res: api.Resource, namespace: str, query: dict[str, str]) -> None:
        store = self.fake.store
        with store.cond:
            items = [copy.deepcopy(o) for (plural, _, _), o in sorted(store.objects.items())
                     if plural == res.plural and matching(namespace, query, o)]
            rv = store.rv
        accept = self.headers.get("Accept", "")
        if "as=Table" in accept:
            return self.send_json(200, api.table(res, items, rv))
        self.send_json(200, {"kind": f"{res.kind}List", "apiVersion": res.api_version,
                             "metadata": {"resourceVersion": str(rv)}, "items": items})

    def item(self, method: str, res: api.Resource, namespace: str, name: str,
             sub: str) -> None:
        body = self.body() if method in ("PATCH", "PUT", "POST") else None
        if sub and (sub != "status" or not res.status_subresource):
            return self.send_status(404, "NotFound", "the server could not find the requested "
                                    "resource")
        store = self.fake.store
        with store.cond:
            old = store.objects.get((res.plural, namespace, name))
            if old is None:
                return self.send_status(404, "NotFound", f'{res.plural}.{res.group} "{name}" '
                                        "not found")
            if method == "GET":
                obj = copy.deepcopy(old)
            else:
                try:
                    new = api.updated(res, old, body, method, sub,
                                      self.headers.get("Content-Type", ""))
                    obj = self.fake.store.write(res, new, writer=sub or "main", old=old)
                except api.ApiError as exc:
                    return self.send_status(exc.code, exc.reason, str(exc))
        if "as=Table" in self.headers.get("Accept", ""):
            return self.send_json(200, api.table(res, [obj], store.rv))
        self.send_json(200, obj)

    def watch(self, res: api.Resource, namespace: str, query: dict[str, str]) -> None:
        self.stream(self.fake.store.watch(res, namespace, query))

    def stream(self, lines: Iterable[dict[str, Any]]) -> None:
        """A chunked stream of JSON lines, as the API server (and Argo CD's) sends
        them: ended by the last chunk, or cut mid-stream (``api.Cut``)."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for line in lines:
                self.chunk(json.dumps(line).encode() + b"\n")
            self.chunk(b"")
        except api.Cut:
            self.connection.shutdown(socket.SHUT_RDWR)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass
        self.close_connection = True

    def chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()
