"""Schemas and structural pruning for the fake API server.

Built-in kinds (Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod, and
ObjectMeta for every kind) get a JSON schema derived from the kubernetes
Python client's generated models: ``openapi_types`` gives each field's type,
``attribute_map`` its JSON name, pydantic's ``model_fields`` whether it is
required. The client is generated from Kubernetes' published OpenAPI (see
tests/data/PROVENANCE.md), so the field set is the API server's.

``prune`` drops what a real API server drops (structural pruning): object
fields the schema does not define, unless ``x-kubernetes-preserve-unknown-fields``
or ``additionalProperties`` keeps them; at the root (and in embedded
resources) ``apiVersion`` and ``kind`` are kept and ``metadata`` is pruned as
ObjectMeta. It returns the dotted paths it dropped, so the fake can fail the
test that wrote them instead of hiding them.
"""

from __future__ import annotations

import functools
from typing import Any

PRESERVE = "x-kubernetes-preserve-unknown-fields"
_SCALARS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"}, "int": {"type": "integer"}, "bool": {"type": "boolean"},
    "float": {"type": "number"}, "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string"}, "object": {PRESERVE: True},  # IntOrString, RawExtension
}
BUILTIN_MODELS = {"Deployment": "V1Deployment", "StatefulSet": "V1StatefulSet",
                  "DaemonSet": "V1DaemonSet", "ReplicaSet": "V1ReplicaSet", "Pod": "V1Pod"}


def _model(name: str) -> Any:
    from kubernetes import client

    model = getattr(client, name, None)
    if model is None or not hasattr(model, "openapi_types"):
        raise LookupError(f"kubernetes client has no model {name}")
    return model


def _type_schema(text: str, defs: dict[str, Any]) -> dict[str, Any]:
    if text.startswith("List[") and text.endswith("]"):
        return {"type": "array", "items": _type_schema(text[5:-1], defs)}
    if text.startswith("Dict[str, ") and text.endswith("]"):
        return {"type": "object", "additionalProperties": _type_schema(text[10:-1], defs)}
    if text in _SCALARS:
        return dict(_SCALARS[text])
    _define(text, defs)
    return {"$ref": f"#/definitions/{text}"}


def _define(name: str, defs: dict[str, Any]) -> None:
    if name in defs:
        return
    model = _model(name)
    defs[name] = {}  # reserve first: models may refer to themselves
    props = {model.attribute_map[attr]: _type_schema(kind, defs)
             for attr, kind in model.openapi_types.items()}
    fields = getattr(model, "model_fields", {})  # pydantic models (client >= 35)
    required = [model.attribute_map[attr] for attr, field in fields.items()
                if field.is_required() and attr in model.attribute_map]
    defs[name] = {"type": "object", "properties": props,
                  **({"required": required} if required else {})}


@functools.cache
def builtin(kind: str) -> dict[str, Any]:
    """The JSON schema of a built-in kind, with its models under ``definitions``."""
    defs: dict[str, Any] = {}
    root = _type_schema(BUILTIN_MODELS[kind], defs)
    return {**defs[root["$ref"].rsplit("/", 1)[1]], "definitions": defs}


@functools.cache
def object_meta() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    _define("V1ObjectMeta", defs)
    return {**defs["V1ObjectMeta"], "definitions": defs}


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = root["definitions"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def prune(schema: dict[str, Any], obj: dict[str, Any]) -> list[str]:
    """Prune ``obj`` in place as the API server does; the dotted paths dropped."""
    dropped: list[str] = []
    _prune_resource(schema, schema, obj, "", dropped)
    return dropped


def _prune_resource(schema: dict[str, Any], root: dict[str, Any], obj: dict[str, Any],
                    path: str, dropped: list[str]) -> None:
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        _prune(object_meta(), object_meta(), meta, f"{path}metadata", dropped)
    rest = {k: v for k, v in schema.get("properties", {}).items()
            if k not in ("apiVersion", "kind", "metadata")}
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    _prune({**schema, "properties": rest}, root, body, path.rstrip("."), dropped)
    for key in [k for k in obj if k not in ("apiVersion", "kind", "metadata")]:
        if key in body:
            obj[key] = body[key]
        else:
            del obj[key]


def _prune(schema: dict[str, Any], root: dict[str, Any], value: Any, path: str,
           dropped: list[str]) -> None:
    schema = _resolve(schema, root)
    if isinstance(value, list):
        for index, item in enumerate(value):
            _prune(schema.get("items") or {PRESERVE: True}, root, item, f"{path}[{index}]",
                   dropped)
        return
    if not isinstance(value, dict):
        return
    if schema.get("x-kubernetes-embedded-resource"):
        _prune_resource({**schema, "x-kubernetes-embedded-resource": False}, root, value,
                        f"{path}.", dropped)
        return
    props, extra = schema.get("properties") or {}, schema.get("additionalProperties")
    for key in list(value):
        where = f"{path}.{key}" if path else key
        if key in props:
            _prune(props[key], root, value[key], where, dropped)
        elif isinstance(extra, dict):
            _prune(extra, root, value[key], where, dropped)
        elif not (extra is True or schema.get(PRESERVE)):
            dropped.append(where)
            del value[key]
