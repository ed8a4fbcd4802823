"""Argo CD through its API server, for runners that cannot reach the cluster.

The Application is read (``GET /api/v1/applications/NAME``) and then followed
with the streaming watch ``argocd app wait`` uses
(``GET /api/v1/stream/applications?name=NAME``: one JSON line per event,
``{"result": {"type": ..., "application": ...}}``). The reconnect rules are the
Kubernetes watch path's: a stream lasts at most ``relist`` seconds, then the
app is read again and judged; a broken connection is reported (the verdict
turns to "not observing") and followed by a re-read.

Trust and secrets: TLS trust from ``--argocd-ca`` (a CA bundle), else the
system store or ``SSL_CERT_FILE``; a TLS failure says so and is not retried
(exit 2, as everywhere in promoter).
The token goes only into the Authorization header and only to the origin of
``--argocd-server``: a redirect to another origin is refused (exit 2), and so is
a server URL with credentials in it, before any request. Every
message that quotes the server is redacted (promoter.http_safety, the rule all
of promoter's HTTP clients follow).
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

from promoter import http_safety, remote
from promoter.errors import AuthError, InputError, PromoterError, Unreachable
from promoter.retry import RECONNECT, Clock
from promoter.verify.argocd import fill_health, needs_sync
from promoter.verify.watch import UNREACHABLE_SECONDS, Follower, Sink, reconnect_wait

STALL_GRACE = 2.0


def server_url(server: str) -> str:
    """The base URL of ``--argocd-server`` (https:// when it names no scheme);
    InputError when it carries credentials, before any request."""
    base = server.rstrip("/")
    base = base if "://" in base else "https://" + base
    remote.refuse_credentials(remote.parse(base), "--argocd-server", "pass the token "
                              "as --argocd-token (or PROMOTER_ARGOCD_TOKEN)")
    return base


class _SameOrigin(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only within the origin the token was given for
    (promoter.http_safety's rule; anything else is refused, nothing is sent)."""

    def __init__(self, bound: str) -> None:
        self.bound = bound

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        where = urllib.parse.urlsplit(newurl)._replace(query="", fragment="").geturl()
        http_safety.refuse_other_origin(self.bound, where, f"the Argo CD API ({code})")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class ArgoCDSource(Follower):
    """Follows one Application through the Argo CD API server."""

    def __init__(self, server: str, token: str, namespace: str, name: str, *,
                 refresh: bool = False, ca: str | None = None, sync: bool = False,
                 relist: float = 60.0, clock: Clock | None = None) -> None:
        self.base = server_url(server)
        self.clock = clock or Clock()  # a test's clock: its sleep is the reconnect wait
        self.token, self.namespace, self.name = token, namespace, name
        self.what = f"application {namespace}/{name} on {self.base}"
        http_safety.remember(token)
        context = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context),
            _SameOrigin(self.base))
        self.refresh, self.sync, self.relist = refresh, sync, max(relist, 1.0)
        self.stopped = threading.Event()
        self.pause = clock.sleep if clock else self.stopped.wait
        self.response: Any = None
        self.thread: threading.Thread | None = None

    def url(self, path: str, **query: str) -> str:
        quoted = urllib.parse.quote(self.name, safe="")
        query = {"appNamespace": self.namespace, **query}
        return f"{self.base}{path.format(name=quoted)}?{urllib.parse.urlencode(query)}"

    def interrupt(self) -> None:
        """Shut a blocked stream's socket down."""
        _shutdown(self.response)

    def _run(self, index: int, sink: Sink) -> None:
        failures = 0
        since: float | None = self.clock.now()  # None once the server answered
        while not self.stopped.is_set():
            try:
                app = self.read()
                sink(index, app)
                failures, since = 0, None
                if app is not None and self.sync and needs_sync(app):
                    self.request("/api/v1/applications/{name}/sync", method="POST",
                                 body={"appNamespace": self.namespace, "name": self.name})
                self.sync = False
                self._follow(index, sink, app)
            except (AuthError, InputError, Unreachable) as exc:
                if not self.stopped.is_set():
                    sink(index, exc)
                return
            except PromoterError as exc:
                if self.stopped.is_set():
                    return
                since = since if isinstance(exc, _NotReached) else None
                if since is not None and self.clock.now() - since >= UNREACHABLE_SECONDS:
                    sink(index, Unreachable(f"{exc.message}; check --argocd-server and that "
                                            "the Argo CD API server is reachable from here"))
                    return
                sink(index, exc)
                failures += 1
                self.pause(reconnect_wait(RECONNECT.delay(failures), since, self.clock.now()))

    def read(self) -> dict[str, Any] | None:
        """The Application (health filled in from the resource tree when the
        app's resources carry none, as in Argo CD 3.x), None when absent."""
        query = {"refresh": "normal"} if self.refresh else {}
        self.refresh = False
        app = self.request("/api/v1/applications/{name}", **query)
        if app is not None:
            fill_health(app, self.tree)
        return app

    def tree(self) -> list[dict[str, Any]]:
        found = self.request("/api/v1/applications/{name}/resource-tree") or {}
        return list(found.get("nodes") or ())

    def _follow(self, index: int, sink: Sink, app: dict[str, Any] | None) -> None:
        """Stream events for at most ``relist`` seconds (a silent stream ends the cycle)."""
        rv = str(((app or {}).get("metadata") or {}).get("resourceVersion") or "")
        query = {"name": self.name, "appNamespace": self.namespace,
                 **({"resourceVersion": rv} if rv else {})}
        url = f"{self.base}/api/v1/stream/applications?{urllib.parse.urlencode(query)}"
        ends = time.monotonic() + self.relist
        try:
            for event in self._lines(url, self.relist + STALL_GRACE):
                result = event.get("result") or {}
                if event.get("error"):
                    raise PromoterError(self._quote("stream error", event["error"]))
                obj = result.get("application")
                if result.get("type") == "DELETED":
                    sink(index, None)
                elif obj:
                    fill_health(obj, self.tree)
                    sink(index, obj)
                if self.stopped.is_set() or time.monotonic() >= ends:
                    return
        except TimeoutError:
            return  # silent for the whole cycle: re-read, which proves the server is there

    def _lines(self, url: str, timeout: float) -> Iterator[dict[str, Any]]:
        response = self._open(url, timeout)
        self.response = response
        try:
            while not self.stopped.is_set():
                line = response.readline()
                if not line:
                    return
                if line.strip():
                    yield json.loads(line)
        except (OSError, ValueError) as exc:
            if isinstance(exc, (TimeoutError, socket.timeout)):
                raise
            if not self.stopped.is_set():
                raise PromoterError(f"Argo CD stream for {self.what} broke: "
                                    f"{http_safety.redact(str(exc))}") from None
        finally:
            self.response = None
            response.close()

    def request(self, path: str, method: str = "GET", body: Any = None,
                **query: str) -> dict[str, Any] | None:
        """One JSON request; None on 404; AuthError on 401/403."""
        try:
            opened = self._open(self.url(path, **query), 30, method, body)
        except _Absent:
            return None
        with opened as response:
            try:
                data: dict[str, Any] = json.loads(response.read())
            except ValueError:
                raise PromoterError(f"Argo CD API answered {path} for {self.what} with "
                                    "something that is not JSON") from None
            return data

    def _open(self, url: str, timeout: float, method: str = "GET", body: Any = None) -> Any:
        request = urllib.request.Request(
            url, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json",
                     **({"Content-Type": "application/json"} if body is not None else {})})
        try:
            return self.opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc) from None
        except urllib.error.URLError as exc:
            raise self._url_error(exc.reason) from None
        except TimeoutError:
            raise _NotReached(f"Argo CD API did not answer for {self.what} within "
                              f"{timeout:g}s") from None
        except (OSError, ValueError) as exc:
            raise self._url_error(exc) from None

    def _http_error(self, exc: urllib.error.HTTPError) -> PromoterError:
        if exc.code == 404:
            return _Absent(f"{self.what} not found")
        try:
            quoted = json.loads(exc.read() or b"{}").get("message", "")
        except (ValueError, AttributeError, OSError):
            quoted = ""
        quoted = http_safety.redact(str(quoted))[:300]
        if exc.code == 401:
            return AuthError(f"Argo CD API refused the token for {self.what} (401 {quoted}); "
                             "check --argocd-token")
        if exc.code == 403:
            return AuthError(f"Argo CD API answered 403 for {self.what}: the application may "
                             "not exist, or the token may not be allowed to see it; check the "
                             "name and namespace, and the token's RBAC (applications, get)")
        return PromoterError(f"Argo CD API error on {self.what}: {exc.code} {quoted}".strip())

    def _url_error(self, reason: Any) -> PromoterError:
        if isinstance(reason, PromoterError):
            return reason
        if isinstance(reason, ssl.SSLError):
            detail = str(getattr(reason, "verify_message", None) or reason.reason or reason)
            if isinstance(reason, ssl.SSLCertVerificationError):
                detail = f"certificate verify failed: {detail}"
            return InputError(f"TLS verification of {self.base} failed ({detail}); pass "
                               "--argocd-ca with the CA bundle that signed the Argo CD "
                               "server's certificate (or set SSL_CERT_FILE)")
        text = http_safety.redact(str(getattr(reason, "strerror", None) or reason))
        return _NotReached(f"cannot reach the Argo CD API for {self.what}: {text}")

    def _quote(self, what: str, error: Any) -> str:
        message = error.get("message") if isinstance(error, dict) else error
        return f"Argo CD {what} for {self.what}: {http_safety.redact(str(message))[:300]}"


class _Absent(PromoterError):
    """404: the application does not exist (read as None)."""


class _NotReached(PromoterError):
    """No answer from the server: refused, DNS, a reset, a timeout (TLS failures
    are InputError, never retried)."""


def _shutdown(response: Any) -> None:
    """Unblock a thread reading ``response`` (an http.client response)."""
    try:
        sock = response.fp.raw._sock
        sock.shutdown(socket.SHUT_RDWR)
    except (AttributeError, OSError):
        pass
