"""The fake Argo CD API server (fakes.kube_server answers its paths): ``GET
/api/v1/applications/NAME`` (``?refresh=`` annotates the Application as Argo
CD does), ``.../resource-tree``, ``POST .../sync`` (records the request and
starts an operation) and the stream ``/api/v1/stream/applications?name=NAME``
(grpc-gateway JSON lines over the Application's watch). Argo CD answers 403
for an application that does not exist. ``argocd_redirect`` and
``argocd_echo`` on the FakeKube make it hostile."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from fakes import kube_api as api

if TYPE_CHECKING:
    from fakes.kube_server import Handler

DENIED = {"error": "permission denied", "code": 7, "message": "permission denied"}
def answer(handler: Handler, method: str, path: str, query: dict[str, str], role: str) -> None:
    """GET applications/NAME, .../resource-tree, POST .../sync and the stream
    ``/api/v1/stream/applications?name=NAME`` (grpc-gateway JSON lines)."""
    if method == "POST":
        body = handler.body()
    if handler.fake.argocd_redirect:
        handler.send_response(handler.fake.argocd_redirect[0])
        handler.send_header("Location", handler.fake.argocd_redirect[1] + handler.path)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return None
    if handler.fake.argocd_echo:  # a hostile server quoting the request back
        message = f"internal error; request headers: {dict(handler.headers)}"
        return handler.send_json(500, {"error": message, "code": 13, "message": message})
    if role != "admin":
        return handler.send_json(403, DENIED)
    if path == "/api/v1/stream/applications":
        return _stream(handler, query)
    parts = path.split("/")[4:]  # NAME[/resource-tree|/sync]
    namespace = query.get("appNamespace", "argocd")
    if method == "POST" and parts[1:] == ["sync"]:
        return _sync(handler, parts[0], namespace, body)
    store = handler.fake.store
    with store.cond:
        old = store.objects.get(("applications", namespace, parts[0]))
        if old is not None and query.get("refresh"):
            new = copy.deepcopy(old)
            new["metadata"].setdefault("annotations", {})[
                "argocd.argoproj.io/refresh"] = query["refresh"]
            old = handler.fake.store.write(api.RESOURCES["applications"], new, "main", old)
        obj = copy.deepcopy(old)
    if obj is None:  # Argo CD answers 403 for an app that does not exist
        return handler.send_json(403, DENIED)
    if parts[1:] == ["resource-tree"]:
        return handler.send_json(200, {"nodes": handler.fake.resource_tree.get(parts[0], [])})
    handler.send_json(200, obj)


def _sync(handler: Handler, name: str, namespace: str, body: Any) -> None:
    handler.fake.argocd_syncs.append((name, body))
    store = handler.fake.store
    with store.cond:
        old = store.objects.get(("applications", namespace, name))
        if old is None:
            return handler.send_json(403, DENIED)
        new = {**copy.deepcopy(old), "operation": {
            "initiatedBy": {"username": "admin"}, "sync": {"revision": ""}}}
        obj = handler.fake.store.write(api.RESOURCES["applications"], new, "main", old)
    handler.send_json(200, obj)


def _stream(handler: Handler, query: dict[str, str]) -> None:
    namespace = query.get("appNamespace", "argocd")
    selector = {"fieldSelector": f"metadata.name={query.get('name', '')}",
                "resourceVersion": query.get("resourceVersion", "")}
    events = handler.fake.store.watch(api.RESOURCES["applications"], namespace, selector)
    handler.stream({"result": {"type": event["type"], "application": event["object"]}}
                   for event in events if event["type"] != "ERROR")
