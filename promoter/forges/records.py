"""Records a promotion leaves on the forge: the commit status ``promoter/<env>``
on the config commit, and a deployment per app x environment.

    status on the config commit   success | failure   (read back by the gate)
    deployment                    in_progress at the promotion,
                                  success | failure after verification,
                                  inactive for the one it superseded

One small protocol (``Records``), one adapter per forge, one registry. The
adapters use the forge's own client (PyGithub, python-gitlab) through the
connected forge object; they import no SDK themselves.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Protocol

from promoter.errors import InputError

RECORDS = {
    "github": "promoter.forges.github_records",
    "gitlab": "promoter.forges.gitlab_records",
}


def context(env: str) -> str:
    """The commit status name promoter writes and the gate reads."""
    return f"promoter/{env}"


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment record: ``app`` into ``env`` with ``image`` at config ``ref``."""

    app: str
    env: str
    ref: str  # the config repository commit that holds the image
    image: str
    source_commit: str | None = None
    environment_url: str | None = None
    log_url: str | None = None  # the CI run
    branch: str | None = None  # the config repository's branch holding ``ref``


@dataclass(frozen=True)
class Recorded:
    """What was recorded: the deployment's id and the one made inactive."""

    deployment: str
    state: str
    superseded: str | None = None


class Records(Protocol):
    def status(self, sha: str, env: str) -> str | None:
        """The state of the latest ``promoter/<env>`` status on ``sha``, or None."""
        ...

    def set_status(self, sha: str, env: str, state: str, description: str,
                   url: str | None) -> None:
        """Write ``promoter/<env>`` = ``state`` (success | failure | pending) on ``sha``."""
        ...

    def start(self, spec: DeploymentSpec) -> str:
        """Create the deployment with the state ``in_progress``; its id."""
        ...

    def finish(self, deployment: str, spec: DeploymentSpec, state: str) -> Recorded:
        """Set ``state`` (success | failure); on success the previous deployment of
        the same app and environment becomes inactive."""
        ...

    def last(self, app: str, env: str, image: str) -> dict[str, Any] | None:
        """The newest deployment of ``app`` (whose image repository is ``image``)
        in ``env`` promoter recorded (id, state, image, commit), or None."""
        ...


def connect(forge_name: str, forge: Any, what: str) -> Records:
    """The records adapter of a connected forge; --forge local keeps none."""
    if forge_name not in RECORDS:
        raise InputError(f"{what} needs commit statuses, which --forge {forge_name} does"
                         " not keep; use --forge github or --forge gitlab")
    module = importlib.import_module(RECORDS[forge_name])
    records: Records = module.records(forge)
    return records
