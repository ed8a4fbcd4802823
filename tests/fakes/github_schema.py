"""GitHub's schemas for the fake: the REST subset (openapi-core) and GraphQL SDL.

``make("pull-request", number=3, ...)`` returns a complete, schema-valid object
with the given fields overlaid; ``documented`` tells whether an operation
declares a status; ``details`` turns a validation exception into short text.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from typing import Any

from graphql import GraphQLSchema, build_schema, execute, parse, validate
from openapi_core import OpenAPI
from support.data import data_file

from fakes.schemas import instance

SCHEMAS = data_file("schemas", "github")
REST = SCHEMAS / "rest-pr-flow.openapi.json"


@functools.cache
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(REST.read_text())
    return loaded


@functools.cache
def openapi(prefix: str) -> OpenAPI:
    served = copy.deepcopy(spec())
    served["servers"] = [{"url": prefix or "/"}]
    return OpenAPI.from_dict(served)


@functools.cache
def graphql_schema() -> GraphQLSchema:
    schema = build_schema((SCHEMAS / "schema.graphql").read_text(), assume_valid_sdl=True)
    schema._validation_errors = []  # GitHub's SDL has known quirks; see PROVENANCE.md
    return schema


def _resolve(ref: str) -> dict[str, Any]:
    node: Any = spec()
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return dict(node)


@functools.cache
def _base(name: str) -> Any:
    return instance({"$ref": f"#/components/schemas/{name}"}, _resolve)


def make(schema: str, /, **overlay: Any) -> Any:
    """A complete ``components/schemas/<schema>`` object with ``overlay`` applied."""
    obj = copy.deepcopy(_base(schema))
    obj.update(overlay)
    return obj


def make_item(schema: str, prop: str, /, **overlay: Any) -> Any:
    """An item of the array property ``prop`` of ``schema``, with ``overlay``."""
    items = spec()["components"]["schemas"][schema]["properties"][prop]["items"]
    obj = instance(items, _resolve)
    obj.update(overlay)
    return obj


def documented(method: str, path: str, status: int) -> bool:
    for template, item in spec()["paths"].items():
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
        if re.fullmatch(pattern, path) and method.lower() in item:
            return str(status) in item[method.lower()]["responses"]
    return False


def details(exc: BaseException) -> str:
    """The schema errors behind an openapi-core exception, short enough to read."""
    found: list[str] = []
    for err in (exc, exc.__cause__):
        for schema_error in getattr(err, "schema_errors", []) or []:
            found.append(_explain(schema_error))
    return "; ".join(found) or type(exc.__cause__ or exc).__name__


def _explain(error: Any) -> str:
    where = "/".join(str(part) for part in error.absolute_path)
    inner = [_explain(sub) for sub in (error.context or [])[:4]]
    nested = f" [{' | '.join(inner)}]" if inner else ""
    return f"at {where or '.'}: {error.message[:160]}{nested}"


class FakeGraphQLError(Exception):
    """A deliberate GraphQL error (as opposed to a schema violation)."""


def run_graphql(payload: dict[str, Any], root: dict[str, Any], violations: list[str]) -> Any:
    """Validate and execute one GraphQL request against GitHub's schema; the
    result is type-checked by execution. Anything but a ``FakeGraphQLError`` is
    recorded in ``violations``."""
    try:
        document = parse(payload.get("query", ""))
    except Exception as exc:
        violations.append(f"graphql: cannot parse: {exc}")
        return {"errors": [{"message": str(exc)}]}
    errors = validate(graphql_schema(), document)
    if errors:
        violations.append(f"graphql: {[e.message for e in errors]}")
        return {"errors": [{"message": e.message} for e in errors]}
    result = execute(graphql_schema(), document, root_value=root,
                     variable_values=payload.get("variables"))
    out: dict[str, Any] = {"data": result.data}
    if result.errors:
        for error in result.errors:
            if not isinstance(error.original_error, FakeGraphQLError):
                violations.append(f"graphql execution: {error.message}")
        out["errors"] = [{"type": "UNPROCESSABLE", "message": e.message} for e in result.errors]
    return out
