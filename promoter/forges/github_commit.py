"""``--sign github``: GitHub makes (and signs) the promotion commit.

Part of the GitHub adapter (no SDK import; the connected ``GitHubForge``'s
requester and ``_call``). Two GraphQL mutations:

- ``updateRefs`` moves ``refs/heads/<branch>`` from the expected sha (the lease;
  ``0000...`` for "must not exist") to the base head, atomically;
- ``createCommitOnBranch`` appends the commit to the branch, only if its head
  is still ``expectedHeadOid``.

With a GitHub App installation token GitHub signs the commit and shows it
Verified. The author is the token's user or App (the mutation has no author):
``--author`` and ``--committer`` are refused (promoter.forge_commit.check).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from promoter.forges.github import GitHubForge

ZERO = "0" * 40
CREATE = ("mutation($input: CreateCommitOnBranchInput!) {"
          " createCommitOnBranch(input: $input) { commit { oid } } }")
UPDATE_REFS = ("mutation($input: UpdateRefsInput!) {"
               " updateRefs(input: $input) { clientMutationId } }")


def _graphql(forge: GitHubForge, what: str, query: str, variables: dict[str, Any]) -> Any:
    assert forge.gh is not None
    requester = forge.gh.requester
    return forge._call(what, "contents: write",
                       lambda: requester.graphql_query(query, variables)[1])


def move_branch(forge: GitHubForge, branch: str, before: str | None, after: str) -> None:
    """Point ``branch`` at ``after`` if it is at ``before`` (None: must not exist)."""
    repo_id = forge._repo().node_id
    _graphql(forge, f"moving branch {branch} to {after[:12]}", UPDATE_REFS, {"input": {
        "repositoryId": repo_id, "refUpdates": [{
            "name": f"refs/heads/{branch}", "beforeOid": before or ZERO, "afterOid": after,
            "force": True}]}})


def create_commit(forge: GitHubForge, branch: str, expected: str, files: Mapping[str, bytes],
                  message: str) -> str:
    """The sha of the commit GitHub appended to ``branch`` (at ``expected``)."""
    headline, _, body = message.strip().partition("\n")
    data = _graphql(forge, f"creating the promotion commit on {branch}", CREATE, {"input": {
        "branch": {"repositoryNameWithOwner": forge.slug, "branchName": branch},
        "expectedHeadOid": expected,
        "message": {"headline": headline.strip(), "body": body.strip()},
        "fileChanges": {"additions": [
            {"path": path, "contents": base64.b64encode(content).decode()}
            for path, content in sorted(files.items())]},
    }})
    return str(data["data"]["createCommitOnBranch"]["commit"]["oid"])
