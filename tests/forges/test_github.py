"""The GitHub forge: the real PyGithub against the fake GitHub (schema-checked)."""

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
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fakes.github_server import FakeGitHub
from support.configrepo import example_copy, heads
from support.gitserver import GitServer

from promoter.errors import AuthError, AutoMergeRefused, BlockedError, PromoterError, WaitTimeout
from promoter.forges import ForgeSettings, PullRequestSpec
from promoter.forges import github as gh
from promoter.forges.wait import wait_for_merge
from promoter.retry import Backoff, Clock

TOKEN = "ghp_s3cr3t_token_value"
NOW = 1_800_000_000.0
BRANCH = "promoter/staging/api"


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def fake(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> Iterator[FakeGitHub]:
    caplog.set_level(logging.DEBUG)
    with FakeGitHub(token=TOKEN, prefix="/api/v3") as server:
        yield server
    assert server.violations == []
    out, err = capsys.readouterr()
    assert TOKEN not in out + err + caplog.text


def connect(fake: FakeGitHub, slept: list[float], **kw: object) -> gh.GitHubForge:
    settings = dict(repo="https://ghe.example/acme/config", slug="acme/config",
                    api_url=fake.api_url, token=TOKEN)
    settings.update(kw)
    backoff = Backoff(sleep=slept.append, clock=lambda: NOW)
    return gh.connect(ForgeSettings(**settings), backoff)  # type: ignore[arg-type]


def spec(new: str = "1.4.2", **kw: object) -> PullRequestSpec:
    fields = dict(app="api", env="staging", branch=BRANCH, base="main", title="", body="",
                  image=f"ghcr.io/acme/api:{new}",
                  changes=(("apps/api/staging/kustomization.yaml", "1.4.1", new),))
    fields.update(kw)
    return PullRequestSpec(**fields)  # type: ignore[arg-type]


def writes(fake: FakeGitHub) -> list[tuple[str, str]]:
    return [r for r in fake.requests if r[0] != "GET"]


def test_create_opens_one_pull_request_with_marker_and_table(
    fake: FakeGitHub, slept: list[float]
) -> None:
    result = connect(fake, slept).publish(
        spec(source_commit="abc123def4567890", run_url="https://ci.example/run/9"), changed=True
    )
    assert result.operation == "created"
    assert result.pull_request is not None
    assert result.pull_request.number == 1 and result.pull_request.state == "open"
    assert result.pull_request.url.endswith("/acme/config/pull/1")
    pull = fake.pulls[1]
    assert (pull.head, pull.base, pull.title) == (BRANCH, "main", "Promote api to staging: 1.4.2")
    assert "<!-- promoter:api/staging -->" in pull.body
    assert "| `apps/api/staging/kustomization.yaml` | `1.4.1` | `1.4.2` |" in pull.body
    assert "`abc123def456`" in pull.body and "https://ci.example/run/9" in pull.body


def test_new_tag_updates_the_same_pull_request(fake: FakeGitHub, slept: list[float]) -> None:
    forge = connect(fake, slept)
    forge.publish(spec("1.4.2"), changed=True)
    result = forge.publish(spec("1.4.3"), changed=True)
    assert result.operation == "updated"
    assert list(fake.pulls) == [1]
    assert fake.pulls[1].title.endswith("1.4.3") and "`1.4.3`" in fake.pulls[1].body


def test_same_tag_is_a_no_op(fake: FakeGitHub, slept: list[float]) -> None:
    forge = connect(fake, slept, token=TOKEN)
    forge.publish(spec(labels=("promotion",), reviewers=("alice",), assignees=("bob",)), True)
    before = len(writes(fake))
    result = forge.publish(spec(labels=("promotion",), reviewers=("alice",),
                                assignees=("bob",)), changed=False)
    assert result.operation == "none"
    assert len(writes(fake)) == before


def test_reviewers_are_asked_again_only_when_the_pull_request_changes(
    fake: FakeGitHub, slept: list[float]
) -> None:
    forge = connect(fake, slept)
    forge.publish(spec("1.4.2", reviewers=("alice",)), changed=True)
    fake.pulls[1].reviewers.clear()  # alice reviewed: GitHub drops her from the requests
    assert forge.publish(spec("1.4.2", reviewers=("alice",)), False).operation == "none"
    assert fake.pulls[1].reviewers == []
    assert forge.publish(spec("1.4.3", reviewers=("alice",)), True).operation == "updated"
    assert fake.pulls[1].reviewers == ["alice"]


def test_closed_pull_request_leads_to_a_new_one(fake: FakeGitHub, slept: list[float]) -> None:
    forge = connect(fake, slept)
    forge.publish(spec(), changed=True)
    fake.pulls[1].state = "closed"
    result = forge.publish(spec(), changed=False)
    assert result.operation == "created"
    assert result.pull_request is not None and result.pull_request.number == 2


def test_race_to_create_updates_the_pull_request_another_run_opened(
    fake: FakeGitHub, slept: list[float]
) -> None:
    def other_run(head: str) -> None:  # opens the PR after our find, before our create
        fake.before_create = None
        fake.open_pull(head, title="Promote api to staging: 1.4.1", body="older run")

    fake.before_create = other_run
    result = connect(fake, slept).publish(spec("1.4.2", labels=("promotion",)), changed=False)
    assert result.operation == "updated"
    assert result.pull_request is not None and result.pull_request.number == 1
    assert list(fake.pulls) == [1]
    pull = fake.pulls[1]
    assert pull.title.endswith("1.4.2") and "`1.4.2`" in pull.body
    assert pull.labels == ["promotion"]
    assert writes(fake).count(("POST", "/api/v3/repos/acme/config/pulls")) == 1


def test_race_is_retried_once_then_reported(fake: FakeGitHub, slept: list[float]) -> None:
    fake.fail(422, f"A pull request already exists for acme:{BRANCH}.", method="POST",
              path="/pulls", times=3)  # yet none is open: not retried in a loop
    with pytest.raises(PromoterError, match=f"already exists.*none is open.*{BRANCH}") as info:
        connect(fake, slept).publish(spec(), changed=True)
    assert info.value.exit_code == 1
    assert writes(fake).count(("POST", "/api/v3/repos/acme/config/pulls")) == 1
    assert fake.pulls == {} and slept == []


def test_supersede_closes_the_old_branch_pull_request(
    fake: FakeGitHub, slept: list[float]
) -> None:
    old = fake.open_pull("promoter/api-staging", body="old\n<!-- promoter:api/staging -->")
    other = fake.open_pull("promoter/web-staging", body="<!-- promoter:web/staging -->")
    human = fake.open_pull("feature/x", body="no marker")
    result = connect(fake, slept).publish(spec(), changed=True)
    assert result.pull_request is not None
    assert [p.number for p in result.superseded] == [old.number]
    assert old.state == "closed" and other.state == "open" and human.state == "open"
    assert result.pull_request.url in old.comments[0]


def test_labels_reviewers_assignees_draft_and_auto_merge(
    fake: FakeGitHub, slept: list[float]
) -> None:
    forge = connect(fake, slept)
    wanted = spec(labels=("promotion", "env:staging"), reviewers=("alice", "acme/platform"),
                  assignees=("bob",), draft=True, auto_merge=True, merge_method="squash")
    result = forge.publish(wanted, changed=True)
    pull = fake.pulls[1]
    assert pull.labels == ["promotion", "env:staging"]
    assert (pull.reviewers, pull.teams, pull.assignees) == (["alice"], ["platform"], ["bob"])
    assert pull.draft and pull.auto_merge == "squash"
    assert result.pull_request is not None and result.pull_request.draft
    assert result.pull_request.labels == ("promotion", "env:staging")
    ready = forge.publish(spec(labels=("promotion",), draft=False), changed=False)
    assert ready.operation == "updated" and not pull.draft
    assert pull.labels == ["promotion", "env:staging"]  # labels humans or others added stay


def test_auto_merge_refused_is_an_error(fake: FakeGitHub, slept: list[float]) -> None:
    fake.auto_merge_allowed = False
    with pytest.raises(AutoMergeRefused, match="auto-merge is not allowed") as refused:
        connect(fake, slept).publish(spec(auto_merge=True), changed=True)
    result = refused.value.published
    assert refused.value.exit_code == 1
    assert result.pull_request is not None and result.operation == "created"


def test_enterprise_url_from_github_api_url(fake: FakeGitHub, slept: list[float]) -> None:
    from promoter import remote

    environ = {"GITHUB_SERVER_URL": "https://ghe.example", "GITHUB_API_URL": fake.api_url}
    api_url = remote.api_url("github", "https://ghe.example/acme/config", environ)
    result = connect(fake, slept, api_url=api_url).publish(spec(draft=True), changed=True)
    assert result.operation == "created"
    assert ("POST", "/api/v3/repos/acme/config/pulls") in fake.requests


def test_github_com_layout_graphql_at_the_root(slept: list[float]) -> None:
    with FakeGitHub(token=TOKEN, prefix="") as dotcom:
        forge = connect(dotcom, slept)
        forge.publish(spec(), changed=True)
        forge.publish(spec(draft=True, auto_merge=True), changed=False)
    assert dotcom.violations == []
    assert ("POST", "/graphql") in dotcom.requests
    assert dotcom.pulls[1].draft and dotcom.pulls[1].auto_merge == "merge"


# -- waiting for the merge -------------------------------------------------------


class FakeClock:
    """A clock whose sleep advances time and runs ``on_sleep`` (the world moving on)."""

    def __init__(self, on_sleep: object = None) -> None:
        self.t = 0.0
        self.sleeps = 0
        self.on_sleep = on_sleep

    def clock(self) -> Clock:
        return Clock(now=lambda: self.t, sleep=self.sleep)

    def sleep(self, seconds: float) -> None:
        self.t += seconds
        self.sleeps += 1
        if callable(self.on_sleep):
            self.on_sleep(self.sleeps)


def test_wait_merge_returns_the_merge_commit(fake: FakeGitHub, slept: list[float]) -> None:
    forge = connect(fake, slept)
    forge.publish(spec(), changed=True)
    clock = FakeClock(lambda n: n == 3 and fake.merge(1, "c0ffee" * 6 + "beef"))
    lines: list[str] = []
    pr = wait_for_merge(forge, 1, timeout=600, clock=clock.clock(), progress=lines.append)
    assert pr.state == "merged" and pr.merge_commit_sha == "c0ffee" * 6 + "beef"
    assert len(lines) == 4 and "merged" in lines[-1]


def test_wait_merge_deletes_the_branch_when_asked(
    fake: FakeGitHub, slept: list[float]
) -> None:
    forge = connect(fake, slept)
    forge.publish(spec(delete_branch=True), changed=True)
    fake.merge(1)
    pr = wait_for_merge(forge, 1, timeout=60, clock=FakeClock().clock(), progress=print)
    assert pr.state == "merged" and fake.deleted == [BRANCH]


def test_wait_merge_closed_unmerged_exits_4(fake: FakeGitHub, slept: list[float]) -> None:
    forge = connect(fake, slept)
    forge.publish(spec(), changed=True)
    clock = FakeClock(lambda n: setattr(fake.pulls[1], "state", "closed"))
    with pytest.raises(BlockedError, match=r"#1 .*closed without merging") as info:
        wait_for_merge(forge, 1, timeout=600, clock=clock.clock(), progress=lambda s: None)
    assert info.value.exit_code == 4


def test_wait_merge_times_out_with_exit_5(fake: FakeGitHub, slept: list[float]) -> None:
    forge = connect(fake, slept)
    forge.publish(spec(), changed=True)
    clock = FakeClock()
    with pytest.raises(WaitTimeout, match="not merged after 60s") as info:
        wait_for_merge(forge, 1, timeout=60, clock=clock.clock(), progress=lambda s: None)
    assert info.value.exit_code == 5 and clock.t == 60


# -- errors and retries ----------------------------------------------------------


def test_bad_token_is_exit_3_without_the_token(fake: FakeGitHub, slept: list[float]) -> None:
    with pytest.raises(AuthError, match="401") as info:
        connect(fake, slept, token="ghp_wrong_" + TOKEN).publish(spec(), changed=True)
    assert info.value.exit_code == 3 and TOKEN not in str(info.value)


def test_forbidden_create_names_the_permission(fake: FakeGitHub, slept: list[float]) -> None:
    fake.fail(403, "Resource not accessible by integration", method="POST", path="/pulls")
    with pytest.raises(AuthError) as info:
        connect(fake, slept).publish(spec(), changed=True)
    message = str(info.value)
    assert "pull-requests: write" in message and "GITHUB_TOKEN" in message
    assert info.value.exit_code == 3 and TOKEN not in message


def test_actions_not_permitted_to_create_pull_requests(
    fake: FakeGitHub, slept: list[float]
) -> None:
    fake.fail(403, "GitHub Actions is not permitted to create or approve pull requests.",
              method="POST", path="/pulls")
    with pytest.raises(AuthError, match="Allow GitHub Actions to create and approve"):
        connect(fake, slept).publish(spec(), changed=True)


def test_missing_repository_names_the_slug(fake: FakeGitHub, slept: list[float]) -> None:
    with pytest.raises(AuthError, match="acme/nope not found") as info:
        connect(fake, slept, slug="acme/nope").publish(spec(), changed=True)
    assert info.value.exit_code == 3


def test_server_errors_are_retried_with_backoff(fake: FakeGitHub, slept: list[float]) -> None:
    fake.fail(500, "boom", times=2, method="POST", path="/pulls")
    result = connect(fake, slept).publish(spec(), changed=True)
    assert result.operation == "created" and slept == [1.0, 2.0]
    assert list(fake.pulls) == [1]


def test_429_honours_retry_after(fake: FakeGitHub, slept: list[float]) -> None:
    fake.fail(429, "Too many requests", headers={"Retry-After": "7"}, path="/pulls")
    connect(fake, slept).publish(spec(), changed=True)
    assert slept == [7.0]


def test_secondary_rate_limit_is_retried(fake: FakeGitHub, slept: list[float]) -> None:
    fake.fail(403, "You have exceeded a secondary rate limit. Please wait a few minutes"
              " before you try again.", headers={"Retry-After": "60"}, method="POST")
    result = connect(fake, slept).publish(spec(), changed=True)
    assert result.operation == "created" and slept == [60.0]


def test_primary_rate_limit_waits_until_reset(fake: FakeGitHub, slept: list[float]) -> None:
    reset = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 30)}
    fake.fail(403, "API rate limit exceeded for installation.", headers=reset, method="GET")
    connect(fake, slept).publish(spec(), changed=True)
    assert slept == [30.0]


def test_retries_are_bounded_then_exit_1(fake: FakeGitHub, slept: list[float]) -> None:
    fake.fail(502, "Bad gateway", times=99, path="/pulls")
    with pytest.raises(PromoterError, match="after 5 attempt") as info:
        connect(fake, slept).publish(spec(), changed=True)
    assert type(info.value) is PromoterError and info.value.exit_code == 1
    assert slept == [1.0, 2.0, 4.0, 8.0]


# -- GitHub App ------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_key() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def test_github_app_gets_an_installation_token(
    fake: FakeGitHub, slept: list[float], app_key: tuple[str, str], tmp_path: Path
) -> None:
    fake.app_id, fake.app_public_key = "123", app_key[1]
    pem = tmp_path / "app.pem"
    pem.write_text(app_key[0])
    forge = connect(fake, slept, token=None, app_id="123", app_private_key=str(pem))
    assert forge.publish(spec(), changed=True).operation == "created"
    assert ("POST", "/api/v3/app/installations/4242/access_tokens") in fake.requests
    assert forge.git_token() in fake.issued


def test_github_app_with_a_broken_key_is_exit_3(fake: FakeGitHub, slept: list[float]) -> None:
    broken = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
    with pytest.raises(AuthError, match="not a usable RSA private key") as info:
        connect(fake, slept, token=None, app_id="123", app_private_key=broken)
    assert "bm90IGEga2V5" not in str(info.value)


def test_github_app_not_installed(
    fake: FakeGitHub, slept: list[float], app_key: tuple[str, str]
) -> None:
    fake.app_id, fake.app_public_key = "123", app_key[1]
    fake.fail(404, "Not Found", path="/installation")
    with pytest.raises(AuthError, match="App 123 is not installed on acme/config"):
        connect(fake, slept, token=None, app_id="123", app_private_key=app_key[0])


def test_fake_rejects_responses_that_violate_the_schema(
    fake: FakeGitHub, slept: list[float]
) -> None:
    """The guard itself: a fake answering a wrongly typed field is caught."""
    original = fake._repo_fields
    fake._repo_fields = lambda: {**original(), "name": 42}  # type: ignore[method-assign]
    connect(fake, slept).publish(spec(), changed=True)
    assert any("POST /repos/acme/config/pulls 201" in v for v in fake.violations)
    fake.violations.clear()


# -- end to end: `promoter promote` against the fake GitHub and a real git server ----


def run_promote(git_url: str, api_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROMOTER_TOKEN": TOKEN}
    return subprocess.run(
        [sys.executable, "-m", "promoter", "promote", "--repo", git_url, "--forge", "github",
         "--api-url", api_url, "--app", "api", "--env", "staging", "--output", "json", *extra],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )


def test_promote_end_to_end(fake: FakeGitHub, tmp_path: Path) -> None:
    with GitServer(tmp_path / "srv", "x-access-token", TOKEN) as server:
        bare = server.create("acme/config", example_copy(tmp_path / "tree"))
        fake.head_sha = lambda ref: heads(bare).get(ref)
        first = run_promote(server.url("acme/config"), fake.api_url,
                            "--image", "ghcr.io/acme/api:1.5.0", "--label", "promotion")
        pushed = heads(bare)["promoter/staging/api"]
        again = run_promote(server.url("acme/config"), fake.api_url,
                            "--image", "ghcr.io/acme/api:1.5.0", "--label", "promotion")
        fake.merge_on_auto_merge = "9" * 40
        merged = run_promote(server.url("acme/config"), fake.api_url,
                             "--image", "ghcr.io/acme/api:1.5.1", "--auto-merge",
                             "--merge-method", "squash", "--wait-merge", "--timeout", "1m",
                             "--delete-branch")
    for done in (first, again, merged):
        assert done.returncode == 0, done.stderr
        assert TOKEN not in done.stdout + done.stderr
    record = json.loads(first.stdout)
    assert record["pull_request"]["operation"] == "created"
    assert json.loads(again.stdout)["pull_request"]["operation"] == "none"
    pull = fake.pulls[1]
    assert "promotion" in pull.labels and pull.head == "promoter/staging/api"
    assert record["commit"] == pushed and record["pull_request"]["number"] == 1
    assert json.loads(merged.stdout)["merge"] == {"state": "merged", "commit_sha": "9" * 40}
    assert pull.auto_merge == "squash" and list(fake.pulls) == [1]
    assert fake.deleted == ["promoter/staging/api"]  # --delete-branch after the merge


def test_promote_wait_merge_timeout_exits_5(fake: FakeGitHub, tmp_path: Path) -> None:
    with GitServer(tmp_path / "srv", "x-access-token", TOKEN) as server:
        server.create("acme/config", example_copy(tmp_path / "tree"))
        done = run_promote(server.url("acme/config"), fake.api_url,
                           "--image", "ghcr.io/acme/api:1.5.0", "--wait-merge", "--timeout", "1s")
    assert done.returncode == 5, done.stderr
    assert json.loads(done.stdout)["merge"]["state"] == "timeout"


def test_promote_wait_merge_reports_through_the_cli_printer(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    with GitServer(tmp_path / "srv", "x-access-token", TOKEN) as server:
        server.create("acme/config", example_copy(tmp_path / "tree"))
        done = run_promote(server.url("acme/config"), fake.api_url,
                           "--image", "ghcr.io/acme/api:1.5.0", "--wait-merge", "--timeout", "1s")
    assert done.returncode == 5, done.stderr
    assert "waiting for #1 to merge (" in done.stderr and "0s elapsed" in done.stderr


def test_promote_with_a_github_app_pushes_with_the_installation_token(
    fake: FakeGitHub, app_key: tuple[str, str], tmp_path: Path
) -> None:
    """No token at all: git pushes with the App's installation token, which the
    git server requires as its password, and the token is masked in Actions."""
    fake.app_id, fake.app_public_key = "123", app_key[1]
    pem = tmp_path / "app.pem"
    pem.write_text(app_key[0])
    outputs = tmp_path / "github_output"
    env = {k: v for k, v in os.environ.items() if k != "PROMOTER_TOKEN"}
    env.update(GITHUB_ACTIONS="true", GITHUB_OUTPUT=str(outputs),
               GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"))
    with GitServer(tmp_path / "srv", "x-access-token", "ghs_installation_0") as server:
        bare = server.create("acme/config", example_copy(tmp_path / "tree"))
        fake.head_sha = lambda ref: heads(bare).get(ref)
        done = subprocess.run(
            [sys.executable, "-m", "promoter", "promote", "--repo", server.url("acme/config"),
             "--forge", "github", "--api-url", fake.api_url, "--app", "api", "--env", "staging",
             "--image", "ghcr.io/acme/api:1.6.0", "--app-id", "123",
             "--app-private-key", str(pem), "--output", "github"],
            capture_output=True, text=True, env=env, check=False, timeout=120,
        )
        pushed = heads(bare).get("promoter/staging/api")
    assert done.returncode == 0, done.stderr
    assert "ghs_installation_0" in fake.issued
    assert pushed is not None and fake.pulls[1].head == "promoter/staging/api"
    first = done.stdout.index("ghs_installation_0")
    assert done.stdout[:first].endswith("::add-mask::")
    assert done.stdout.count("ghs_installation_0") == 1
    assert "ghs_installation_0" not in done.stderr + outputs.read_text()
    assert "BEGIN" not in done.stdout + done.stderr


def test_unreachable_server_is_retried_then_exit_1(slept: list[float]) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/api/v3"
    settings = ForgeSettings(repo="x", slug="acme/config", api_url=url, token=TOKEN)
    forge = gh.connect(settings, Backoff(sleep=slept.append, clock=lambda: NOW))
    with pytest.raises(PromoterError, match=f"cannot reach {url} .ConnectionError") as info:
        forge.publish(spec(), changed=True)
    assert info.value.exit_code == 1 and len(slept) == 4 and TOKEN not in str(info.value)
