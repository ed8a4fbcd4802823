"""GitLab's schemas for the fake: GitLab's own API test schemas for responses
(``tests/data/schemas/gitlab``: ``merge_request.json``, ``user/basic.json``,
``commit/detail.json``, ``deployment.json``, ...; "date" and "uri" types read
as strings, see PROVENANCE.md) and the merge-request API's request schemas,
written from GitLab's API docs with ``additionalProperties: false``
(``request_schemas``), so a parameter GitLab does not know fails.
``violations`` says what an instance breaks.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from support.data import data_file

SCHEMAS = data_file("schemas", "gitlab")
BASE = "https://schemas.test/gitlab/"
IDS = {"type": "array", "items": {"type": "integer"}}
FLAG = {"type": "boolean"}
TEXT = {"type": "string"}


def request_schemas(specs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each request body or query schema (``required``, ``properties``) closed
    to any other parameter."""
    return {name: {"type": "object", "additionalProperties": False, **spec}
            for name, spec in specs.items()}


REQUESTS = request_schemas({
    "create": {"required": ["source_branch", "target_branch", "title"], "properties": {
        "source_branch": TEXT, "target_branch": TEXT, "title": TEXT, "description": TEXT,
        "labels": TEXT, "assignee_ids": IDS, "reviewer_ids": IDS,
        "remove_source_branch": FLAG, "squash": FLAG, "draft": FLAG}},
    "update": {"properties": {
        "title": TEXT, "description": TEXT, "labels": TEXT, "add_labels": TEXT,
        "remove_labels": TEXT, "assignee_ids": IDS, "reviewer_ids": IDS,
        "remove_source_branch": FLAG, "squash": FLAG,
        "state_event": {"enum": ["close", "reopen"]}}},
    "merge": {"properties": {
        "merge_when_pipeline_succeeds": FLAG, "auto_merge": FLAG,
        "should_remove_source_branch": FLAG, "squash": FLAG, "sha": TEXT,
        "merge_commit_message": TEXT, "squash_commit_message": TEXT}},
    "note": {"required": ["body"], "properties": {"body": TEXT}},
    "list": {"properties": {
        "source_branch": TEXT, "state": {"enum": ["opened", "closed", "locked", "merged", "all"]},
        "search": TEXT, "in": {"enum": ["title", "description", "title,description"]},
        "page": TEXT, "per_page": TEXT, "pagination": TEXT, "order_by": TEXT, "sort": TEXT}},
    "users": {"properties": {"username": TEXT, "page": TEXT, "per_page": TEXT}},
})


@functools.cache
def _registry() -> Registry:
    resources = [
        (BASE + str(p.relative_to(SCHEMAS)), Resource.from_contents(
            json.loads(p.read_text()), default_specification=DRAFT7))
        for p in SCHEMAS.rglob("*.json")
    ]
    return Registry().with_resources(resources)


@functools.cache
def _validator_class() -> Any:
    checker = jsonschema.Draft7Validator.TYPE_CHECKER.redefine_many({
        "date": lambda _, value: isinstance(value, str),
        "uri": lambda _, value: isinstance(value, str),
    })
    return jsonschema.validators.extend(jsonschema.Draft7Validator, type_checker=checker)


def violations(instance: Any, schema: dict[str, Any]) -> list[str]:
    validator = _validator_class()(schema, registry=_registry())
    return [f"{'/'.join(map(str, e.absolute_path)) or '.'}: {e.message[:200]}"
            for e in validator.iter_errors(instance)]


def vendored(name: str) -> dict[str, Any]:
    """GitLab's own schema ``name`` (e.g. ``merge_request.json``)."""
    return {"$ref": BASE + name}


def array(name: str) -> dict[str, Any]:
    """An array of GitLab's own schema ``name``."""
    return {"type": "array", "items": vendored(name)}
