"""Both forge adapters (the real PyGithub and python-gitlab) against hostile servers:
redirects to another origin, echoed headers, trickles, floods, garbage answers, TLS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.github_server import FakeGitHub
from support.hostile import HostileServer, Reply, echo, flood, nested, redirect

from promoter.errors import InputError, PromoterError, WaitTimeout
from promoter.forges import ForgeSettings, PullRequestSpec
from promoter.retry import Backoff

SENTINEL = "SENTINEL-forge-5d1e"
FORGES = ["github", "gitlab"]


def spec() -> PullRequestSpec:
    return PullRequestSpec(app="api", env="staging", branch="promoter/staging/api",
                           base="main", title="", body="", image="ghcr.io/acme/api:1.4.2")


def forge(kind: str, url: str, slept: list[float], timeout: float | None = None) -> Any:
    settings = ForgeSettings(repo="https://forge.example/acme/config", slug="acme/config",
                             api_url=url, token=SENTINEL, timeout=timeout)
    backoff = Backoff(sleep=slept.append)
    if kind == "github":
        from promoter.forges import github

        return github.connect(settings, backoff)
    from promoter.forges import gitlab

    return gitlab.connect(settings, backoff)


@pytest.fixture
def servers() -> Iterator[tuple[HostileServer, HostileServer]]:
    with HostileServer() as api, HostileServer() as other:
        yield api, other
    for seen in other.seen:
        assert not seen.credentials, seen
        assert SENTINEL not in json.dumps(seen.headers)


def failure(kind: str, url: str, slept: list[float] | None = None,
            timeout: float | None = None) -> PromoterError:
    with pytest.raises(PromoterError) as caught:
        forge(kind, url, [] if slept is None else slept, timeout).publish(spec(), True)
    message = caught.value.message
    assert SENTINEL not in message and "\n" not in message
    return caught.value


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("kind", FORGES)
def test_a_redirect_to_another_origin_is_refused_and_gets_no_token(
    servers: tuple[HostileServer, HostileServer], kind: str, status: int
) -> None:
    api, other = servers
    api.reply = redirect(other.url, status)
    error = failure(kind, api.url)
    assert isinstance(error, InputError), error
    assert "redirect" in error.message and other.url in error.message
    assert other.seen == []


@pytest.mark.parametrize("kind", FORGES)
def test_a_redirect_within_the_origin_keeps_working(
    servers: tuple[HostileServer, HostileServer], kind: str
) -> None:
    api, _ = servers
    def answer(seen: Any) -> Reply:
        if not seen.path.startswith("/moved"):
            return redirect(api.url + "/moved", 301)(seen)
        return Reply(404, body=b'{"message": "404 Not Found"}')
    api.reply = answer
    error = failure(kind, api.url)
    assert error.exit_code == 3 and "not found" in error.message
    assert any(s.path.startswith("/moved") and s.credentials for s in api.seen)


@pytest.mark.parametrize("status", [400, 422, 500])
@pytest.mark.parametrize("kind", FORGES)
def test_an_error_body_echoing_the_headers_is_redacted(
    servers: tuple[HostileServer, HostileServer], kind: str, status: int
) -> None:
    api, _ = servers
    api.reply = echo(status)
    slept: list[float] = []
    error = failure(kind, api.url, slept)
    assert "***" in error.message
    assert (slept != []) is (status == 500)


@pytest.mark.parametrize("kind", FORGES)
def test_a_trickling_forge_is_cut_off_at_the_timeout(
    servers: tuple[HostileServer, HostileServer], kind: str
) -> None:
    api, _ = servers
    api.reply = lambda seen: Reply(body=b"[" + b" " * 200 + b"]", trickle=0.05)
    error = failure(kind, api.url, timeout=1.5)
    assert isinstance(error, WaitTimeout) and "--network-timeout" in error.message


@pytest.mark.parametrize("kind", FORGES)
def test_a_stalling_forge_is_cut_off_at_the_timeout(
    servers: tuple[HostileServer, HostileServer], kind: str
) -> None:
    api, _ = servers
    api.reply = lambda seen: Reply(stall=30)
    error = failure(kind, api.url, timeout=1.0)
    assert isinstance(error, WaitTimeout)


@pytest.mark.parametrize("announced", [True, False])
@pytest.mark.parametrize("kind", FORGES)
def test_a_huge_body_is_refused(
    servers: tuple[HostileServer, HostileServer], kind: str, announced: bool
) -> None:
    api, _ = servers
    api.reply = flood(40 << 20, announced)
    error = failure(kind, api.url)
    assert "MiB" in error.message and error.exit_code == 1


@pytest.mark.parametrize("body", [b'{"id": 1, "name": ', nested(100_000), b"[" * 5000])
@pytest.mark.parametrize("kind", FORGES)
def test_malformed_json_is_one_line(
    servers: tuple[HostileServer, HostileServer], kind: str, body: bytes
) -> None:
    api, _ = servers
    api.reply = lambda seen: Reply(body=body)
    error = failure(kind, api.url)
    assert error.exit_code == 1 and "JSON" in error.message


@pytest.mark.parametrize("kind", FORGES)
def test_an_html_page_is_not_the_api(
    servers: tuple[HostileServer, HostileServer], kind: str
) -> None:
    api, _ = servers
    api.reply = lambda seen: Reply(headers={"Content-Type": "text/html"},
                                   body=b"<html><body>Sign in</body></html>")
    error = failure(kind, api.url)
    assert isinstance(error, InputError) and "--api-url" in error.message


def test_a_302_within_the_origin_that_github_does_not_follow_is_one_line(
    servers: tuple[HostileServer, HostileServer]
) -> None:
    api, _ = servers
    api.reply = redirect(api.url + "/login", 302)
    error = failure("github", api.url)
    assert error.exit_code == 2 and "302" in error.message


# -- TLS: a CA bundle from SSL_CERT_FILE / REQUESTS_CA_BUNDLE; no retry on a bad certificate


@pytest.fixture
def tls_api(tmp_path: Path) -> Iterator[tuple[str, str]]:
    from support.tls import self_signed

    cert, key, _ = self_signed(tmp_path)
    with HostileServer(tls=(cert, key)) as api:
        api.reply = lambda seen: Reply(404, body=b'{"message": "404 Project Not Found"}')
        yield api.url, str(cert)


@pytest.mark.parametrize("kind", FORGES)
def test_an_untrusted_certificate_is_not_retried_and_names_the_cause(
    tls_api: tuple[str, str], kind: str
) -> None:
    url, _ = tls_api
    slept: list[float] = []
    error = failure(kind, url, slept)
    assert slept == [] and "certificate" in error.message and "SSL_CERT_FILE" in error.message


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
@pytest.mark.parametrize("kind", FORGES)
def test_a_ca_bundle_from_the_environment_is_trusted(
    tls_api: tuple[str, str], kind: str, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca = tls_api
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)  # requests prefers the first two
    monkeypatch.setenv(variable, ca)
    error = failure(kind, url)
    assert error.exit_code == 3 and "not found" in error.message  # TLS passed; the 404 came back


# -- GitHub secondary rate limits without Retry-After ------------------------------------


def test_secondary_rate_limit_without_retry_after_waits_a_minute_then_longer() -> None:
    from promoter.forges import github

    slept: list[float] = []
    with FakeGitHub(token=SENTINEL) as fake:
        fake.fail(403, "You have exceeded a secondary rate limit. Please wait a few minutes"
                  " before you try again.", times=2, method="POST")
        settings = ForgeSettings(repo="https://github.com/acme/config", slug="acme/config",
                                 api_url=fake.api_url, token=SENTINEL)
        backoff = Backoff(sleep=slept.append, clock=lambda: 1000.0, budget=1000.0)
        result = github.connect(settings, backoff).publish(spec(), True)
    assert result.operation == "created" and slept == [60.0, 120.0]


def test_secondary_rate_limit_stops_when_the_run_timeout_would_pass() -> None:
    from promoter.forges import github

    slept: list[float] = []
    with FakeGitHub(token=SENTINEL) as fake:
        fake.fail(403, "You have exceeded a secondary rate limit.", times=9, method="POST")
        settings = ForgeSettings(repo="https://github.com/acme/config", slug="acme/config",
                                 api_url=fake.api_url, token=SENTINEL)
        backoff = Backoff(sleep=slept.append, clock=lambda: 1000.0, budget=100.0)
        with pytest.raises(PromoterError, match="secondary rate limit") as caught:
            github.connect(settings, backoff).publish(spec(), True)
    assert slept == [60.0] and "--network-timeout" in caught.value.message


@pytest.mark.parametrize("elsewhere", ["other-port", "other-host"])
def test_a_pagination_link_to_another_origin_is_not_followed(
    servers: tuple[HostileServer, HostileServer], elsewhere: str
) -> None:
    api, other = servers
    target = other.url if elsewhere == "other-port" else "http://localhost:9"

    def answer(seen: Any) -> Reply:
        if "/pulls" in seen.path:
            other_pull = {"number": 9, "head": {"ref": "someone/else"}, "state": "open"}
            return Reply(headers={"Content-Type": "application/json",
                                  "Link": f'<{target}/repos/acme/config/pulls?page=2>;'
                                          ' rel="next"'}, body=json.dumps([other_pull]).encode())
        return Reply(body=json.dumps({"url": f"{api.url}/repos/acme/config",
                                      "name": "config", "full_name": "acme/config"}).encode())

    api.reply = answer
    error = failure("github", api.url)
    assert error.exit_code == 2 and "--api-url" in error.message, error
    assert other.seen == []
