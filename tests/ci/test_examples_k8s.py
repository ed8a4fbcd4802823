"""examples/argo, examples/tekton and examples/jenkins: the YAML ones validated
against the schemas their projects publish (vendored subsets, see
tests/data/PROVENANCE.md), strictly (an unknown field fails, as with
kubeconform --strict); all of them run promoter's image of this release and
pass only options the promote command has.

Two published definitions describe a Go type rather than its YAML form, so the
test encodes those values the way the Go code does before validating: an Argo
Events trigger's `resource` (protobuf `Resource{value: bytes}`: the embedded
Workflow as base64 JSON, its spec validated on its own against WorkflowSpec)
and a Tekton ParamValue (`{Type, StringVal, ArrayVal, ObjectVal}`).
"""

from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
from ci_support import ROOT
from ruamel.yaml import YAML
from support.data import data_file

from promoter.cli import cli

ARGO = ROOT / "examples" / "argo"
WF = "io.argoproj.workflow.v1alpha1."
EV = "io.argoproj.events.v1alpha1."


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with unknown properties rejected wherever properties are listed."""
    schema = copy.deepcopy(schema)
    for definition in schema["definitions"].values():
        if "properties" in definition:
            definition.setdefault("additionalProperties", False)
    return schema


def validator(schema_file: tuple[str, ...], name: str,
              kind: type[jsonschema.protocols.Validator]) -> jsonschema.protocols.Validator:
    schema = strict(json.loads(data_file(*schema_file).read_text()))
    unresolved = {ref.rsplit("/", 1)[1] for ref in re.findall(r'"\$ref": "([^"]+)"',
                                                                json.dumps(schema))}
    assert unresolved <= set(schema["definitions"]), unresolved - set(schema["definitions"])
    return kind({"$ref": f"#/definitions/{name}", "definitions": schema["definitions"]})


def argo(name: str) -> jsonschema.protocols.Validator:
    return validator(("schemas", "argo", "workflows-events.subset.json"), name,
                     jsonschema.Draft7Validator)


def tekton(name: str) -> jsonschema.protocols.Validator:
    return validator(("schemas", "tekton", "pipeline-v1.subset.json"), name,
                     jsonschema.Draft4Validator)


def errors(check: jsonschema.protocols.Validator, document: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in check.iter_errors(document)]


def sensor_as_published(sensor: Any) -> tuple[Any, list[Any]]:
    """The Sensor with each argoWorkflow resource encoded as protobuf JSON, and
    the embedded Workflows. apiVersion and kind are checked by the caller: the
    published Sensor definition does not list them."""
    sensor = copy.deepcopy(sensor)
    sensor.pop("apiVersion", None)
    sensor.pop("kind", None)
    workflows = []
    for trigger in sensor["spec"]["triggers"]:
        source = trigger["template"]["argoWorkflow"]["source"]
        workflows.append(source["resource"])
        raw = json.dumps(source["resource"]).encode()
        source["resource"] = {"value": base64.b64encode(raw).decode()}
    return sensor, workflows


def param_value(value: Any) -> dict[str, Any]:
    """Tekton's ParamValue as the Go struct its UnmarshalJSON fills."""
    if isinstance(value, list):
        return {"Type": "array", "StringVal": "", "ArrayVal": value, "ObjectVal": {}}
    if isinstance(value, dict):
        return {"Type": "object", "StringVal": "", "ArrayVal": [], "ObjectVal": value}
    return {"Type": "string", "StringVal": value, "ArrayVal": [], "ObjectVal": {}}


def task_as_published(task: Any) -> Any:
    task = copy.deepcopy(task)
    for param in task["spec"].get("params", []):
        if "default" in param:
            param["default"] = param_value(param["default"])
    return task


def test_argo_workflow_template_validates() -> None:
    template = load(ARGO / "workflowtemplate.yaml")
    assert errors(argo(WF + "WorkflowTemplate"), template) == []


def test_argo_sensor_validates_and_submits_the_workflow_template() -> None:
    original = load(ARGO / "sensor.yaml")
    assert original["apiVersion"] == "argoproj.io/v1alpha1" and original["kind"] == "Sensor"
    sensor, workflows = sensor_as_published(original)
    assert errors(argo(EV + "Sensor"), sensor) == []
    template = load(ARGO / "workflowtemplate.yaml")
    declared = {p["name"] for p in template["spec"]["arguments"]["parameters"]}
    for workflow in workflows:
        assert workflow["apiVersion"] == "argoproj.io/v1alpha1" and workflow["kind"] == "Workflow"
        assert errors(argo(WF + "WorkflowSpec"), workflow["spec"]) == []
        assert workflow["spec"]["workflowTemplateRef"]["name"] == template["metadata"]["name"]
        passed = {p["name"] for p in workflow["spec"]["arguments"]["parameters"]}
        assert passed <= declared
    dependencies = {d["name"] for d in sensor["spec"]["dependencies"]}
    for trigger in sensor["spec"]["triggers"]:
        for parameter in trigger["template"]["argoWorkflow"]["parameters"]:
            assert parameter["src"]["dependencyName"] in dependencies
            assert parameter["dest"] == "spec.arguments.parameters.0.value"


def test_tekton_task_validates() -> None:
    task = load(ROOT / "examples" / "tekton" / "task.yaml")
    assert task["apiVersion"] == "tekton.dev/v1" and task["kind"] == "Task"
    assert errors(tekton("v1.Task"), task_as_published(task)) == []


@pytest.mark.parametrize(
    ("check", "path", "breakage"),
    [
        ("workflowtemplate", ("spec", "templates", 0, "container"), {"imagee": "x"}),
        ("workflowtemplate", ("spec", "templates", 0, "container", "env", 0), {"name": 5}),
        ("sensor", ("spec", "triggers", 0, "template"), {"argoWorkflows": {}}),
        ("sensor", ("spec", "dependencies", 0, "filters", "data", 0), {"value": "one"}),
        ("task", ("spec", "steps", 0), {"arg": ["x"]}),
        ("task", ("spec", "params", 0), {"name": None}),
    ],
)
def test_the_schemas_reject_a_broken_example(
    check: str, path: tuple[str | int, ...], breakage: dict[str, Any],
) -> None:
    files = {"workflowtemplate": ARGO / "workflowtemplate.yaml", "sensor": ARGO / "sensor.yaml",
             "task": ROOT / "examples" / "tekton" / "task.yaml"}
    document = load(files[check])
    node = document
    for key in path:
        node = node[key]
    node.update(breakage)
    if check == "workflowtemplate":
        assert errors(argo(WF + "WorkflowTemplate"), document)
    elif check == "sensor":
        assert errors(argo(EV + "Sensor"), sensor_as_published(document)[0])
    else:
        assert errors(tekton("v1.Task"), task_as_published(document))


def release() -> str:
    head = (ROOT / "templates" / "promote.yml").read_text().partition("\n---\n")[0]
    return str(YAML(typ="safe").load(head)["spec"]["inputs"]["version"]["default"])


def promote_options() -> set[str]:
    command = cli.get_command(click.Context(cli), "promote")
    assert command is not None
    return {opt for param in command.params for opt in param.opts + param.secondary_opts}


EXAMPLES = {
    "argo": ARGO / "workflowtemplate.yaml",
    "tekton": ROOT / "examples" / "tekton" / "task.yaml",
    "jenkins": ROOT / "examples" / "jenkins" / "Jenkinsfile",
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples_run_this_releases_image_with_real_options_and_the_token_in_env(
    name: str,
) -> None:
    text = "\n".join(line for line in EXAMPLES[name].read_text().splitlines()
                     if not line.lstrip().startswith(("#", "//")))  # commands, not comments
    images = re.findall(r"ghcr\.io/<owner>/promoter:[\w.-]+", text)
    assert images and set(images) == {f"ghcr.io/<owner>/promoter:{release()}"}
    assert re.search(r"\bpromote\b", text)
    flags = re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", text)
    used = set(flags) - {"--entrypoint"}  # Jenkins' docker agent argument
    assert used and used <= promote_options(), used - promote_options()
    assert "--token" not in text and "PROMOTER_TOKEN" in text
