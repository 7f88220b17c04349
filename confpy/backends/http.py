"""HTTP plumbing the HTTP backends share: nodes and failover, TLS, one pooled client,
failure texts, and a way to end a blocked request from another thread."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import ssl
import threading
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from confpy.backends.base import BackendSettings
from confpy.errors import BackendError, BackendUnavailable, ConfigError
from confpy.golang.strconv import NumError, parse_uint

__all__ = [
    "CuttableSocket",
    "Nodes",
    "failure_reason",
    "header_int",
    "make_client",
    "normalize_node",
    "not_json",
    "snippet",
    "ssl_context",
    "status_text",
    "tls_verify",
]

def header_int(response: httpx.Response, name: str) -> int | None:
    """An index header (``X-Etcd-Index``, ``X-Consul-Index``) as Go's ParseUint reads it;
    None when it is missing or not a number."""
    try:
        return parse_uint(response.headers[name], 10, 64)
    except (KeyError, NumError):
        return None


class Nodes:
    """A store's nodes, tried in order starting with the last one that answered.

    ``store`` names the store in messages: ``cannot reach etcd at http://a:2379:
    connection refused``, or every node's reason when several were tried.
    """

    def __init__(self, store: str, nodes: Sequence[str]) -> None:
        self.store = store
        self.urls = tuple(nodes)
        self._preferred = 0

    def __iter__(self) -> Iterator[tuple[int, str]]:
        """(position, node) pairs in the order to try them."""
        start, count = self._preferred, len(self.urls)
        for i in range(count):
            yield (start + i) % count, self.urls[(start + i) % count]

    def answered(self, position: int) -> None:
        self._preferred = position  # a plain int store: atomic under the GIL

    @property
    def preferred(self) -> str:
        return self.urls[self._preferred]

    def unavailable(self, failures: Sequence[str]) -> BackendUnavailable:
        """The error once every node failed; ``failures`` are ``<node>: <reason>``."""
        if len(failures) == 1:
            return BackendUnavailable(f"cannot reach {self.store} at {failures[0]}")
        return BackendUnavailable(f"cannot reach {self.store} at any node: {'; '.join(failures)}")

    def __str__(self) -> str:
        return ", ".join(self.urls)


def snippet(text: str, limit: int = 120) -> str:
    """The start of a body for a message: whitespace folded, at most ``limit`` characters."""
    return " ".join(text.split())[:limit]


def status_text(response: httpx.Response) -> str:
    """``503 Service Unavailable: <the start of the body>``."""
    start = snippet(response.text)
    return f"{response.status_code} {response.reason_phrase}" + (f": {start}" if start else "")


def not_json(store: str, node: str, response: httpx.Response) -> BackendError:
    return BackendError(
        f"{store} at {node} answered with something not JSON: {snippet(response.text, 80)!r}"
    )


class CuttableSocket:
    """The socket under a client's long-poll or stream, so another thread can end it.

    Closing an httpx client does not wake a thread blocked reading a socket, but a
    ``shutdown()`` of the socket does. httpcore reports each new connection's stream to
    the ``trace`` request extension; pass ``trace`` with every request of a client that
    keeps at most one connection, and the last socket reported is the one a blocked
    request reads. A request brackets itself with ``begin()`` and ``end()``; a cut that
    comes while none is under way is kept for the next one, which then does not start.
    """

    def __init__(self, keepalive: bool = False) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._keepalive = keepalive
        self._active = 0
        self._pending = False  # a cut came while no request was under way
        self._doomed = False  # a cut came before the request's connection was made
        self._cuts = 0

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            sock = info["return_value"].get_extra_info("socket")
            if self._keepalive:
                _keepalive(sock)
            with self._lock:
                self._sock = sock
                if self._doomed:
                    self._shutdown()

    def begin(self) -> int | None:
        """A request starts: the cut count to give ``was_cut`` when it ends, or None when
        a cut is pending (the request must not start)."""
        with self._lock:
            if self._pending:
                self._pending = False
                return None
            self._active += 1
            self._doomed = False
            return self._cuts

    def end(self) -> None:
        with self._lock:
            self._active -= 1

    def was_cut(self, since: int) -> bool:
        return self._cuts != since

    def cut(self) -> None:
        """End the request under way (it fails, or returns what it has), or the next."""
        with self._lock:
            self._cuts += 1
            if self._active:
                self._doomed = True
            else:
                self._pending = True
            self._shutdown()

    def _shutdown(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock = None


def _keepalive(sock: socket.socket) -> None:
    """Notice a vanished peer on a quiet stream (confd's gRPC keepalive: 10 s, then 3 s)."""
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 3)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)


def normalize_node(node: str, scheme: str, store: str = "etcd") -> str:
    """``host:port`` gets ``<scheme>://`` (confd needs a scheme; we add the -scheme one)."""
    node = node.strip()
    if "://" not in node:
        node = f"{scheme or 'http'}://{node}"
    parts = urlsplit(node)
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise ConfigError(f"invalid {store} node {node!r}: the port is not a number") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"invalid {store} node {node!r}: want http://host:port or https://host:port")
    if parts.username or parts.password:  # they would show in logs and error messages
        raise ConfigError(
            f"{store} node {parts.scheme}://{parts.hostname}: give credentials with -basic-auth "
            "-username -password, not in the node URL"
        )
    return node.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def failure_reason(exc: BaseException, timeout: float) -> str:
    """A short lowercase reason for a transport failure, as Go would print it."""
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connection timed out after {timeout:g}s"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:g}s"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection closed without an answer"
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, socket.gaierror) and cause.strerror:
            return cause.strerror.lower()
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"tls: certificate verify failed: {cause.verify_message}"
        if isinstance(cause, ssl.SSLError):
            return f"tls: {cause.reason or cause}".lower().replace("_", " ")
        if isinstance(cause, OSError) and cause.errno:
            return os.strerror(cause.errno).lower()
        cause = cause.__cause__ or cause.__context__
    return str(exc) or type(exc).__name__


def ssl_context(settings: BackendSettings) -> ssl.SSLContext:
    """confd's TLS settings: the CA file replaces the system roots, as Go's RootCAs does."""
    try:
        context = ssl.create_default_context(cafile=settings.client_cakeys or None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load CA file {settings.client_cakeys}: {exc}") from exc
    if bool(settings.client_cert) != bool(settings.client_key):
        raise ConfigError("-client-cert and -client-key must be given together")
    if settings.client_cert:
        try:
            context.load_cert_chain(settings.client_cert, settings.client_key)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"cannot load client certificate {settings.client_cert} "
                f"with key {settings.client_key}: {exc}"
            ) from exc
    if settings.client_insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def tls_verify(nodes: Sequence[str], settings: BackendSettings) -> ssl.SSLContext | bool:
    """What the client verifies: confd's TLS settings when a node is https or TLS files
    are given; else False, as there is nothing to verify (and loading the CA bundle would
    cost every start ~30 ms)."""
    uses_tls = any(n.startswith("https://") for n in nodes) or any(
        (settings.client_cert, settings.client_key, settings.client_cakeys)
    )
    return ssl_context(settings) if uses_tls else False


def make_client(
    nodes: Sequence[str],
    verify: ssl.SSLContext | bool,
    timeout: float,
    keepalive: int,
    auth: tuple[str, str] | None = None,
) -> httpx.Client:
    """One pooled client for ``nodes``. Proxies come from the environment as in Go, but
    like Go's ProxyFromEnvironment a loopback node is never proxied."""
    hosts = {urlsplit(n).hostname or "" for n in nodes}
    mounts: dict[str, httpx.BaseTransport | None] = {
        f"all://[{host}]" if ":" in host else f"all://{host}": None for host in hosts if _is_loopback(host)
    }
    return httpx.Client(
        auth=auth,
        verify=verify,
        timeout=httpx.Timeout(timeout),
        # No cap on connections: a capped pool would make concurrent callers wait,
        # and fail with a misleading timeout.
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=keepalive),
        mounts=mounts,
    )
