"""One way the test servers listen: a threading HTTP server on 127.0.0.1, on a
free port, optionally behind TLS, served from a daemon thread."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def serve(handler: type[BaseHTTPRequestHandler], tls: tuple[Path, Path] | None = None,
          poll: float = 0.5) -> ThreadingHTTPServer:
    """Start ``handler`` on 127.0.0.1:0 (https with ``tls`` = (certificate, key));
    the caller stops it with ``shutdown()`` and ``server_close()``."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, args=(poll,), daemon=True).start()
    return httpd


@contextlib.contextmanager
def silent_port() -> Iterator[socket.socket]:
    """A port on 127.0.0.1 that records connection attempts and never answers
    (``connections`` counts them): where a test proves nothing was sent."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    try:
        yield server
    finally:
        server.close()


def connections(server: socket.socket) -> int:
    """How many connections reached ``server`` (each is accepted and closed)."""
    count = 0
    while True:
        try:
            conn, _ = server.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1
