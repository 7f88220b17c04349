"""An in-process implementation of Consul's KV HTTP API, for the consul backend's tests.

No Consul server can be installed here (it is neither in Debian nor on PyPI), so the
tests run against this one, written from Consul's API documentation (``/v1/kv``,
blocking queries, ACL tokens) and its state store's index rules:

- ``PUT /v1/kv/<key>[?flags=N]`` (body: the value), ``DELETE /v1/kv/<key>[?recurse]``;
- ``GET /v1/kv/<key>`` with ``recurse``, ``keys`` (and ``separator``), ``raw``: a JSON
  array of ``{"CreateIndex", "ModifyIndex", "LockIndex", "Flags", "Key", "Value"}`` with
  the value in base64 (null for none), or 404 when nothing matches;
- ``X-Consul-Index`` on every read: for a listing, the highest ModifyIndex under the
  prefix, tombstones of deleted keys included, else the whole table's index (as
  ``kvsListTxn``); ``X-Consul-KnownLeader`` and ``X-Consul-LastContact`` too;
- blocking queries: ``index=N`` (N > 0) waits until the read's index exceeds N or
  ``wait`` passes (``10s``, ``5m``; 5 minutes by default, 10 at most, plus up to
  wait/16 of jitter), then answers with the current result;
- ACLs (``acl_tokens`` set): the token from ``X-Consul-Token``, ``Authorization:
  Bearer`` or ``?token=``; an unknown one gets ``403 ACL not found``; a listing keeps
  the entries the token may read; a read it may not do at all gets ``403 Permission
  denied``;
- TLS with client certificates (``tls``), basic auth (``basic_auth``: a proxy in front);
- test controls: ``restore(snapshot)`` puts an older state back as a raft snapshot
  restore does (the index goes backwards, blocked queries are released),
  ``index_override`` makes every answer carry a given index (0, say), ``stop()`` and
  ``start()`` on the same port, and ``requests`` records what clients sent.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import http.server
import json
import random
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from servers import TlsFiles, free_port

__all__ = ["ConsulRequest", "FakeConsul"]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
MAX_WAIT = 600.0
DEFAULT_WAIT = 300.0


def _duration(text: str) -> float:
    total, pos = 0.0, 0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            raise ValueError(text)
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(text)
    return total


@dataclass(frozen=True)
class ConsulRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class _Entry:
    create_index: int
    modify_index: int
    flags: int
    value: bytes | None

    def json(self, key: str) -> dict[str, Any]:
        return {
            "LockIndex": 0,
            "Key": key,
            "Flags": self.flags,
            "Value": base64.b64encode(self.value).decode() if self.value is not None else None,
            "CreateIndex": self.create_index,
            "ModifyIndex": self.modify_index,
        }


@dataclass
class _State:
    entries: dict[str, _Entry] = field(default_factory=dict)
    tombstones: dict[str, int] = field(default_factory=dict)
    index: int = 1  # the kvs table's index (raft index of the last KV write)


# Its own generator: the module's global one belongs to the test run (hypothesis watches it).
_JITTER = random.Random()


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm holds
        # the body until the client's delayed ACK, 40 ms later.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.owner._connections.add(self.connection)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.owner._connections.discard(self.connection)

    def _route(self) -> None:
        owner = self.server.owner
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in self.headers.items()}
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        owner.requests.append(ConsulRequest(self.command, unquote(parts.path), query, headers))
        if owner.basic_auth is not None:
            expected = "Basic " + base64.b64encode(":".join(owner.basic_auth).encode()).decode()
            if headers.get("authorization") != expected:
                self._answer(401, b"Unauthorized", "text/plain")
                return
        if not parts.path.startswith("/v1/kv/"):
            self._answer(404, b"404 page not found", "text/plain")
            return
        key = unquote(parts.path[len("/v1/kv/") :])
        token = headers.get("x-consul-token") or ""
        if not token and headers.get("authorization", "").startswith("Bearer "):
            token = headers["authorization"][7:]
        token = token or (query.get("token") or [""])[0]
        status, payload, index = owner._serve(self.command, key, query, body, token)
        extra = {"X-Consul-Index": str(index)} if index is not None else {}
        if self.command == "GET":
            extra.update({"X-Consul-KnownLeader": "true", "X-Consul-LastContact": "0"})
        if isinstance(payload, (bytes, str)):
            data = payload.encode() if isinstance(payload, str) else payload
            ctype = "text/plain; charset=utf-8"
        else:
            data, ctype = json.dumps(payload).encode(), "application/json"
        self._answer(status, data, ctype, extra)

    do_GET = do_PUT = do_DELETE = _route

    def _answer(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        if self.server.owner._stopping.is_set():
            self.close_connection = True
            return
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: FakeConsul

    def __init__(self, address: tuple[str, int], owner: FakeConsul) -> None:
        self.owner = owner
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        context = self.owner._server_context
        if context is not None:
            sock = context.wrap_socket(sock, server_side=True)
        return sock, address


@dataclass
class FakeConsul:
    """Consul's KV HTTP API on a loopback port. ``put``/``delete``/``snapshot`` set up
    data directly; clients go through HTTP."""

    tls: TlsFiles | None = None  # serve https and require a client certificate
    acl_tokens: dict[str, tuple[str, ...]] | None = None  # token -> key prefixes it may read
    basic_auth: tuple[str, str] | None = None
    port: int = field(default_factory=free_port)
    index_override: int | str | None = None  # a string is sent as the header, verbatim
    requests: list[ConsulRequest] = field(default_factory=list)
    _state: _State = field(default_factory=_State)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _generation: int = 0  # bumped by restore(): blocked queries return at once
    _server: _Server | None = None
    _thread: threading.Thread | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)
    _connections: set[Any] = field(default_factory=set)
    _server_context: ssl.SSLContext | None = None

    # -- the process ----------------------------------------------------------------------

    def start(self) -> FakeConsul:
        if self._server is not None:
            return self
        if self.tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(self.tls.ca))
            context.load_cert_chain(str(self.tls.server_cert), str(self.tls.server_key))
            context.verify_mode = ssl.CERT_REQUIRED
            self._server_context = context
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", self.port), self)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-consul", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cutting every open connection (blocked queries included)."""
        if self._server is None:
            return
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        self._server.shutdown()
        self._server.server_close()
        for connection in list(self._connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.endpoint}"

    # -- data, directly -------------------------------------------------------------------

    def put(self, key: str, value: str | bytes | None, flags: int = 0) -> int:
        data = value.encode() if isinstance(value, str) else value
        with self._changed:
            state = self._state
            state.index += 1
            old = state.entries.get(key)
            state.entries[key] = _Entry(old.create_index if old else state.index, state.index, flags, data)
            state.tombstones.pop(key, None)
            self._changed.notify_all()
            return state.index

    def delete(self, key: str, recurse: bool = False) -> int:
        with self._changed:
            state = self._state
            doomed = [k for k in state.entries if k.startswith(key)] if recurse else [k for k in (key,) if k in state.entries]
            if doomed:
                state.index += 1
                for k in doomed:
                    del state.entries[k]
                    state.tombstones[k] = state.index
                self._changed.notify_all()
            return state.index

    def snapshot(self) -> _State:
        with self._changed:
            return copy.deepcopy(self._state)

    def restore(self, snapshot: _State) -> None:
        """An older state put back, as a raft snapshot restore: indexes go backwards and
        every blocked query returns at once (Consul abandons the old state store)."""
        with self._changed:
            self._state = copy.deepcopy(snapshot)
            self._generation += 1
            self._changed.notify_all()

    @property
    def index(self) -> int:
        return self._state.index

    def blocking_requests(self) -> list[ConsulRequest]:
        return [r for r in self.requests if r.method == "GET" and "index" in r.query]

    # -- the API ----------------------------------------------------------------------------

    def _readable(self, token: str, key: str) -> bool | None:
        """None: the token is unknown (403 ACL not found)."""
        if self.acl_tokens is None:
            return True
        prefixes = self.acl_tokens.get(token)
        if prefixes is None:
            return None
        return any(key.startswith(p) for p in prefixes)

    def _list_index(self, state: _State, prefix: str) -> int:
        if not prefix:
            return state.index
        found = [e.modify_index for k, e in state.entries.items() if k.startswith(prefix)]
        found += [i for k, i in state.tombstones.items() if k.startswith(prefix)]
        return max(found) if found else state.index

    def _read(self, key: str, query: dict[str, list[str]], token: str) -> tuple[int, Any, int]:
        state = self._state
        recurse = "recurse" in query or "keys" in query
        if recurse:
            index = self._list_index(state, key)
            keys = sorted(k for k in state.entries if k.startswith(key))
        else:
            entry = state.entries.get(key)
            index = entry.modify_index if entry else self._list_index(state, key)
            keys = [key] if entry else []
        if self.index_override is not None:
            index = self.index_override  # type: ignore[assignment]
        if self.acl_tokens is not None:
            allowed = self._readable(token, key)
            if allowed is None:
                return 403, "ACL not found", index
            keys = [k for k in keys if self._readable(token, k)]
            if not keys and not allowed:
                return 403, "Permission denied", index
        if not keys:
            return 404, b"", index
        if "keys" in query:
            separator = (query.get("separator") or [""])[0]
            listed: list[str] = []
            for k in keys:
                rest = k[len(key) :]
                cut = rest.find(separator) if separator else -1
                item = key + rest[: cut + len(separator)] if cut >= 0 else k
                if item not in listed:
                    listed.append(item)
            return 200, listed, index
        if "raw" in query and not recurse:
            return 200, state.entries[key].value or b"", index
        return 200, [state.entries[k].json(k) for k in keys], index

    def _serve(self, method: str, key: str, query: dict[str, list[str]], body: bytes, token: str) -> tuple[int, Any, int | None]:
        if method == "PUT":
            flags = int((query.get("flags") or ["0"])[0])
            return 200, True, self.put(key, body, flags)
        if method == "DELETE":
            return 200, True, self.delete(key, "recurse" in query)
        try:
            wanted = int((query.get("index") or ["0"])[0])
            wait = _duration(query["wait"][0]) if "wait" in query else DEFAULT_WAIT
        except ValueError as exc:
            return 400, f"Invalid blocking query parameter: {exc}", None
        wait = min(wait, MAX_WAIT)
        deadline = time.monotonic() + wait + _JITTER.uniform(0, wait / 16)
        with self._changed:
            generation = self._generation
            while True:
                status, payload, index = self._read(key, query, token)
                if wanted <= 0 or not isinstance(index, int) or index > wanted or generation != self._generation or self._stopping.is_set():
                    return status, payload, index
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return status, payload, index
                self._changed.wait(remaining)
