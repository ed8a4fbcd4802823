"""One world per forge for pipeline tests: a real git server (http-backend) and
the fake GitHub or GitLab beside it, sharing the branch heads; ``promote`` runs
in process with the real SDK."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakes.github_server import FakeGitHub
from fakes.gitlab_server import FakeGitLab
from support.configrepo import example_copy, heads
from support.gitserver import GitServer

from promoter.promote import Request, promote
from promoter.promotion import Promotion

TOKEN = "tok_s3cr3t_value_0042"
GIT_USER = {"github": "x-access-token", "gitlab": "oauth2"}


@dataclass
class World:
    forge: str
    server: GitServer
    fake: Any  # FakeGitHub | FakeGitLab
    bare: Path

    @property
    def url(self) -> str:
        return self.server.url("acme/config")

    @property
    def api_url(self) -> str:
        return str(self.fake.api_url if self.forge == "github" else self.fake.url)

    def request(self, image: str = "ghcr.io/acme/api:1.5.0", **kw: Any) -> Request:
        fields: dict[str, Any] = dict(repo=self.url, app="api", env="staging", image=image,
                                      forge=self.forge, api_url=self.api_url)
        fields.update(kw)
        return Request(**fields)

    def promote(self, image: str = "ghcr.io/acme/api:1.5.0", **kw: Any) -> Promotion:
        return promote(self.request(image, **kw), {"PROMOTER_TOKEN": TOKEN})

    def pulls(self) -> dict[int, Any]:
        """number -> the fake's pull/merge request (title, state, comments/notes)."""
        return dict(self.fake.pulls if self.forge == "github" else self.fake.mrs)

    def state(self, number: int) -> str:
        pull = self.pulls()[number]
        return {"opened": "open"}.get(pull.state, pull.state)

    def comments(self, number: int) -> list[str]:
        pull = self.pulls()[number]
        return list(pull.comments if self.forge == "github" else pull.notes)

    def open_foreign(self, head: str, body: str, author: str = "promoter") -> int:
        if self.forge == "github":
            return int(self.fake.open_pull(head, body=body, author=author).number)
        return int(self.fake.open_mr(head, description=body, author=author).iid)

    @property
    def requests(self) -> list[tuple[str, str]]:
        return list(self.fake.requests)


@contextmanager
def world(forge: str, tmp_path: Path) -> Iterator[World]:
    fake: Any = FakeGitHub(token=TOKEN, prefix="/api/v3") if forge == "github" \
        else FakeGitLab(token=TOKEN)
    with GitServer(tmp_path / "srv", GIT_USER[forge], TOKEN) as server, fake:
        bare = server.create("acme/config", example_copy(tmp_path / "tree"))
        missing = None if forge == "github" else "0" * 40  # GitLab's sha is never null
        fake.head_sha = lambda ref: heads(bare).get(ref, missing)
        yield World(forge, server, fake, bare)
    assert fake.violations == []
