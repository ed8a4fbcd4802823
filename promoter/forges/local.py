"""The local forge: no server. promoter has already pushed the branch to the
remote (any git remote, a local bare repository included); the "pull request"
is that branch, reported with its diff. There is nothing to open or wait for."""

from __future__ import annotations

from dataclasses import dataclass

from promoter.errors import InputError
from promoter.forges import ForgeResult, ForgeSettings, PullRequest, PullRequestSpec


@dataclass(frozen=True)
class LocalForge:
    settings: ForgeSettings

    def publish(self, spec: PullRequestSpec, changed: bool) -> ForgeResult:
        return ForgeResult(pull_request=None, operation="created" if changed else "none")

    def close(self, branch: str, note: str) -> PullRequest | None:
        return None  # no pull request: deleting the branch is all there is

    def get(self, number: int) -> PullRequest:
        raise InputError(
            f"the local forge has no pull request #{number}; merge branch promoter/... by hand"
            " or use --forge github|gitlab"
        )


def connect(settings: ForgeSettings) -> LocalForge:
    return LocalForge(settings)
