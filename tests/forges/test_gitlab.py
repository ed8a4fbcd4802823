"""The GitLab forge: the real python-gitlab against the fake GitLab (schema-checked)."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.gitlab_server import FakeGitLab
from support.configrepo import example_copy, heads
from support.gitserver import GitServer

from promoter.errors import AuthError, BlockedError, PromoterError, WaitTimeout
from promoter.forges import ForgeSettings, PullRequestSpec
from promoter.forges import gitlab as gl
from promoter.forges.wait import wait_for_merge
from promoter.retry import Backoff, Clock

TOKEN = "glpat-s3cr3t-token-value"
NOW = 1_800_000_000.0
BRANCH = "promoter/staging/api"


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def fake(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> Iterator[FakeGitLab]:
    caplog.set_level(logging.DEBUG)
    with FakeGitLab(token=TOKEN) as server:
        yield server
    assert server.violations == []
    out, err = capsys.readouterr()
    assert TOKEN not in out + err + caplog.text


def connect(fake: FakeGitLab, slept: list[float], **kw: object) -> gl.GitLabForge:
    settings = dict(repo="https://gitlab.example/acme/config.git", slug="acme/config",
                    api_url=fake.url, token=TOKEN)
    settings.update(kw)
    backoff = Backoff(sleep=slept.append, clock=lambda: NOW)
    return gl.connect(ForgeSettings(**settings), backoff)  # type: ignore[arg-type]


def spec(new: str = "1.4.2", **kw: object) -> PullRequestSpec:
    fields = dict(app="api", env="staging", branch=BRANCH, base="main", title="", body="",
                  image=f"ghcr.io/acme/api:{new}",
                  changes=(("apps/api/staging/values.yaml", "1.4.1", new),))
    fields.update(kw)
    return PullRequestSpec(**fields)  # type: ignore[arg-type]


def writes(fake: FakeGitLab) -> list[tuple[str, str]]:
    return [r for r in fake.requests if r[0] != "GET"]


def test_create_opens_one_merge_request(fake: FakeGitLab, slept: list[float]) -> None:
    result = connect(fake, slept).publish(spec(run_url="https://ci.example/p/1"), changed=True)
    assert result.operation == "created"
    assert result.pull_request is not None and result.pull_request.number == 1
    assert result.pull_request.url.endswith("/acme/config/-/merge_requests/1")
    mr = fake.mrs[1]
    assert (mr.source, mr.target, mr.title) == (BRANCH, "main", "Promote api to staging: 1.4.2")
    assert "<!-- promoter:api/staging -->" in mr.description
    assert "| `apps/api/staging/values.yaml` | `1.4.1` | `1.4.2` |" in mr.description


def test_new_tag_updates_the_same_merge_request(fake: FakeGitLab, slept: list[float]) -> None:
    forge = connect(fake, slept)
    forge.publish(spec("1.4.2"), changed=True)
    result = forge.publish(spec("1.4.3"), changed=True)
    assert result.operation == "updated" and list(fake.mrs) == [1]
    assert fake.mrs[1].title.endswith("1.4.3")


def test_same_tag_is_a_no_op(fake: FakeGitLab, slept: list[float]) -> None:
    forge = connect(fake, slept)
    wanted = spec(labels=("promotion",), reviewers=("alice",), assignees=("bob",),
                  auto_merge=True, delete_branch=True)
    forge.publish(wanted, changed=True)
    before = len(writes(fake))
    assert forge.publish(wanted, changed=False).operation == "none"
    assert len(writes(fake)) == before


def test_closed_merge_request_leads_to_a_new_one(fake: FakeGitLab, slept: list[float]) -> None:
    forge = connect(fake, slept)
    forge.publish(spec(), changed=True)
    fake.mrs[1].state = "closed"
    result = forge.publish(spec(), changed=False)
    assert result.operation == "created"
    assert result.pull_request is not None and result.pull_request.number == 2


def test_race_to_create_updates_the_merge_request_another_run_opened(
    fake: FakeGitLab, slept: list[float]
) -> None:
    def other_run(source: str) -> None:  # opens the MR after our find, before our create
        fake.before_create = None
        fake.open_mr(source, title="Promote api to staging: 1.4.1", description="older run")

    fake.before_create = other_run
    result = connect(fake, slept).publish(spec("1.4.2", labels=("promotion",)), changed=False)
    assert result.operation == "updated"
    assert result.pull_request is not None and result.pull_request.number == 1
    assert list(fake.mrs) == [1]
    mr = fake.mrs[1]
    assert mr.title.endswith("1.4.2") and "`1.4.2`" in mr.description
    assert mr.labels == ["promotion"]
    assert writes(fake).count(("POST", "/api/v4/projects/acme/config/merge_requests")) == 1


def test_race_is_retried_once_then_reported(fake: FakeGitLab, slept: list[float]) -> None:
    fake.fail(409, "Another open merge request already exists for this source branch: !7",
              method="POST", path="/merge_requests", times=3)  # yet none is listed
    with pytest.raises(PromoterError, match=f"{BRANCH} already exists.*none is listed") as info:
        connect(fake, slept).publish(spec(), changed=True)
    assert info.value.exit_code == 1
    assert [r for r in writes(fake) if r[0] == "POST"] == [
        ("POST", "/api/v4/projects/acme/config/merge_requests")]
    assert fake.mrs == {} and slept == []


def test_supersede_closes_the_old_branch_merge_request(
    fake: FakeGitLab, slept: list[float]
) -> None:
    old = fake.open_mr("promoter/api-staging", description="<!-- promoter:api/staging -->")
    other = fake.open_mr("promoter/web-staging", description="<!-- promoter:web/staging -->")
    result = connect(fake, slept).publish(spec(), changed=True)
    assert result.pull_request is not None
    assert [p.number for p in result.superseded] == [old.iid]
    assert old.state == "closed" and other.state == "opened"
    assert result.pull_request.url in old.notes[0]


def test_labels_reviewers_assignees_draft_auto_merge(
    fake: FakeGitLab, slept: list[float]
) -> None:
    fake.not_ready = 2  # GitLab is not ready for auto-merge right after creation
    wanted = spec(labels=("promotion", "env::staging"), reviewers=("alice", "@carol"),
                  assignees=("bob",), draft=True, auto_merge=True, merge_method="squash",
                  delete_branch=True)
    result = connect(fake, slept).publish(wanted, changed=True)
    mr = fake.mrs[1]
    assert mr.labels == ["promotion", "env::staging"]
    assert (mr.reviewers, mr.assignees) == ([11, 13], [12])
    assert mr.title.startswith("Draft: ") and mr.auto_merge and mr.squash
    assert mr.remove_source_branch
    assert result.pull_request is not None and result.pull_request.draft
    assert len(slept) == 2
    ready = connect(fake, slept).publish(spec(labels=("promotion",)), changed=False)
    assert ready.operation == "updated" and not mr.title.startswith("Draft")


def test_auto_merge_not_ready_is_bounded(fake: FakeGitLab, slept: list[float]) -> None:
    fake.not_ready = 99
    with pytest.raises(PromoterError, match="405") as info:
        connect(fake, slept).publish(spec(auto_merge=True), changed=True)
    assert info.value.exit_code == 1 and slept == [1.0, 2.0, 4.0, 8.0]


def test_unknown_user_is_an_error(fake: FakeGitLab, slept: list[float]) -> None:
    with pytest.raises(PromoterError, match="user 'zed' not found"):
        connect(fake, slept).publish(spec(reviewers=("zed",)), changed=True)


def test_self_managed_url_from_ci_server_url(fake: FakeGitLab, slept: list[float]) -> None:
    from promoter import remote

    repo = f"{fake.url}/acme/config.git"
    api_url = remote.api_url("gitlab", repo, {"CI_SERVER_URL": fake.url})
    result = connect(fake, slept, repo=repo, api_url=api_url).publish(spec(), changed=True)
    assert result.operation == "created"


# -- waiting for the merge -------------------------------------------------------


def fake_clock(on_sleep: object = None) -> tuple[Clock, list[float]]:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds
        if callable(on_sleep):
            on_sleep(now[0])

    return Clock(now=lambda: now[0], sleep=sleep), now


def test_wait_merge_returns_the_merge_commit(fake: FakeGitLab, slept: list[float]) -> None:
    forge = connect(fake, slept)
    forge.publish(spec(), changed=True)
    clock, _ = fake_clock(lambda t: t >= 30 and fake.merge(1, "ab" * 20))
    pr = wait_for_merge(forge, 1, timeout=600, clock=clock, progress=lambda s: None)
    assert pr.state == "merged" and pr.merge_commit_sha == "ab" * 20


def test_wait_merge_closed_unmerged_exits_4(fake: FakeGitLab, slept: list[float]) -> None:
    forge = connect(fake, slept)
    forge.publish(spec(), changed=True)
    clock, _ = fake_clock(lambda t: setattr(fake.mrs[1], "state", "closed"))
    with pytest.raises(BlockedError) as info:
        wait_for_merge(forge, 1, timeout=600, clock=clock, progress=lambda s: None)
    assert info.value.exit_code == 4


def test_wait_merge_times_out_with_exit_5(fake: FakeGitLab, slept: list[float]) -> None:
    forge = connect(fake, slept)
    forge.publish(spec(), changed=True)
    clock, now = fake_clock()
    with pytest.raises(WaitTimeout) as info:
        wait_for_merge(forge, 1, timeout=45, clock=clock, progress=lambda s: None)
    assert info.value.exit_code == 5 and now[0] == 45


# -- errors and retries ----------------------------------------------------------


def test_bad_token_is_exit_3_without_the_token(fake: FakeGitLab, slept: list[float]) -> None:
    with pytest.raises(AuthError, match="401") as info:
        connect(fake, slept, token="glpat-wrong-" + TOKEN).publish(spec(), changed=True)
    assert info.value.exit_code == 3 and TOKEN not in str(info.value)


def test_job_token_cannot_create_merge_requests(fake: FakeGitLab, slept: list[float]) -> None:
    from promoter import credentials

    environ = {"CI_JOB_TOKEN": "job-" + TOKEN}
    found = credentials.from_env(environ, "gitlab")
    assert found is not None
    settings = {"token": found.token, "job_token": credentials.job_token(environ)}
    with pytest.raises(AuthError, match="CI_JOB_TOKEN cannot create") as info:
        connect(fake, slept, **settings).publish(spec(), changed=True)
    assert info.value.exit_code == 3 and TOKEN not in str(info.value)


def test_forbidden_names_the_role_and_scope(fake: FakeGitLab, slept: list[float]) -> None:
    fake.fail(403, "403 Forbidden", method="POST")
    with pytest.raises(AuthError, match="api scope and the Developer role") as info:
        connect(fake, slept).publish(spec(), changed=True)
    assert info.value.exit_code == 3


def test_missing_project_names_the_slug(fake: FakeGitLab, slept: list[float]) -> None:
    with pytest.raises(AuthError, match="project acme/nope not found") as info:
        connect(fake, slept, slug="acme/nope").publish(spec(), changed=True)
    assert info.value.exit_code == 3


def test_server_errors_are_retried_with_backoff(fake: FakeGitLab, slept: list[float]) -> None:
    fake.fail(500, "500 Internal Server Error", times=2, method="POST")
    assert connect(fake, slept).publish(spec(), changed=True).operation == "created"
    assert slept == [1.0, 2.0] and list(fake.mrs) == [1]


def test_429_honours_retry_after(fake: FakeGitLab, slept: list[float]) -> None:
    fake.fail(429, "Retry later", headers={"Retry-After": "9"}, method="GET")
    connect(fake, slept).publish(spec(), changed=True)
    assert slept == [9.0]


def test_rate_limit_reset_is_honoured(fake: FakeGitLab, slept: list[float]) -> None:
    reset = {"RateLimit-Remaining": "0", "RateLimit-Reset": str(int(NOW) + 12)}
    fake.fail(429, "Retry later", headers=reset, method="POST")
    connect(fake, slept).publish(spec(), changed=True)
    assert slept == [12.0]


def test_retries_are_bounded_then_exit_1(fake: FakeGitLab, slept: list[float]) -> None:
    fake.fail(503, "Service Unavailable", times=99)
    with pytest.raises(PromoterError, match="after 5 attempt") as info:
        connect(fake, slept).publish(spec(), changed=True)
    assert type(info.value) is PromoterError and info.value.exit_code == 1


def test_fake_rejects_requests_gitlab_does_not_know(
    fake: FakeGitLab, slept: list[float]
) -> None:
    """The guard itself: an unknown parameter in a request is a violation."""
    forge = connect(fake, slept)
    forge.gl.http_post("/projects/acme%2Fconfig/merge_requests",
                       post_data={"source_branch": "b", "target_branch": "main",
                                  "title": "t", "colour": "red"})
    assert any("colour" in v for v in fake.violations)
    fake.violations.clear()


# -- end to end: `promoter promote` against the fake GitLab and a real git server ----


def run_promote(git_url: str, api_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROMOTER_TOKEN": TOKEN}
    return subprocess.run(
        [sys.executable, "-m", "promoter", "promote", "--repo", git_url, "--forge", "gitlab",
         "--api-url", api_url, "--app", "api", "--env", "staging", "--output", "json", *extra],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )


def test_promote_end_to_end(fake: FakeGitLab, tmp_path: Path) -> None:
    with GitServer(tmp_path / "srv", "oauth2", TOKEN) as server:
        bare = server.create("acme/config", example_copy(tmp_path / "tree"))
        fake.head_sha = lambda ref: heads(bare).get(ref, "0" * 40)
        url = server.url("acme/config")
        first = run_promote(url, fake.url, "--image", "ghcr.io/acme/api:1.5.0",
                            "--reviewer", "alice", "--delete-branch")
        fake.merge_on_auto_merge = "7" * 40
        merged = run_promote(url, fake.url, "--image", "ghcr.io/acme/api:1.5.1",
                             "--reviewer", "alice", "--delete-branch", "--auto-merge",
                             "--wait-merge")
    for done in (first, merged):
        assert done.returncode == 0, done.stderr
        assert TOKEN not in done.stdout + done.stderr
    record = json.loads(first.stdout)
    assert record["pull_request"]["operation"] == "created"
    assert record["pull_request"]["url"].endswith("/acme/config/-/merge_requests/1")
    mr = fake.mrs[1]
    assert mr.reviewers == [11] and mr.remove_source_branch and mr.auto_merge
    assert json.loads(merged.stdout)["merge"] == {"state": "merged", "commit_sha": "7" * 40}
    assert list(fake.mrs) == [1]


def test_promote_closed_while_waiting_exits_4(fake: FakeGitLab, tmp_path: Path) -> None:
    with GitServer(tmp_path / "srv", "oauth2", TOKEN) as server:
        server.create("acme/config", example_copy(tmp_path / "tree"))
        fake.close_on_create = True
        done = run_promote(server.url("acme/config"), fake.url,
                           "--image", "ghcr.io/acme/api:1.5.0", "--wait-merge")
    assert done.returncode == 4, done.stderr
    assert json.loads(done.stdout)["merge"]["state"] == "closed"
    assert "closed without merging" in done.stderr


def test_unreachable_server_is_retried_then_exit_1(slept: list[float]) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    settings = ForgeSettings(repo="x", slug="acme/config", api_url=url, token=TOKEN)
    forge = gl.connect(settings, Backoff(sleep=slept.append, clock=lambda: NOW))
    with pytest.raises(PromoterError, match="cannot reach") as info:
        forge.publish(spec(), changed=True)
    assert info.value.exit_code == 1 and len(slept) == 4 and TOKEN not in str(info.value)
