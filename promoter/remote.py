"""``--repo`` values: https://, ssh://, ``git@host:path``, file:// and local paths.

Which forge a remote belongs to, its ``owner/name`` slug, and the URL git gets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from promoter.errors import InputError

_SCP = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>[^/].*)$")


def git_url(repo: str) -> str:
    """The URL handed to git: local paths become file:// URLs (so that partial
    clone works); URLs with credentials in them are refused."""
    if "://" in repo:
        parts = urlsplit(repo)
        if parts.password or (parts.username and parts.scheme.startswith("http")):
            raise InputError(
                f"--repo {parts.scheme}://***@{parts.hostname}/... carries credentials;"
                " remove them from the URL and set PROMOTER_TOKEN instead"
            )
        return repo
    if _SCP.match(repo) and not Path(repo).exists():
        return repo
    path = Path(repo).expanduser().resolve()
    if not path.exists():
        raise InputError(f"--repo {repo}: no such directory; give a git URL or an existing path")
    return path.as_uri()


def host(repo: str) -> str | None:
    """The host name of a remote URL (None for local paths and file://)."""
    if "://" in repo:
        return urlsplit(repo).hostname
    match = _SCP.match(repo)
    return match["host"] if match and not Path(repo).exists() else None


def slug(repo: str) -> str | None:
    """``owner/name`` (GitHub) or ``group/sub/project`` (GitLab) of a remote."""
    if "://" in repo:
        path = urlsplit(repo).path
    else:
        match = _SCP.match(repo)
        if not match or Path(repo).exists():
            return None
        path = match["path"]
    path = path.strip("/").removesuffix(".git")
    return path or None


def _host_of(url: str | None) -> str | None:
    return urlsplit(url).hostname if url else None


def infer_forge(repo: str, environ: Mapping[str, str]) -> str:
    """github for github.com or $GITHUB_SERVER_URL's host, gitlab for gitlab.com or
    $CI_SERVER_URL's host, else local."""
    name = host(repo)
    if name is None:
        return "local"
    if name == "github.com" or name == _host_of(environ.get("GITHUB_SERVER_URL")):
        return "github"
    if name == "gitlab.com" or name == _host_of(environ.get("CI_SERVER_URL")):
        return "gitlab"
    return "local"


def api_url(forge: str, repo: str, environ: Mapping[str, str]) -> str | None:
    """The forge's API base URL, from CI variables when they match the host."""
    name = host(repo)
    if forge == "github":
        if name and name == _host_of(environ.get("GITHUB_SERVER_URL")) and environ.get(
            "GITHUB_API_URL"
        ):
            return environ["GITHUB_API_URL"]
        return "https://api.github.com" if name in (None, "github.com") else f"https://{name}/api/v3"
    if forge == "gitlab":
        server = environ.get("CI_SERVER_URL")
        if server and name == _host_of(server):
            return server
        return f"https://{name or 'gitlab.com'}"
    return None
