"""HTTP plumbing the HTTP backends share: nodes, TLS, one pooled client, failure reasons."""

from __future__ import annotations

import ipaddress
import os
import posixpath
import socket
import ssl
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx

from confpy.backends.base import BackendSettings
from confpy.errors import ConfigError

__all__ = ["clean_key", "failure_reason", "make_client", "normalize_node", "ssl_context", "tls_verify"]


def normalize_node(node: str, scheme: str) -> str:
    """``host:port`` gets ``<scheme>://`` (confd needs a scheme; we add the -scheme one)."""
    node = node.strip()
    if "://" not in node:
        node = f"{scheme or 'http'}://{node}"
    parts = urlsplit(node)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"invalid etcd node {node!r}: want http://host:port or https://host:port")
    if parts.username or parts.password:  # they would show in logs and error messages
        raise ConfigError(
            f"etcd node {parts.scheme}://{parts.hostname}: give credentials with -basic-auth "
            "-username -password, not in the node URL"
        )
    return node.rstrip("/")


def clean_key(key: str) -> str:
    """Go's path.Clean of an absolute key, as the Go client builds its URLs."""
    cleaned = posixpath.normpath("/" + key.lstrip("/"))
    return "/" + cleaned.lstrip("/")


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
