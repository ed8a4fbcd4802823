"""A small OCI distribution client: manifests and blobs of one repository.

Requests carry Basic credentials (to the registry's origin only) when there
are some. A registry whose token realm is remembered (promoter.registry.realms)
is asked for a token first, so the first request already carries it. A 401 is
answered once: a Bearer challenge by fetching a token from the realm it names
(then remembered, and reused for the rest of the run); a Basic one after a
remembered realm by forgetting it and sending the credentials. A remembered
realm that fails is forgotten and the run goes on as without it: never more
than one token from it and one from the challenge. Statuses become promoter's errors:
401/403 AuthError (exit 3), 429/5xx RetryableError (exit 1); a 404 is returned
to the caller, who knows what was missing. Server text is quoted redacted.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from promoter.credentials import Credentials
from promoter.errors import AuthError, PromoterError, RetryableError
from promoter.registry import auth
from promoter.registry.realms import KNOWN, Realm, Realms
from promoter.registry.reference import Endpoint
from promoter.registry.safety import may_ask_remembered, may_receive_credentials, redact
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
log = logging.getLogger("promoter.registry")


class Client:
    """Reads one repository of one registry."""

    def __init__(self, where: Endpoint, login: Credentials | None, transport: Transport,
                 realms: Realms | None = None) -> None:
        self.where = where
        self.login = login
        self.transport = transport
        self.realms = realms or Realms(None)
        self._token: str | None = None
        self._asked: Realm | None = None  # the remembered realm a token was asked from
        self._started = self._answered = False
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
        first = not self._started
        if first:
            self._started = True
            self._token = self._remembered_token()
        reply = self.transport.send(method, url, headers, self._credential(), limit)
        if reply.status == 401 and not self._answered:
            self._answered = True
            if self._answer(auth.parse_challenge(reply.headers.get("www-authenticate"))):
                reply = self.transport.send(method, url, headers, self._credential(), limit)
        elif first and self._asked is not None and self._token is None:
            self.realms.forget(self.where.origin)  # its realm failed, and no challenge came
        self._raise_for(reply)
        return reply

    def _remembered_token(self) -> str | None:
        """A token from the realm remembered for this registry, when its rule allows."""
        realm = self.realms.remembered(self.where.origin)
        if realm is None or not may_ask_remembered(
                realm.url, self.where.origin, known=KNOWN.get(self.where.origin) == realm,
                credentials=self.login is not None):
            return None
        self._asked = realm
        try:
            return self._fetch_token(realm.url, self._params(realm.service, None))
        except PromoterError as exc:
            log.info("remembered token realm of %s not used: %s", self.where.registry, exc)
            return None

    def _answer(self, challenge: auth.Challenge | None) -> bool:
        """Answer the registry's 401 challenge; whether to send the request again."""
        if challenge is None or challenge.scheme != "bearer":
            if self._asked is None:
                return False
            self.realms.forget(self.where.origin)
            had_token, self._token = self._token is not None, None
            return had_token and self.login is not None
        realm = Realm(challenge.params.get("realm", ""), challenge.params.get("service"))
        params = self._params(realm.service, challenge.params.get("scope"))
        if self._token is not None and realm == self._asked and params == self._asked_params():
            return False  # the same question again would get the same token
        if not realm.url.startswith(("https://", "http://")):
            raise AuthError(f"registry {self.where.registry} sent a token challenge without a "
                            "usable realm; check the registry's auth configuration")
        self._token = self._fetch_token(realm.url, params)
        self.realms.learn(self.where.origin, realm)
        return True

    def _params(self, service: str | None, scope: str | None) -> dict[str, str]:
        params = {"scope": scope or f"repository:{self.where.repository}:pull"}
        return {**params, "service": service} if service else params

    def _asked_params(self) -> dict[str, str] | None:
        return None if self._asked is None else self._params(self._asked.service, None)

    def _credential(self) -> Credential | None:
        if self._token is not None:
            return Credential(f"Bearer {self._token}", self.where.origin)
        if self.login is not None:
            return Credential(self.login.header(), self.where.origin)
        return None

    def _fetch_token(self, realm: str, params: dict[str, str]) -> str:
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
