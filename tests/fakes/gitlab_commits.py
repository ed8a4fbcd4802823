"""The fake GitLab's Commits API, on the real bare repository behind the test's
git server: "Create a commit with multiple files and actions", "Get a single
commit", "Get the signature of a commit" and "Delete a repository branch".

The request body is checked against ``REQUESTS`` (written from GitLab's API
docs, ``additionalProperties: false``); the created commit is answered as
GitLab's own ``public_api/v4/commit/detail.json``; the signature against
``SIGNATURE`` (the documented response fields; GitLab ships no schema for it).
The branch rules follow GitLab's ``Commits::CreateService``: ``start_sha`` and
``start_branch`` exclude each other, and a commit that starts elsewhere than
``branch`` may not land on an existing ``branch`` unless ``force`` is true.

GitLab signs the commits it creates with the instance's key where signing is
configured; the fake does not sign, it keeps ``signs`` (the instance signs or
not) and answers the signature endpoint from that, as GitLab would.
"""

from __future__ import annotations

import base64
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fakes.bare import exists, git, head
from fakes.gitlab_schema import FLAG, TEXT, request_schemas

WHEN = "2026-01-02T00:00:00.000+00:00"
COMMITTER = ("GitLab", "noreply@gitlab.com")  # the committer an instance that signs sets
ACTION = {"type": "object", "additionalProperties": False, "required": ["action", "file_path"],
          "properties": {
              "action": {"enum": ["create", "delete", "move", "update", "chmod"]},
              "file_path": TEXT, "previous_path": TEXT, "content": TEXT,
              "encoding": {"enum": ["text", "base64"]}, "last_commit_id": TEXT,
              "execute_filemode": FLAG}}
REQUESTS = request_schemas({
    "commit": {"required": ["branch", "commit_message", "actions"], "properties": {
        "branch": TEXT, "commit_message": TEXT, "start_branch": TEXT, "start_sha": TEXT,
        "start_project": {"type": ["integer", "string"]},
        "actions": {"type": "array", "minItems": 1, "items": ACTION},
        "author_email": TEXT, "author_name": TEXT, "stats": FLAG, "force": FLAG}},
    "get": {"properties": {"stats": TEXT}},
})
SIGNATURE = {"type": "object", "required": ["signature_type", "verification_status",
                                            "commit_source"], "properties": {
    "signature_type": {"enum": ["PGP", "X509", "SSH"]},
    "verification_status": {"enum": [
        "unverified", "unverified_key", "verified", "same_user_different_email", "other_user",
        "unknown_key", "multiple_signatures", "revoked_key", "verified_system", "verified_ca"]},
    "commit_source": {"enum": ["gitaly", "ui"]}}}
Answer = tuple[int, Any, dict[str, Any]]


class CommitError(Exception):
    """A 400 GitLab answers with this message."""


def _git(bare: Path, *args: str, stdin: bytes | None = None,
         env: dict[str, str] | None = None) -> str:
    return git(bare, *args, error=CommitError, stdin=stdin, env=env)


class Commits:
    """``route`` answers (status, body, schema) for the commit and branch paths."""

    def __init__(self, check: Callable[[str, Any, dict[str, Any]], None],
                 user: dict[str, Any], web: Callable[[], str]) -> None:
        self.check, self.user, self.web = check, user, web
        self.git_dir: Path | None = None
        self.signs = True  # the instance signs the commits it creates
        self.made: list[dict[str, Any]] = []  # every commit created through the API
        self.deleted: list[str] = []  # branches deleted through the API
        self.signed: set[str] = set()
        # runs as a commit request arrives, with the branch it names (a test's race)
        self.before_commit: Callable[[str], None] | None = None

    def route(self, rest: str, method: str, args: dict[str, str],
              data: dict[str, Any]) -> Answer | None:
        if (m := re.fullmatch(r"/repository/commits/([0-9a-f]{40})", rest)) and method == "GET":
            self.check("commit query", args, REQUESTS["get"])
            return self._get(m.group(1))
        if rest == "/repository/commits" and method == "POST":
            self.check("commit body", data, REQUESTS["commit"])
            try:
                return 201, self._create(data), {"$ref": "commit/detail.json"}
            except CommitError as exc:
                return 400, {"message": str(exc)}, {}
        if (m := re.fullmatch(r"/repository/commits/([0-9a-f]{40})/signature", rest)) \
                and method == "GET":
            if m.group(1) not in self.signed:
                return 404, {"message": "404 Signature Not Found"}, {}
            return 200, {"signature_type": "SSH", "verification_status": "verified_system",
                         "commit_source": "gitaly"}, SIGNATURE
        if (m := re.fullmatch(r"/repository/branches/(.+)", rest)) and method == "DELETE":
            bare = self._bare()
            if head(bare, m.group(1)) is None:
                return 404, {"message": "404 Branch Not Found"}, {}
            _git(bare, "update-ref", "-d", f"refs/heads/{m.group(1)}")
            self.deleted.append(m.group(1))
            return 204, None, {}
        return None

    def _get(self, sha: str) -> Answer:
        bare = self._bare()
        if not exists(bare, f"{sha}^{{commit}}"):
            return 404, {"message": "404 Commit Not Found"}, {}
        return 200, self._detail(bare, sha), {"$ref": "commit/detail.json"}

    def _bare(self) -> Path:
        if self.git_dir is None:
            raise CommitError("this fake has no git repository (set git_dir)")
        return self.git_dir

    def _create(self, data: dict[str, Any]) -> dict[str, Any]:
        if self.before_commit:
            self.before_commit(data["branch"])
        bare, branch = self._bare(), data["branch"]
        start_sha, start_branch = data.get("start_sha"), data.get("start_branch")
        if start_sha and start_branch:
            raise CommitError("You can't pass both start_branch and start_sha")
        current = head(bare, branch)
        elsewhere = bool(start_sha) or (start_branch not in (None, branch))
        if elsewhere and current is not None and not data.get("force"):
            raise CommitError(f"A branch called '{branch}' already exists. Switch to that"
                              " branch in order to make changes")
        parent = start_sha or (head(bare, start_branch) if start_branch else current)
        if parent is None or not exists(bare, f"{parent}^{{commit}}"):
            raise CommitError(f"Cannot find start_sha '{start_sha}'" if start_sha else
                              "You can only create or edit files when you are on a branch")
        sha = self._commit(bare, parent, data)
        _git(bare, "update-ref", f"refs/heads/{branch}", sha, current or "")
        if self.signs:
            self.signed.add(sha)
        self.made.append({"branch": branch, "id": sha, "parent": parent, "data": data})
        return self._detail(bare, sha)

    def _commit(self, bare: Path, parent: str, data: dict[str, Any]) -> str:
        """``parent``'s tree with the actions applied, committed as GitLab does."""
        author = (data.get("author_name") or self.user["name"],
                  data.get("author_email") or f"{self.user['username']}@example.test")
        committer = COMMITTER if self.signs else author
        with tempfile.TemporaryDirectory() as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index"),
                   "GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1],
                   "GIT_COMMITTER_NAME": committer[0], "GIT_COMMITTER_EMAIL": committer[1]}
            _git(bare, "read-tree", parent, env=env)
            for action in data["actions"]:
                self._apply(bare, parent, action, env)
            tree = _git(bare, "write-tree", env=env)
            return _git(bare, "commit-tree", tree, "-p", parent,
                       stdin=data["commit_message"].encode(), env=env)

    @staticmethod
    def _apply(bare: Path, parent: str, action: dict[str, Any], env: dict[str, str]) -> None:
        path, kind = action["file_path"], action["action"]
        present = exists(bare, f"{parent}:{path}")
        if kind == "create" and present:
            raise CommitError("A file with this name already exists")
        if kind in ("update", "delete") and not present:
            raise CommitError("A file with this name doesn't exist")
        if kind == "delete":
            _git(bare, "update-index", "--remove", "--force-remove", path, env=env)
            return
        if kind not in ("create", "update"):
            raise CommitError(f"the fake does not implement the action {kind}")
        content = action.get("content", "")
        raw = (base64.b64decode(content) if action.get("encoding") == "base64"
               else content.encode())
        blob = _git(bare, "hash-object", "-w", "--stdin", stdin=raw)
        _git(bare, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)

    def _detail(self, bare: Path, sha: str) -> dict[str, Any]:
        fields = _git(bare, "log", "-1", "--format=%an%x00%ae%x00%cn%x00%ce%x00%s%x00%P%x00%B",
                     sha)
        author, email, committer, committer_email, title, parents, text = fields.split("\0")
        return {
            "id": sha, "short_id": sha[:8], "title": title, "created_at": WHEN,
            "parent_ids": parents.split(), "message": text,
            "author_name": author, "author_email": email, "authored_date": WHEN,
            "committer_name": committer, "committer_email": committer_email,
            "committed_date": WHEN, "web_url": f"{self.web()}/-/commit/{sha}",
            "stats": {"additions": 1, "deletions": 1, "total": 2}, "status": None,
        }
