"""A small OCI distribution client: manifests and blobs of one repository.

Requests carry Basic credentials (to the registry's origin only) when there
are some; a 401 with a Bearer challenge is answered once by fetching a token
from the realm, which is then reused. Statuses become promoter's errors:
401/403 AuthError (exit 3), 429/5xx RetryableError (exit 1); a 404 is returned
to the caller, who knows what was missing. Server text is quoted redacted.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from promoter.credentials import Credentials
from promoter.errors import AuthError, PromoterError, RetryableError
from promoter.registry import auth
from promoter.registry.reference import Endpoint
from promoter.registry.safety import may_receive_credentials, redact
from promoter.registry.transport import Credential, Reply, Transport

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
INDEX_TYPES = frozenset(MANIFEST_TYPES[:2])
MANIFEST_LIMIT = 4 * 1024 * 1024  # Distribution's own limit
CONFIG_LIMIT = 8 * 1024 * 1024
TOKEN_LIMIT = 1024 * 1024


class Client:
    """Reads one repository of one registry."""

    def __init__(self, where: Endpoint, login: Credentials | None, transport: Transport) -> None:
        self.where = where
        self.login = login
        self.transport = transport
        self._token: str | None = None
        self.resolved: dict[str, str] = {}  # tag -> manifest digest, as answered

    def manifest(self, reference: str, method: str = "GET") -> Reply:
        """HEAD or GET ``manifests/<reference>`` accepting index, list and manifests."""
        return self._request(method, self.where.url("manifests", reference),
                             {"Accept": ", ".join(MANIFEST_TYPES)}, MANIFEST_LIMIT)

    def blob(self, digest: str, limit: int = CONFIG_LIMIT) -> bytes:
        """A blob's bytes, checked against ``digest``."""
        reply = self._request("GET", self.where.url("blobs", digest), {}, limit)
        if reply.status != 200:
            raise PromoterError(f"registry {self.where.registry} has no blob {digest[:19]} of "
                                f"{self.where.repository} ({self.answer(reply)})")
        check_digest(reply.body, digest, self.where)
        return reply.body

    def _request(self, method: str, url: str, headers: dict[str, str], limit: int) -> Reply:
        reply = self.transport.send(method, url, headers, self._credential(), limit)
        if reply.status == 401 and self._token is None:
            challenge = auth.parse_challenge(reply.headers.get("www-authenticate"))
            if challenge is not None and challenge.scheme == "bearer":
                self._token = self._fetch_token(challenge)
                reply = self.transport.send(method, url, headers, self._credential(), limit)
        self._raise_for(reply)
        return reply

    def _credential(self) -> Credential | None:
        if self._token is not None:
            return Credential(f"Bearer {self._token}", self.where.origin)
        if self.login is not None:
            return Credential(self.login.header(), self.where.origin)
        return None

    def _fetch_token(self, challenge: auth.Challenge) -> str:
        realm = challenge.params.get("realm", "")
        if not realm.startswith(("https://", "http://")):
            raise AuthError(f"registry {self.where.registry} sent a token challenge without a "
                            "usable realm; check the registry's auth configuration")
        params = {k: v for k, v in challenge.params.items() if k in ("service", "scope")}
        params.setdefault("scope", f"repository:{self.where.repository}:pull")
        send = self.login is not None and may_receive_credentials(realm, self.where.origin)
        credential = Credential(self.login.header(), realm) if send and self.login else None
        reply = self.transport.send("GET", realm, {"Accept": "application/json"}, credential,
                                    TOKEN_LIMIT, params)
        if reply.status in (401, 403):
            raise self._refused(reply)
        self._raise_for(reply)
        token = _token_of(reply.body)
        if token is None:
            raise AuthError(f"token service of {self.where.registry} answered without a token; "
                            "check the registry's auth configuration")
        return token

    def _raise_for(self, reply: Reply) -> None:
        if reply.status in (401, 403):
            raise self._refused(reply)
        if reply.status == 429 or reply.status >= 500:
            raise RetryableError(f"registry {self.where.registry} answered {self.answer(reply)}; "
                                 "retry later", _retry_after(reply))

    def _refused(self, reply: Reply) -> AuthError:
        what = f"registry {self.where.registry} refused access to {self.where.repository}"
        if self.login is None:
            return AuthError(f"{what} ({self.answer(reply)}) without credentials; set "
                             "PROMOTER_REGISTRY_USER and PROMOTER_REGISTRY_PASSWORD or "
                             "docker login, or pass --no-registry")
        return AuthError(f"{what} ({self.answer(reply)}) with the credentials from "
                         f"{self.login.source}; check them and their pull permission")

    def answer(self, reply: Reply) -> str:
        """The registry's answer as one redacted line: ``404 MANIFEST_UNKNOWN: ...``."""
        secrets = [s for s in (self._token, self.login.token if self.login else None) if s]
        return redact(f"{reply.status} {_errors(reply.body)}".strip(), secrets)


def check_digest(body: bytes, digest: str, where: Endpoint) -> None:
    algorithm, _, expected = digest.partition(":")
    known = algorithm in ("sha256", "sha512")
    if not known or hashlib.new(algorithm, body).hexdigest() != expected:
        raise PromoterError(f"registry {where.registry} sent content for {where.repository} that "
                            f"does not match its digest {digest[:19]}...; refusing it")


def _errors(body: bytes) -> str:
    """``CODE: message`` of a distribution error body; the raw text otherwise."""
    try:
        data: Any = json.loads(body)
        found = data.get("errors") if isinstance(data, dict) else None
        if isinstance(found, list) and found:
            return "; ".join(f"{e.get('code', '?')}: {e.get('message', '')}".strip()
                             for e in found[:3] if isinstance(e, dict))
    except ValueError:
        pass
    return body[:300].decode("utf-8", "replace")


def _token_of(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    token = (data.get("token") or data.get("access_token")) if isinstance(data, dict) else None
    return token if isinstance(token, str) and token else None


def _retry_after(reply: Reply) -> float | None:
    try:
        return float(reply.headers.get("retry-after", ""))
    except ValueError:
        return None
