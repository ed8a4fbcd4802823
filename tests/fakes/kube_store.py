"""The fake Kubernetes API server's storage: the objects, their history of
events with resourceVersions, and the watches that read it, all under one
condition variable (fakes.kube_server serves it, the test controller drives it).

A write prunes fields the schema lacks (a test fixture that writes one fails),
bumps the generation on a spec change, validates against the CRD's schema and
records an event. A watch from a compacted resourceVersion gets 410 Gone; a
watch ends at its timeoutSeconds, when the controller drops watches (cleanly,
or cut mid-stream: ``Cut``), or when the server closes.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fakes import kube_api as api


@dataclass
class Event:
    rv: int
    type: str
    plural: str
    obj: dict[str, Any]


@dataclass
class Store:
    """Objects and their history, guarded by one condition variable."""

    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    rv: int = 100
    compacted: int = 0
    drops: int = 0
    abrupt: bool = False
    watches: int = 0
    gone: int = 0
    closing: bool = False
    stalled: bool = False  # watches stay open and silent, whatever timeoutSeconds says
    pruned: list[str] = field(default_factory=list)  # fields a client wrote that were dropped
    cond: threading.Condition = field(default_factory=threading.Condition)

    def write(self, res: api.Resource, obj: dict[str, Any], writer: str,
              old: dict[str, Any] | None = None) -> dict[str, Any]:
        """Store ``obj`` (the caller holds the lock); the stored copy."""
        meta = obj.setdefault("metadata", {})
        key = (res.plural, meta.get("namespace", ""), meta.get("name", ""))
        old = old if old is not None else self.objects.get(key)
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        dropped = api.prune(res, obj)
        if dropped and writer == "controller":
            raise AssertionError(f"test fixture writes fields the {res.kind} schema lacks "
                                 f"(a real API server prunes them): {', '.join(dropped)}")
        self.pruned += [f"{res.kind} {meta.get('name')}: {p}" for p in dropped]
        api.set_generation(res, obj, old, writer)
        api.validate(res, obj)
        self.rv += 1
        meta["resourceVersion"] = str(self.rv)
        meta.setdefault("uid", f"uid-{self.rv}")
        meta.setdefault("creationTimestamp", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        self.objects[key] = obj
        self.events.append(Event(self.rv, "MODIFIED" if old else "ADDED",
                                 res.plural, copy.deepcopy(obj)))
        self.cond.notify_all()
        return copy.deepcopy(obj)

    def watch(self, res: api.Resource, namespace: str,
              query: dict[str, str]) -> Iterator[dict[str, Any]]:
        """The watch events of ``res`` in ``namespace`` matching ``query``'s selectors."""
        deadline = time.monotonic() + float(query.get("timeoutSeconds") or 1800)
        since = query.get("resourceVersion", "")
        with self.cond:
            if since not in ("", "0") and int(since) < self.compacted:
                self.gone += 1
                yield {"type": "ERROR", "object": api.status(
                    410, "Expired", f"too old resource version: {since} ({self.compacted})")}
                return
            drops = self.drops
            self.watches += 1
            self.cond.notify_all()
            pos = int(since) if since not in ("", "0") else self.rv
            initial = [] if since not in ("", "0") else [
                o for (p, _, _), o in self.objects.items()
                if p == res.plural and matching(namespace, query, o)]
        for obj in initial:
            yield {"type": "ADDED", "object": copy.deepcopy(obj)}
        while True:
            with self.cond:
                self.cond.wait_for(lambda: not self.stalled or self.closing)
                self.cond.wait_for(lambda pos=pos: self.rv > pos or self.drops != drops
                                   or self.closing or time.monotonic() >= deadline,
                                   max(deadline - time.monotonic(), 0))
                if self.drops != drops or self.closing:
                    if self.abrupt:
                        raise api.Cut
                    return
                if time.monotonic() >= deadline and self.rv <= pos:
                    return
                batch = [e for e in self.events if e.rv > pos and e.plural == res.plural
                         and matching(namespace, query, e.obj)]
                pos = self.rv
            for event in batch:
                yield {"type": event.type, "object": event.obj}


def matching(namespace: str, query: dict[str, str], obj: dict[str, Any]) -> bool:
    """Whether ``obj`` is in ``namespace`` (any, when empty) and matches the
    query's fieldSelector and labelSelector."""
    meta = obj["metadata"]
    if namespace and meta.get("namespace") != namespace:
        return False
    return (api.fields_match(query.get("fieldSelector", ""), meta)
            and api.labels_match(query.get("labelSelector", ""), meta))
