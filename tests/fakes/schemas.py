"""Helpers shared by the fake forges: minimal schema instances and a server thread.

``instance`` builds the smallest object that satisfies a JSON/OpenAPI schema
(every required property, nullable ones as null), so a fake can overlay the
fields it keeps state for and still answer with complete, valid objects.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server

Resolver = Callable[[str], dict[str, Any]]
_STRINGS = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "uri": "https://example.test/",
    "email": "someone@example.test",
}


def instance(schema: dict[str, Any], resolve: Resolver) -> Any:
    """A minimal valid value for ``schema``; ``resolve`` follows ``$ref``s."""
    if "$ref" in schema:
        return instance(resolve(schema["$ref"]), resolve)
    if schema.get("nullable"):
        return None
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(instance(part, resolve))
        return merged
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [instance(option, resolve) for option in schema[key]]
            return next((o for o in options if o is not None), None)
    if "enum" in schema:
        return schema["enum"][0]
    return _typed(schema, resolve)


def _typed(schema: dict[str, Any], resolve: Resolver) -> Any:
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        if "null" in kind:
            return None
        kind = kind[0]
    if kind == "object":
        props = schema.get("properties", {})
        return {name: instance(props.get(name, {}), resolve) for name in schema.get("required", [])}
    simple = {"integer": 1, "number": 1, "boolean": False, "array": []}
    if kind in simple:
        return copy.copy(simple[kind])
    return _STRINGS.get(schema.get("format", ""), "x")


@contextmanager
def serving(app: Callable[..., Any]) -> Iterator[str]:
    """Serve the WSGI ``app`` on 127.0.0.1 (ephemeral port) in a thread; yield its URL."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
