"""The HTTP endpoints of -metrics-addr: /metrics, /health and /ready.

The standard library's ``ThreadingHTTPServer`` in a daemon thread: three read-only
endpoints scraped every few seconds need nothing more. Each request reads the metrics
registry or the health state under their own locks, so it never waits for the loop.
"""

from __future__ import annotations

import http.server
import logging
import socket
import threading
from typing import Any

from .errors import ConfigError
from .health import Health
from .metrics import CONTENT_TYPE, Metrics
from .observe import Observer

__all__ = ["OpsServer", "parse_address"]

log = logging.getLogger("confpy.opsserver")


def parse_address(address: str) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or ``:port`` (every interface) to (host, port)."""
    host, colon, port = address.rpartition(":")
    if not colon or not port.isdigit() or not 0 <= int(port) < 65536:  # 0: any free port
        raise ConfigError(f"-metrics-addr {address!r} must be host:port, e.g. 127.0.0.1:9180")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


_IDLE_POLL = 3600.0  # seconds the server loop may sleep with nothing to do

class OpsServer(Observer):
    """The server; an observer only to be closed with the others when the run ends."""

    def __init__(self, address: str, metrics: Metrics, health: Health) -> None:
        host, port = parse_address(address)
        owner = self

        class Handler(_Handler):
            server_owner = owner

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_class = type("_Server", (http.server.ThreadingHTTPServer,), {"address_family": family})
        try:
            self.httpd: http.server.ThreadingHTTPServer = server_class((host or "", port), Handler)
        except OSError as exc:
            raise ConfigError(f"cannot listen on -metrics-addr {address}: {exc.strerror or exc}") from None
        self.httpd.daemon_threads = True
        self.metrics = metrics
        self.health = health
        # The server sleeps until a request comes: the standard poll of every 0.5 s was
        # most of what -metrics-addr cost an idle daemon. close() wakes it instead.
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, args=(_IDLE_POLL,), name="confpy-metrics", daemon=True
        )

    @property
    def address(self) -> str:
        """Where it listens, the port picked when 0 was asked for."""
        host, port = self.httpd.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        return f"[{name}]:{port}" if ":" in name else f"{name}:{port}"

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        if self._thread.is_alive():
            stopper = threading.Thread(target=self.httpd.shutdown, daemon=True)
            stopper.start()
            while stopper.is_alive():  # a connection ends the wait; until the loop sees it
                self._poke()
                stopper.join(0.05)
        self.httpd.server_close()

    def _poke(self) -> None:
        host, port = self.httpd.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            with socket.create_connection((name if name not in ("", "0.0.0.0", "::") else "localhost", port), timeout=1):
                pass
        except OSError:
            pass


class _Handler(http.server.BaseHTTPRequestHandler):
    server_owner: OpsServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        owner = self.server_owner
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._answer(200, owner.metrics.exposition(), CONTENT_TYPE)
        elif path in ("/health", "/healthz"):
            ok, why = owner.health.health()
            self._answer(200 if ok else 503, f"{why}\n".encode())
        elif path in ("/ready", "/readyz"):
            ok, why = owner.health.ready()
            self._answer(200 if ok else 503, f"{why}\n".encode())
        else:
            self._answer(404, b"not found: try /metrics, /health or /ready\n")

    def do_HEAD(self) -> None:
        self.do_GET()

    def _answer(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)
