"""The GitHub App and connection set-up of the GitHub forge (promoter.forges.github):
every PyGithub connection bound to the API's origin, and an App's installation auth."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from github import Auth, GithubIntegration

from promoter.errors import AuthError, InputError
from promoter.forges import http
from promoter.http_safety import Limits

Call = Callable[..., Any]  # GitHubForge._call: (what, need, fn, missing=None) -> fn()


def bind_connections(api: str, limits: Limits) -> None:
    """Every PyGithub connection (the client's, the App's token requests, one
    PyGithub opens for a URL the server sent) gets a SafeSession bound to the
    origin of ``api`` (promoter.forges.http); PyGithub follows same-host 301s."""
    from github.Requester import (
        HTTPRequestsConnectionClass,
        HTTPSRequestsConnectionClass,
        Requester,
    )

    Requester.injectConnectionClasses(
        http.bound_connection(HTTPRequestsConnectionClass, api, limits, "GitHub", (301,)),
        http.bound_connection(HTTPSRequestsConnectionClass, api, limits, "GitHub", (301,)),
    )
    Requester._Requester__persist = True  # type: ignore[attr-defined]  # keep connections


def private_key(value: str) -> str:
    if "-----BEGIN" in value:
        return value
    path = Path(value).expanduser()
    if path.is_file():
        return path.read_text()
    raise InputError(
        "--app-private-key is neither a PEM key nor a readable file;"
        " pass the key text or the path to the .pem file"
    )


def installation_auth(api: str, slug: str, app_id: str, key: str, call: Call) -> Any:
    """The installation auth of GitHub App ``app_id`` on ``slug`` (``key``: PEM text or path)."""
    app = Auth.AppAuth(app_id, private_key(key))
    try:
        app.create_jwt()
    except Exception as exc:  # PyJWT / cryptography: a bad key; never echo it
        raise AuthError(
            "--app-private-key is not a usable RSA private key;"
            " download a new .pem from the GitHub App's settings"
        ) from exc
    integration = GithubIntegration(
        base_url=api, auth=app, retry=None,
        seconds_between_requests=None, seconds_between_writes=None,
    )
    owner, name = slug.split("/")
    installation = call(
        "finding the GitHub App installation", "the App installed on the repository",
        lambda: integration.get_repo_installation(owner, name),
        missing=f"GitHub App {app_id} is not installed on {slug};"
        " install it on the repository (contents and pull requests: write)",
    )
    return app.get_installation_auth(installation.id)
