"""promoter.http_safety: origins, redaction of remembered secrets, log records."""

from __future__ import annotations

import logging

import pytest

from promoter import http_safety
from promoter.errors import InputError, PromoterError


def test_origins_make_the_default_port_explicit() -> None:
    assert http_safety.origin("https://GitLab.example/api/v4") == "https://gitlab.example:443"
    assert http_safety.origin("http://h:8080/x") == "http://h:8080"
    assert http_safety.origin("https://h/") != http_safety.origin("http://h/")
    assert http_safety.origin("https://h:443/a") == http_safety.origin("https://h/b")


def test_a_redirect_to_another_origin_is_refused() -> None:
    http_safety.refuse_other_origin("https://h/api", "https://h:443/moved", "GitLab")
    with pytest.raises(InputError, match="another origin"):
        http_safety.refuse_other_origin("https://h/api", "https://h:8443/api", "GitLab")


def test_remembered_secrets_are_redacted_in_errors_and_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    http_safety.remember(*http_safety.header_secrets("Bearer tok-remembered-41"))
    error = http_safety.redacted(PromoterError("server said: Bearer tok-remembered-41"))
    assert error.message == "server said: ***"
    http_safety.install_log_redaction()
    http_safety.install_log_redaction()  # idempotent
    caplog.set_level(logging.DEBUG, logger="promoter.sdk-stand-in")
    logging.getLogger("promoter.sdk-stand-in").debug("body %s", '{"echo": "tok-remembered-41"}')
    assert "tok-remembered-41" not in caplog.text and "***" in caplog.text


def test_short_values_are_not_taken_for_secrets() -> None:
    http_safety.remember("ab", "")
    assert http_safety.redact("ab cd") == "ab cd"
