"""Repository URLs: the one parser (``parse``) of ``--repo`` values and of the
URLs a cluster names (Argo CD's ``repoURL``): https://, ssh://, file://,
scp-like ``[user@]host:path`` and local paths.

What is built on it: which forge a remote belongs to, its ``owner/name`` slug,
the URL git gets, the origin git sends credentials to (``git_remote.http_origin``), and
one normal form to compare two URLs of one repository (``normalize_repo_url``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from promoter.errors import InputError

# git's rule: scp-like when there is no slash before the first colon
_SCP = re.compile(r"(?:(?P<user>[^@/]+)@)?(?P<host>[\w.-]+):(?P<path>.+)")


@dataclass(frozen=True)
class RepoUrl:
    """A repository location. ``scheme`` is the URL's (lower-cased), ``scp`` for
    ``[user@]host:path``, empty for a local path; ``host`` is lower-cased (empty
    for local paths and ``file:///``); ``port``, ``path`` and ``userinfo`` are as
    written (a URL's path starts with ``/``; its query and fragment are dropped)."""

    scheme: str
    host: str = ""
    port: str = ""
    path: str = ""
    userinfo: str = ""

    @property
    def name(self) -> str:
        """The path without slashes around it or a ``.git`` suffix: ``acme/config``."""
        return self.path.strip("/").removesuffix(".git").rstrip("/")


def parse(text: str) -> RepoUrl:
    """``text`` as a URL, an scp-like remote, or (anything else) a local path."""
    scheme, sep, rest = text.partition("://")
    if sep:
        authority, slash, path = rest.partition("/")
        userinfo, _, hostport = authority.rpartition("@")
        host, port = _host_port(hostport)
        path = re.split(r"[?#]", slash + path, maxsplit=1)[0]
        return RepoUrl(scheme.lower(), host.lower(), port, path, userinfo)
    scp = _SCP.fullmatch(text)
    if scp is not None:
        return RepoUrl("scp", scp["host"].lower(), "", scp["path"], scp["user"] or "")
    return RepoUrl("", path=text)


def _host_port(hostport: str) -> tuple[str, str]:
    if hostport.startswith("["):  # [IPv6]:port
        host, _, port = hostport.partition("]")
        return host + "]", port.removeprefix(":")
    host, _, port = hostport.partition(":")
    return host, port


def _remote(repo: str) -> RepoUrl:
    """``parse(repo)``, except that an existing directory is a path even when it
    looks scp-like (``host:config``)."""
    parsed = parse(repo)
    if parsed.scheme == "scp" and Path(repo).exists():
        return RepoUrl("", path=repo)
    return parsed


def normalize_repo_url(url: str) -> str:
    """``host/path`` of a git URL, so that https, ``ssh://`` and ``git@host:path``
    forms, a ``.git`` suffix, a trailing ``/``, credentials, ports and the case
    of the host do not matter. A local path comes back without ``.git``."""
    parsed = parse(url.strip())
    if parsed.scheme == "file":
        return (parsed.host + parsed.path).rstrip("/").removesuffix(".git")
    if not parsed.scheme:
        return parsed.path.rstrip("/").removesuffix(".git")
    return f"{parsed.host}/{parsed.name}"


def same_repo(a: str | None, b: str | None) -> bool:
    """Whether ``a`` and ``b`` name one repository (``normalize_repo_url``)."""
    return bool(a and b) and normalize_repo_url(a or "") == normalize_repo_url(b or "")


def refuse_credentials(parsed: RepoUrl, option: str,
                       instead: str = "set PROMOTER_TOKEN instead") -> None:
    """InputError when a URL given as ``option`` carries credentials: a password,
    any user name in an http(s) URL (a token written as the user), a
    ``user:secret@`` of an scp-like remote (git would even misread the host).
    The message masks them."""
    user, colon, password = parsed.userinfo.partition(":")
    if parsed.scheme == "scp":
        if colon:
            raise InputError(f"{option} ***@{parsed.host}:... carries credentials; remove "
                             f"them from the URL and {instead}")
        return
    if password or (user and parsed.scheme.startswith("http")):
        raise InputError(f"{option} {parsed.scheme}://***@{parsed.host}/... carries "
                         f"credentials; remove them from the URL and {instead}")


def git_url(repo: str) -> str:
    """The URL handed to git: local paths become file:// URLs (so that partial
    clone works); URLs with credentials in them are refused."""
    parsed = _remote(repo)
    refuse_credentials(parsed, "--repo")
    if parsed.scheme:
        return repo
    path = Path(repo).expanduser().resolve()
    if not path.exists():
        raise InputError(f"--repo {repo}: no such directory; give a git URL or an existing path")
    return path.as_uri()


def host(repo: str) -> str | None:
    """The host name of a remote URL, lower-cased (None for local paths and file://)."""
    return _remote(repo).host or None


def slug(repo: str) -> str | None:
    """``owner/name`` (GitHub) or ``group/sub/project`` (GitLab) of a remote."""
    parsed = _remote(repo)
    return (parsed.name or None) if parsed.scheme else None


def _host_of(url: str | None) -> str | None:
    return (parse(url).host or None) if url else None


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
