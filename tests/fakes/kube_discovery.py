"""The fake Kubernetes API server's discovery documents (``/version``, ``/api``,
``/api/v1``, ``/apis``, a group, a group version) for the resources one fake
cluster serves (fakes.kube_api), as the kubernetes client and kubectl read them."""

from __future__ import annotations

from typing import Any

from fakes.kube_api import Resource, Served, resources


def _groups(served: Served) -> dict[str, list[Resource]]:
    groups: dict[str, list[Resource]] = {}
    for res in served.values():
        groups.setdefault(res.group, []).append(res)
    return groups


def _group_doc(name: str, found: list[Resource]) -> dict[str, Any]:
    version = {"groupVersion": f"{name}/{found[0].version}", "version": found[0].version}
    versions = list({f"{r.group}/{r.version}": {"groupVersion": f"{r.group}/{r.version}",
                                                "version": r.version} for r in found}.values())
    return {"name": name, "versions": versions, "preferredVersion": version}


def _resource_list(group_version: str, found: list[Resource]) -> dict[str, Any]:
    verbs = ["get", "list", "watch", "create", "update", "patch"]
    out: list[dict[str, Any]] = []
    for res in found:
        out.append({"name": res.plural, "singularName": res.kind.lower(), "namespaced": True,
                    "kind": res.kind, "verbs": verbs, "shortNames": list(res.short_names)})
        if res.status_subresource:
            out.append({"name": f"{res.plural}/status", "singularName": "", "namespaced": True,
                        "kind": res.kind, "verbs": ["get", "patch", "update"]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": out}


def discovery(path: str, served: Served | None = None) -> dict[str, Any] | None:
    """The discovery document at ``path``, or None when it is not one (an
    unserved group or version is not one: the server answers 404)."""
    path = path.rstrip("/")
    if path == "/version":
        return {"major": "1", "minor": "32", "gitVersion": "v1.32.0-fake", "platform": "fake"}
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}
    groups = _groups(resources() if served is None else served)
    if path == "/api/v1":
        return _resource_list("v1", groups.get("", []))
    groups.pop("", None)
    if path == "/apis":
        return {"kind": "APIGroupList", "apiVersion": "v1",
                "groups": [_group_doc(g, found) for g, found in groups.items()]}
    parts = path.split("/")[2:]
    if len(parts) == 1 and parts[0] in groups:
        return {"kind": "APIGroup", "apiVersion": "v1", **_group_doc(parts[0], groups[parts[0]])}
    if len(parts) == 2 and parts[0] in groups:
        found = [r for r in groups[parts[0]] if r.version == parts[1]]
        return _resource_list("/".join(parts), found) if found else None
    return None
