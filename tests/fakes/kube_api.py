"""The API-server rules behind tests/fakes/kube_server.py: resources from the
real CRDs vendored in tests/data/schemas/crds, paths, field selectors, merge
patches with status-subresource rules, generation, schema validation, Status
objects, server-side Tables (for kubectl). The discovery documents are in
fakes.kube_discovery."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import Any

import jsonschema
from support.data import data_file

from fakes import kube_schema

CRDS = data_file("schemas", "crds")


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason = code, reason


class Cut(Exception):
    """Raised inside a watch to cut the connection without a clean end."""


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    status_subresource: bool
    schema: dict[str, Any]
    short_names: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


def _crd(filename: str, short_names: tuple[str, ...] = ()) -> Resource:
    from ruamel.yaml import YAML

    doc = YAML(typ="safe").load((CRDS / filename).read_text())
    spec = doc["spec"]
    version = next(v for v in spec["versions"] if v.get("storage"))
    return Resource(spec["group"], version["name"], spec["names"]["plural"],
                    spec["names"]["kind"], "status" in (version.get("subresources") or {}),
                    version["schema"]["openAPIV3Schema"], short_names)


def _builtin(group: str, plural: str, kind: str, short_names: tuple[str, ...]) -> Resource:
    return Resource(group, "v1", plural, kind, True, kube_schema.builtin(kind), short_names)


@functools.cache
def resources() -> dict[str, Resource]:
    found = [
        _builtin("apps", "deployments", "Deployment", ("deploy",)),
        _builtin("apps", "statefulsets", "StatefulSet", ("sts",)),
        _builtin("apps", "daemonsets", "DaemonSet", ("ds",)),
        _builtin("apps", "replicasets", "ReplicaSet", ("rs",)),
        _builtin("", "pods", "Pod", ("po",)),
        _crd("argocd-application-crd.yaml", ("app",)),
        _crd("argo-rollouts-rollout-crd.yaml", ("ro",)),
        _crd("flux-kustomization-crd.yaml", ("ks",)),
        _crd("flux-helmrelease-crd.yaml", ("hr",)),
    ]
    return {r.plural: r for r in found}


class _Resources:
    def __getitem__(self, plural: str) -> Resource:
        return resources()[plural]


RESOURCES = _Resources()


Served = dict[str, Resource]  # plural -> resource: what one fake cluster serves


def resource_of_object(obj: dict[str, Any], served: Served | None = None) -> Resource:
    for res in (resources() if served is None else served).values():
        if res.kind == obj.get("kind"):
            return res
    raise ApiError(404, "NotFound", f"no resource for kind {obj.get('kind')!r}")


def status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def route(path: str, served: Served | None = None) -> tuple[Resource, str, str, str] | None:
    """(resource, namespace, name, subresource) for a resource path; None for a
    resource type that is not served (the server answers 404 with a Status)."""
    parts = path.rstrip("/").split("/")[1:]
    if parts[:1] == ["api"]:  # the core group: /api/v1/...
        parts = ["apis", "", *parts[1:]]
    if len(parts) < 4 or parts[0] != "apis":
        return None
    group, version, rest = parts[1], parts[2], parts[3:]
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3 or (not namespace and len(rest) > 1):
        return None
    res = (resources() if served is None else served).get(rest[0])
    if res is None or (res.group, res.version) != (group, version):
        return None
    return res, namespace, rest[1] if len(rest) > 1 else "", rest[2] if len(rest) > 2 else ""


def labels_match(selector: str, meta: dict[str, Any]) -> bool:
    """Equality-based label selectors (``a=b,c!=d``), as the client sends them."""
    labels = meta.get("labels") or {}
    for term in filter(None, selector.split(",")):
        if "=" not in term:
            raise ApiError(400, "BadRequest", f"unsupported label selector {term!r}")
        negate = "!=" in term
        key, _, value = term.replace("!=", "=").replace("==", "=").partition("=")
        if (labels.get(key.strip()) == value.strip()) == negate:
            return False
    return True


def fields_match(selector: str, meta: dict[str, Any]) -> bool:
    for term in filter(None, selector.split(",")):
        negate = "!=" in term
        key, _, value = term.replace("!=", "=").replace("==", "=").partition("=")
        field = {"metadata.name": meta.get("name"), "metadata.namespace": meta.get("namespace")}
        if key not in field:
            raise ApiError(400, "BadRequest", f'field label not supported: "{key}"')
        if (field[key] == value) == negate:
            return False
    return True


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def updated(res: Resource, old: dict[str, Any], body: Any, method: str, sub: str,
            content_type: str) -> dict[str, Any]:
    """The object after a PATCH or PUT on the main resource or /status."""
    if method == "PATCH":
        if "json-patch" in content_type or "apply-patch" in content_type:
            raise ApiError(415, "UnsupportedMediaType", f"unsupported patch type {content_type}")
        new = merge_patch(copy.deepcopy(old), body)
    elif method == "PUT":
        wanted = (body.get("metadata") or {}).get("resourceVersion")
        if wanted and wanted != old["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {res.plural}.'
                           f'{res.group} "{old["metadata"]["name"]}": the object has been '
                           "modified; please apply your changes to the latest version")
        new = copy.deepcopy(body)
    else:
        raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed here")
    if res.status_subresource and sub == "status":
        new = {**copy.deepcopy(old), "status": new.get("status")}
    elif res.status_subresource:
        new["status"] = copy.deepcopy(old.get("status"))
    if new.get("status") is None:
        new.pop("status", None)
    for key in ("name", "namespace", "uid", "creationTimestamp", "generation"):
        if key in old["metadata"]:
            new.setdefault("metadata", {})[key] = old["metadata"][key]
    return dict(new)


def set_generation(res: Resource, obj: dict[str, Any], old: dict[str, Any] | None,
                   writer: str) -> None:
    """Generation +1 on a change outside metadata (and, with a status
    subresource, outside status)."""
    meta = obj["metadata"]
    if old is None:
        meta["generation"] = 1
        return
    skip = {"metadata", "status"} if res.status_subresource else {"metadata"}
    before = {k: v for k, v in old.items() if k not in skip | {"apiVersion", "kind"}}
    after = {k: v for k, v in obj.items() if k not in skip | {"apiVersion", "kind"}}
    meta["generation"] = old["metadata"]["generation"] + (before != after)


@functools.cache
def _validator(plural: str) -> Any:
    return jsonschema.Draft7Validator(resources()[plural].schema)


def prune(res: Resource, obj: dict[str, Any]) -> list[str]:
    """Structural pruning (see fakes.kube_schema); the paths dropped."""
    return kube_schema.prune(res.schema, obj)


def validate(res: Resource, obj: dict[str, Any]) -> None:
    errors = sorted(_validator(res.plural).iter_errors(obj), key=lambda e: list(e.path))
    if errors:
        where = ".".join(str(p) for p in errors[0].path)
        raise ApiError(422, "Invalid", f'{res.kind}.{res.group} "{obj["metadata"].get("name")}"'
                       f" is invalid: {where}: {errors[0].message}")


def table(res: Resource, items: list[dict[str, Any]], rv: int) -> dict[str, Any]:
    """A meta.k8s.io/v1 Table, as kubectl asks for (Name, Ready for Deployments, Age)."""
    columns = [{"name": "Name", "type": "string", "format": "name", "description": "name",
                "priority": 0}]
    if res.kind == "Deployment":
        columns += [{"name": n, "type": t, "format": "", "description": n, "priority": 0}
                    for n, t in (("Ready", "string"), ("Up-to-date", "integer"),
                                 ("Available", "integer"))]
    columns.append({"name": "Age", "type": "string", "format": "", "description": "age",
                    "priority": 0})
    rows = []
    for obj in items:
        cells: list[Any] = [obj["metadata"]["name"]]
        if res.kind == "Deployment":
            st = obj.get("status") or {}
            cells += [f"{st.get('readyReplicas', 0)}/{obj['spec'].get('replicas', 1)}",
                      st.get("updatedReplicas", 0), st.get("availableReplicas", 0)]
        cells.append("1m")
        meta = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
        rows.append({"cells": cells, "object": {"kind": "PartialObjectMetadata",
                                                "apiVersion": "meta.k8s.io/v1", "metadata": meta}})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": str(rv)}, "columnDefinitions": columns, "rows": rows}
