"""The fake GitHub's ``createCommitOnBranch`` and ``updateRefs`` mutations,
carried out on the real bare repository behind the test's git server.

The documents are validated and executed against GitHub's GraphQL schema by
``run_graphql``; these resolvers build the commit with git plumbing (the parent
is ``expectedHeadOid``; the ref moves only if it still points there, as on
GitHub) and record it in ``commits``. GitHub signs such commits with its own
key; the fake does not sign, it records ``signed_by_github`` instead.
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fakes.bare import git, head
from fakes.github_schema import FakeGraphQLError

ZERO = "0" * 40


def _git(bare: Path, *args: str, stdin: bytes | None = None,
         env: dict[str, str] | None = None) -> str:
    return git(bare, *args, error=FakeGraphQLError, stdin=stdin, env=env)


def mutations(bare: Callable[[], Path | None], repo_id: str, slug: str,
              commits: list[dict[str, Any]], hook: Callable[[str], None]) -> dict[str, Any]:
    """The resolvers; ``hook(name)`` runs first (a test's race, e.g. another push)."""
    def create_commit(info: Any, input: dict[str, Any]) -> Any:
        hook("createCommitOnBranch")
        where = _bare(bare)
        branch = input["branch"]
        if branch.get("repositoryNameWithOwner") != slug or not branch.get("branchName"):
            raise FakeGraphQLError("Could not resolve to a Repository or branch")
        name, expected = branch["branchName"], input["expectedHeadOid"]
        current = head(where, name)
        if current is None:
            raise FakeGraphQLError(f"A ref named \"refs/heads/{name}\" does not exist")
        if current != expected:
            raise FakeGraphQLError(f"Expected branch to point to \"{expected}\" but it did"
                                   f" not. Pull and try again.")
        sha = _commit(where, expected, input)
        _git(where, "update-ref", f"refs/heads/{name}", sha, expected)
        commits.append({"branch": name, "oid": sha, "parent": expected,
                        "message": input["message"], "fileChanges": input.get("fileChanges"),
                        "signed_by_github": True})
        return {"commit": {"oid": sha, "url": f"https://github.test/{slug}/commit/{sha}"}}

    def update_refs(info: Any, input: dict[str, Any]) -> Any:
        hook("updateRefs")
        where = _bare(bare)
        if input["repositoryId"] != repo_id:
            raise FakeGraphQLError("Could not resolve to a node with the global id")
        for update in input["refUpdates"]:  # atomically: check every one first
            before = update.get("beforeOid")
            now = head(where, update["name"].removeprefix("refs/heads/")) or ZERO
            if before is not None and before != now:
                raise FakeGraphQLError(f"Ref {update['name']} is at {now}, not {before}")
        for update in input["refUpdates"]:
            _git(where, "update-ref", update["name"], update["afterOid"],
                 update.get("beforeOid") or "")
        return {"clientMutationId": input.get("clientMutationId")}

    return {"createCommitOnBranch": create_commit, "updateRefs": update_refs}


def _bare(bare: Callable[[], Path | None]) -> Path:
    where = bare()
    if where is None:
        raise FakeGraphQLError("this fake has no git repository (set git_dir)")
    return where


def _commit(bare: Path, parent: str, input: dict[str, Any]) -> str:
    """The new commit: ``parent``'s tree with the file changes applied."""
    changes = input.get("fileChanges") or {}
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index"),
               "GIT_AUTHOR_NAME": "promoter[bot]", "GIT_AUTHOR_EMAIL": "bot@users.noreply.test",
               "GIT_COMMITTER_NAME": "GitHub", "GIT_COMMITTER_EMAIL": "noreply@github.com"}
        _git(bare, "read-tree", parent, env=env)
        for addition in changes.get("additions") or []:
            blob = _git(bare, "hash-object", "-w", "--stdin",
                        stdin=base64.b64decode(addition["contents"]))
            _git(bare, "update-index", "--add", "--cacheinfo",
                 f"100644,{blob},{addition['path']}", env=env)
        for deletion in changes.get("deletions") or []:
            _git(bare, "update-index", "--remove", "--force-remove", deletion["path"], env=env)
        tree = _git(bare, "write-tree", env=env)
        message = input["message"]["headline"]
        if input["message"].get("body"):
            message += "\n\n" + input["message"]["body"]
        return _git(bare, "commit-tree", tree, "-p", parent, stdin=message.encode(), env=env)
