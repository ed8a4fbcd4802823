"""Broken or hostile registries on 127.0.0.1: bounded, one line, no secret
echoed, and promoter --help never loads the HTTP stack."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from support.registry_servers import Canned

from promoter import images as refs
from promoter.errors import AuthError, InputError, PromoterError, RetryableError
from promoter.registry import check
from promoter.registry.options import Options

SECRET = "SENTINEL-hostile-pw-77"
CREDS = {"PROMOTER_REGISTRY_USER": "robot", "PROMOTER_REGISTRY_PASSWORD": SECRET}


@pytest.fixture
def canned(request: pytest.FixtureRequest) -> Iterator[Canned]:
    status, body, headers = request.param
    server = Canned(status, body, headers)
    try:
        yield server
    finally:
        server.close()


def _verify(server: Canned, environ: dict[str, str] = CREDS) -> None:
    ref = refs.parse(f"{server.url.removeprefix('http://')}/acme/api:1.0")
    check.verified(check.connect(ref, Options(timeout=2.0), environ), ref, pin=True)


@pytest.mark.parametrize("canned", [(503, b"down", {"Retry-After": "7"})], indirect=True)
def test_unavailable_is_retryable_exit_1(canned: Canned) -> None:
    with pytest.raises(RetryableError) as caught:
        _verify(canned)
    assert caught.value.exit_code == 1 and caught.value.retry_after == 7.0
    assert "answered 503; retry later" in caught.value.message  # HEAD: no body


@pytest.mark.parametrize("canned", [(
    404, b'{"errors": [{"code": "MANIFEST_UNKNOWN", "message": "no robot:' + SECRET.encode()
    + b'\\nsecond line"}]}', {},
)], indirect=True)
def test_quoted_answer_is_redacted_one_line(canned: Canned) -> None:
    with pytest.raises(InputError) as caught:
        _verify(canned)
    assert SECRET not in caught.value.message and "***" in caught.value.message
    assert "\n" not in caught.value.message


@pytest.mark.parametrize("canned", [(307, b"", {"Location": "{url}/again"})], indirect=True)
def test_redirect_loop_is_bounded(canned: Canned) -> None:
    with pytest.raises(PromoterError, match="redirected more than 5 times"):
        _verify(canned)
    assert len(canned.seen) == 6


@pytest.mark.parametrize("canned", [(
    401, b"", {"WWW-Authenticate": 'Bearer realm="file:///etc/passwd",service="x"'},
)], indirect=True)
def test_bearer_realm_must_be_http(canned: Canned) -> None:
    with pytest.raises(AuthError, match="without a usable realm"):
        _verify(canned)


def test_help_does_not_import_the_http_stack() -> None:
    code = ("import sys\nfrom promoter.cli import main\n"
            "import promoter.cli.promote, promoter.cli.update, promoter.promote\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'requests' not in sys.modules, 'requests imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
