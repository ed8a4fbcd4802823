"""One way the test servers listen: a threading HTTP server on 127.0.0.1, on a
free port, optionally behind TLS, served from a daemon thread."""

from __future__ import annotations

import ssl
import threading
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
