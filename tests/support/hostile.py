"""Hostile HTTP servers on 127.0.0.1: they redirect, echo, stall, trickle and flood.

    with HostileServer() as api, HostileServer() as other:
        api.reply = redirect(other.url + "/steal")   # every request: 302 to another origin
        ...
        assert other.seen == [] or all(not r.credentials for r in other.seen)

``reply`` maps each request to a ``Reply`` (status, headers, body). A reply with
``trickle`` sends its body one byte per ``trickle`` seconds; ``stall`` waits that
long before answering at all. Every request is recorded in ``seen`` with its
headers, so a test can assert that a credential never reached an origin.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from support.loopback import serve

CREDENTIAL_HEADERS = ("authorization", "private-token", "job-token")


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]

    @property
    def credentials(self) -> dict[str, str]:
        return {k: v for k, v in self.headers.items() if k in CREDENTIAL_HEADERS}


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    body: bytes = b"{}"
    trickle: float = 0.0  # seconds between body bytes
    stall: float = 0.0  # seconds before anything is sent
    length: int | None = None  # Content-Length to announce (default: len(body); -1: none,
    # the body ends when the connection closes)


def redirect(location: str, status: int = 302) -> Callable[[Seen], Reply]:
    return lambda seen: Reply(status, {"Location": location + seen.path,
                                       "Content-Length": "0"}, b"")


def echo(status: int) -> Callable[[Seen], Reply]:
    """An error whose JSON message quotes every request header back."""
    def answer(seen: Seen) -> Reply:
        text = "bad request; you sent " + "; ".join(f"{k}: {v}" for k, v in seen.headers.items())
        return Reply(status, body=json.dumps({"message": text, "error": text}).encode())

    return answer


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


class HostileServer:
    def __init__(self, tls: tuple[Path, Path] | None = None) -> None:
        self.tls = tls  # (certificate, key): serve https
        self.reply: Callable[[Seen], Reply] = lambda seen: Reply()
        self.seen: list[Seen] = []
        self._httpd: ThreadingHTTPServer | None = None
        self.stop_event = threading.Event()

    def __enter__(self) -> HostileServer:
        handler = type("Handler", (_Handler,), {"state": self})
        self._httpd = serve(handler, self.tls, poll=0.05)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop_event.set()
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def url(self) -> str:
        assert self._httpd is not None
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._httpd.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    state: HostileServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._answer()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _answer(self) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        if size:
            self.rfile.read(size)
        seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
        self.state.seen.append(seen)
        reply = self.state.reply(seen)
        if reply.stall and self.state.stop_event.wait(reply.stall):
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.length == -1:
            self.send_header("Connection", "close")
            self.close_connection = True
        elif "Content-Length" not in reply.headers:
            length = len(reply.body) if reply.length is None else reply.length
            self.send_header("Content-Length", str(length))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self._body(reply)

    def _body(self, reply: Reply) -> None:
        if not reply.trickle:
            self.wfile.write(reply.body)
            return
        for byte in reply.body:
            if self.state.stop_event.wait(reply.trickle):
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()


def flood(size: int, announced: bool = True) -> Callable[[Seen], Reply]:
    """A 200 JSON body of ``size`` bytes (spaces, then ``{}``); with ``announced=False``
    no Content-Length: the client learns the size only by reading."""
    body = b" " * (size - 2) + b"{}"
    return lambda seen: Reply(body=body, length=None if announced else -1)


__all__ = ["HostileServer", "Reply", "Seen", "echo", "flood", "nested", "redirect"]
