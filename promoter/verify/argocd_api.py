"""Argo CD through its API server (``GET /api/v1/applications/NAME``) for
runners that cannot reach the cluster. The API has no watch for a single
application over plain HTTP, so this polls with backoff: fast right after a
change, slower while nothing moves. TLS trust comes from the system store or
``SSL_CERT_FILE``; the token goes only into the Authorization header.
"""

from __future__ import annotations

import json
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from promoter.errors import AuthError, PromoterError
from promoter.verify.watch import Sink

DELAYS = (0.2, 0.5, 1.0, 2.0, 3.0, 5.0)


class ArgoCDSource:
    """Polls one Application from the Argo CD API server."""

    def __init__(self, server: str, token: str, namespace: str, name: str,
                 refresh: bool = False) -> None:
        base = server.rstrip("/")
        if "://" not in base:
            base = "https://" + base
        query = {"appNamespace": namespace, **({"refresh": "normal"} if refresh else {})}
        quoted = urllib.parse.quote(name, safe="")
        self.first_url = f"{base}/api/v1/applications/{quoted}?{urllib.parse.urlencode(query)}"
        self.url = f"{base}/api/v1/applications/{quoted}?appNamespace={namespace}"
        self.token, self.what = token, f"application {namespace}/{name} on {base}"
        self.stopped = threading.Event()

    def start(self, index: int, sink: Sink) -> None:
        threading.Thread(target=self._run, args=(index, sink), daemon=True,
                         name=f"verify-{self.what}").start()

    def stop(self) -> None:
        self.stopped.set()

    def _run(self, index: int, sink: Sink) -> None:
        url, last, step = self.first_url, None, 0
        while not self.stopped.is_set():
            try:
                obj: Any = self.fetch(url)
            except AuthError as exc:
                sink(index, exc)
                return
            except PromoterError as exc:
                obj = exc
            url = self.url
            if repr(obj) != last:
                sink(index, obj)
                last, step = repr(obj), 0
            else:
                step = min(step + 1, len(DELAYS) - 1)
            self.stopped.wait(DELAYS[step])

    def fetch(self, url: str) -> dict[str, Any] | None:
        """The Application, None when absent; AuthError on 401/403."""
        request = urllib.request.Request(url, headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30,
                                        context=ssl.create_default_context()) as response:
                data: dict[str, Any] = json.loads(response.read())
                return data
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                raise AuthError(f"Argo CD API refused {self.what} ({exc.code}); check "
                                "--argocd-token and its RBAC (applications, get)") from None
            if exc.code == 404:
                return None
            raise PromoterError(f"Argo CD API error on {self.what}: {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise PromoterError(f"cannot reach Argo CD API for {self.what}: "
                                f"{type(exc).__name__}") from None
