""".github/dependabot.yml: the update automation that moves the pins (the
Dockerfile's base, the SHA-pinned actions) by pull requests. It validates
against the dependabot schema that check-jsonschema vendors (SchemaStore's
dependabot-2.0.json, offline), zizmor reports nothing, it covers every file
that holds a pin, and one action is never pinned at two commits."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from ci_support import ROOT
from test_ci_schemas import check_jsonschema
from test_workflows import PINNED, WORKFLOWS, example_workflows, load, uses_lines, zizmor

DEPENDABOT = ROOT / ".github" / "dependabot.yml"


def test_dependabot_config_validates_against_the_vendored_schema() -> None:
    done = check_jsonschema("dependabot", DEPENDABOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_refuses_a_broken_config(tmp_path: Path) -> None:
    """An unknown ecosystem and a missing schedule fail: the check can fail."""
    bad = tmp_path / "dependabot.yml"
    bad.write_text("version: 2\nupdates:\n  - package-ecosystem: dockerfile\n"
                   "    directory: /\n")
    done = check_jsonschema("dependabot", bad)
    assert done.returncode != 0
    assert "dockerfile" in done.stdout + done.stderr


def test_zizmor_reports_nothing_on_the_dependabot_config() -> None:
    done = zizmor(DEPENDABOT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert json.loads(done.stdout) == []


def test_dependabot_covers_the_dockerfile_and_every_file_with_pinned_actions() -> None:
    updates = {u["package-ecosystem"]: u for u in load(DEPENDABOT)["updates"]}
    assert set(updates) == {"docker", "github-actions"}
    assert updates["docker"]["directory"] == "/" and (ROOT / "Dockerfile").is_file()
    # "/" is .github/workflows and the root action.yml; any other directory holding
    # a pinned workflow must be named
    directories = set(updates["github-actions"]["directories"])
    holders = {f"/{p.parent.relative_to(ROOT)}" for p in example_workflows()}
    assert directories == {"/"} | holders, directories
    for update in updates.values():
        assert update["cooldown"]["default-days"] >= 7


def test_each_action_is_pinned_at_one_commit_everywhere() -> None:
    """A Dependabot bump (or a hand edit) that misses a file fails here."""
    commits: dict[str, set[str]] = defaultdict(set)
    for path in [*WORKFLOWS, ROOT / "action.yml", *example_workflows()]:
        for line in uses_lines(path):
            match = PINNED.match(line)
            if match:
                commits[match.group(1)].add(line.split("@", 1)[1].strip())
    assert {"actions/checkout", "actions/setup-python", "actions/cache"} <= set(commits)
    twice = {action: sorted(found) for action, found in commits.items() if len(found) > 1}
    assert not twice, twice
