"""``.promoter.yaml``: shape, errors that name the key, resolution, tree checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.configrepo import EXAMPLE

from promoter import config as cfg
from promoter.errors import InputError


def minimal(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "environments": {
            "staging": {"paths": ["apps/{app}/{env}"]},
            "prod": {"paths": ["apps/{app}/{env}"], "promote_from": "staging"},
        },
        "apps": {"api": {"image": "ghcr.io/acme/api"}},
    }
    data.update(extra)
    return data


def test_the_bundled_example_loads_and_resolves() -> None:
    config = cfg.load(EXAMPLE)
    assert config is not None
    assert sorted(config.apps) == ["api", "billing", "web", "worker"]
    target = cfg.resolve(config, "billing", "production")
    assert target.paths == ("charts/billing/values-production.yaml",)
    assert target.branch == "promoter/production/billing"
    assert config.environments["production"].verify.timeout == 600.0
    assert cfg.missing_paths(config, EXAMPLE) == []


def test_resolve_fills_placeholders_and_pull_request_settings() -> None:
    data = minimal()
    data["environments"]["prod"].update({
        "branch": "deploy/{env}-{app}", "commit_message": "ship {app} {new}",
        "pull_request": {"direct": True, "labels": "promotion", "merge_method": "squash"},
        "verify": {"argocd_apps": ["argocd/{app}-{env}"], "settle": "500ms"},
    })
    target = cfg.resolve(cfg.parse(data), "api", "prod")
    assert target.paths == ("apps/api/prod",) and target.branch == "deploy/prod-api"
    assert target.direct and target.pull_request.labels == ("promotion",)
    assert target.pull_request.merge_method == "squash"
    assert target.verify.argocd_apps == ("argocd/{app}-{env}",) and target.verify.settle == 0.5


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["environments"]["prod"].update(promote_fron="staging"),
     "environments.prod.promote_fron: unknown key"),
    (lambda d: d.update(extra=1), "extra: unknown key"),
    (lambda d: d["environments"]["staging"].update(promote_from="prod"),
     "environments.staging.promote_from: cycle staging -> prod -> staging"),
    (lambda d: d["environments"]["prod"].update(promote_from="qa"),
     "environments.prod.promote_from: unknown environment 'qa'"),
    (lambda d: d["environments"]["prod"].update(paths=["apps/{application}"]),
     "environments.prod.paths: unresolved placeholder {application}"),
    (lambda d: d["environments"]["prod"].update(paths=["apps/../../x"]),
     "leads outside the repository"),
    (lambda d: d["environments"]["prod"].update(paths=["/etc"]), "leads outside the repository"),
    (lambda d: d["apps"]["api"].update(image="ghcr.io/acme/api:1.0"), "apps.api.image"),
    (lambda d: d["apps"]["api"].pop("image"), "apps.api.image: missing"),
    (lambda d: d["environments"]["prod"].update(pull_request={"merge_method": "ff"}),
     "pull_request.merge_method"),
    (lambda d: d["environments"]["prod"].update(verify={"timeout": "soon"}),
     "environments.prod.verify.timeout: invalid duration"),
    (lambda d: d["environments"]["prod"].update(pull_request={"draft": "yes"}),
     "pull_request.draft: expected true or false"),
])
def test_bad_config_names_file_and_key(change: Any, message: str) -> None:
    data = minimal()
    change(data)
    with pytest.raises(InputError) as caught:
        cfg.parse(data)
    assert caught.value.message.startswith(".promoter.yaml: ")
    assert message in caught.value.message


def test_unknown_app_and_env_list_the_known_ones() -> None:
    config = cfg.parse(minimal())
    with pytest.raises(InputError, match=r"unknown environment 'qa'.*prod, staging"):
        cfg.resolve(config, "api", "qa")
    with pytest.raises(InputError, match=r"unknown app 'web'.*has api"):
        cfg.resolve(config, "web", "prod")


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    (tmp_path / ".promoter.yaml").write_text("apps:\n  api: [\n")
    with pytest.raises(InputError, match=r"\.promoter\.yaml: line \d+ not valid YAML"):
        cfg.load(tmp_path)


def test_missing_files_are_problems(tmp_path: Path) -> None:
    (tmp_path / "apps/api/staging").mkdir(parents=True)
    found = cfg.missing_paths(cfg.parse(minimal()), tmp_path)
    assert found == [".promoter.yaml: apps.api in environments.prod: path apps/api/prod "
                     "does not exist; create it or fix the paths"]


def test_no_file_is_none(tmp_path: Path) -> None:
    assert cfg.load(tmp_path) is None


@pytest.mark.parametrize(("text", "seconds"), [("10m", 600.0), ("30s", 30.0), ("1h", 3600.0),
                                               ("90", 90.0), (45, 45.0), ("250ms", 0.25)])
def test_durations(text: Any, seconds: float) -> None:
    assert cfg.duration(text, "k") == seconds
