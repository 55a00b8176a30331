"""A threaded HTTP server bound to 127.0.0.1 only, for the sandbox and the preview, that a web page cannot use.

Binding to loopback keeps other machines out, not the browser on this one: a page on any site can send requests to
127.0.0.1, and with DNS rebinding read the answers. So every request must name this server in its Host header
(127.0.0.1, localhost or [::1], with this port), a browser's cross-site request is refused, and an idle or half-open
connection is closed after IDLE_TIMEOUT seconds so that a few stalled clients cannot hold every thread.
"""

from __future__ import annotations

import errno
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from mailpipe.errors import MailpipeError

IDLE_TIMEOUT = 15.0
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
HOST, ORIGIN, FETCH_SITE = "Host", "Origin", "Sec-Fetch-Site"  # header names, read without regard to case


class LoopbackHandler(BaseHTTPRequestHandler):
    server: LoopbackServer
    timeout = IDLE_TIMEOUT  # a socket timeout on every read and write of the connection

    def setup(self) -> None:
        """No Nagle delay: a handler writes its headers and then its body, and on a kept-alive connection the body
        would wait for the client's delayed ACK (tens of milliseconds per response)."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def foreign(self) -> str | None:
        """Why this request must be refused, or None: a Host that is not this server (DNS rebinding), or a browser
        request from another site (its Origin, or Sec-Fetch-Site: cross-site)."""
        port = self.server.server_port
        host = (self.headers.get(HOST) or "").strip().lower()
        if host not in {f"{name}:{port}" for name in LOOPBACK_NAMES}:
            return f"the Host header {host[:60]!r} is not this server (127.0.0.1:{port})"
        origin = (self.headers.get(ORIGIN) or "").strip().lower().rstrip("/")
        if origin and origin not in {f"http://{name}:{port}" for name in LOOPBACK_NAMES}:
            return f"a request from another site ({origin[:60]})"
        if (self.headers.get(FETCH_SITE) or "").lower() == "cross-site":
            return "a request from another site"
        return None


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, port: int, handler: type[BaseHTTPRequestHandler]):
        try:
            super().__init__(("127.0.0.1", port), handler)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise MailpipeError(f"port {port} on 127.0.0.1 is already in use; choose another with --port") from None
            raise MailpipeError(f"cannot listen on 127.0.0.1:{port}: {err.strerror or err}") from None

    def serve_forever(self, poll_interval: float = 0.02) -> None:  # pragma: no mutate (below)
        """As socketserver serves, but a shutdown is seen within 20 ms instead of 500: every command that runs the
        embedded sandbox waits for it at the end. Not mutated: another interval changes only how soon a shutdown is
        seen (a speed, not a behaviour), and None never sees one (a hang, not a failing test)."""
        super().serve_forever(poll_interval)  # pragma: no mutate

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (killed, timed out, a closed page) is normal; anything else is still shown."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            # equivalent mutants: socketserver's report reads only the client address, never `request`
            super().handle_error(request, client_address)  # pragma: no mutate
