"""The git token goes only to --repo's origin, also when the git server
redirects: git follows the redirect of its first request and then sends every
later request of that command straight to the new URL, so a token configured
for every request (``http.extraHeader``) would reach the other origin. Real
git against ``git http-backend``; the other origin is an open server that
records who each request claimed to be."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.configrepo import example_copy, heads
from support.gitserver import GitServer
from support.hostile import HostileServer, redirect

from promoter.errors import InputError
from promoter.promote import Request, promote

SENTINEL = "SENTINEL-origin-5c1e"
USER = "x-access-token"
IMAGE = "ghcr.io/acme/api:1.5.0"
ENV = {"PROMOTER_TOKEN": SENTINEL}


@pytest.mark.parametrize("direct", [False, True])
def test_no_request_to_the_origin_git_was_redirected_to_carries_the_token(
    tmp_path: Path, direct: bool
) -> None:
    with GitServer(tmp_path / "open") as elsewhere, HostileServer() as front:
        elsewhere.create("config", example_copy(tmp_path / "tree"))
        front.reply = redirect(elsewhere.base_url, 301)
        with pytest.raises(InputError, match="another origin") as caught:
            promote(Request(repo=front.url + "/config.git", app="api", env="staging",
                            image=IMAGE, direct=direct), ENV)
    assert SENTINEL not in caught.value.message
    assert elsewhere.requests, "git never reached the other origin: the test proves nothing"
    assert [r for r in elsewhere.requests if r.user is not None] == []
    assert list(heads(elsewhere.path("config"))) == ["main"]


def test_a_repository_moved_on_the_same_origin_is_still_promoted_with_the_token(
    tmp_path: Path,
) -> None:
    with GitServer(tmp_path / "srv", USER, SENTINEL) as server:
        server.create("config", example_copy(tmp_path / "tree"))
        server.moved["old.git"] = "config.git"
        result = promote(Request(repo=server.url("old"), app="api", env="staging",
                                 image=IMAGE, direct=True), ENV)
        assert any(r.path.startswith("/old.git/") for r in server.requests)
        assert heads(server.path("config"))["main"] == result.commit
        pushes = [r for r in server.requests if r.service == "git-receive-pack"
                  and r.method == "POST"]
        assert pushes and all(r.authorized for r in pushes)
