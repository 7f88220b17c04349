"""etcd through the v3 API's JSON gateway (``-backend etcdv3``), with httpx and no gRPC.

etcd serves its gRPC API as JSON over HTTP/1.1 (``POST /v3/kv/range``...; etcd 3.3 under
``/v3beta``): keys and values are base64, 64-bit integers are JSON strings, and a failure
is ``{"error", "code", "message"}`` with the gRPC code. Reads are range gets in one
transaction (at most 128 a request, as confd does), so one request reads a resource's keys
at one revision, and further requests are pinned to it; very many keys are read as one
range of their common ancestor. ``watch`` streams ``POST /v3/watch``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import posixpath
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx

from confpy.backends.base import BackendSettings, Snapshot, path_key_matches
from confpy.backends.http import clean_key, failure_reason, make_client, normalize_node, tls_verify
from confpy.errors import BackendError, BackendUnavailable, ConfigError

__all__ = ["COALESCE_KEYS", "PAGE_SIZE", "TXN_OPS", "EtcdCompacted", "EtcdV3Backend"]

# etcd's default --max-txn-ops, and confd's batch size: one request reads this many keys.
TXN_OPS = 128
# Above this many keys, one range of their common ancestor beats several transactions
# (500 keys in a 1000-key directory: ~29 ms against ~75 ms on the 2-core test machine).
# Up to it, one transaction reads exactly the keys asked for (20 keys: ~5 ms, against
# ~24 ms for that directory).
COALESCE_KEYS = TXN_OPS
# Keys per answer; a longer range is read in further requests at the same revision.
PAGE_SIZE = 5000
# gRPC status codes the gateway reports in "code".
_FAILED_PRECONDITION = 9
_UNAVAILABLE = 14
_UNAUTHENTICATED = 16
_GUARD_POLL = 0.1  # how often a watch looks at its stop event


class EtcdCompacted(BackendError):
    """The watch's start revision is older than etcd's compacted history: read again.

    ``revision`` is the compaction revision. Re-read the keys, then watch from the new
    snapshot's index + 1.
    """

    def __init__(self, message: str, revision: int) -> None:
        super().__init__(message)
        self.revision = revision


class _NodeDown(Exception):
    """This node cannot serve now (the next one may); ``args[0]`` says why."""


class _Refused(BackendError):
    """etcd answered with an error: its gRPC ``code`` and ``message``."""

    def __init__(self, node: str, code: int | None, message: str) -> None:
        super().__init__(f"etcd at {node}: {_explain(message)}")
        self.code = code
        self.message = message


class _TokenRejected(Exception):
    """A watch was cancelled because the auth token expired."""


def _explain(message: str) -> str:
    if "user name is empty" in message:
        return f"{message} (etcd requires authentication: use -basic-auth -username -password)"
    return message


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _prefix_end(prefix: bytes) -> bytes:
    """The first key after every key starting with ``prefix`` (clientv3's GetPrefixRangeEnd)."""
    end = bytearray(prefix)
    for i in reversed(range(len(end))):
        if end[i] < 0xFF:
            end[i] += 1
            return bytes(end[: i + 1])
    return b"\0"  # etcd: from the key to the end of the keyspace


def _key_range(key: str) -> tuple[bytes, bytes]:
    """The range holding ``key`` and the keys under ``key + "/"``."""
    raw = key.encode()
    if raw.endswith(b"/"):  # the root: everything under "/"
        return raw, _prefix_end(raw)
    # "0" is the byte after "/": this skips "/apple" and "/app1" when reading "/app".
    return raw, raw + b"0"


def _wanted(keys: set[str]) -> Callable[[str], bool]:
    """``found`` is one of ``keys`` or under one of them (path_key_matches, for a set)."""
    if "/" in keys:
        return lambda found: found.startswith("/")

    def keep(found: str) -> bool:
        if found in keys:
            return True
        cut = found.find("/", 1)
        while cut != -1:
            if found[:cut] in keys:
                return True
            cut = found.find("/", cut + 1)
        return False

    return keep


def _decode_key(kv: dict[str, Any]) -> str | None:
    """The key of a v3 key-value, None when it is not UTF-8 (confd's maps cannot hold it)."""
    try:
        return base64.b64decode(kv.get("key", "")).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def _decode_value(kv: dict[str, Any]) -> str:
    return base64.b64decode(kv.get("value", "")).decode("utf-8", "surrogateescape")


def _header_revision(node: str, answer: dict[str, Any]) -> int:
    try:
        return int(answer["header"]["revision"])
    except (KeyError, TypeError, ValueError):
        raise BackendError(f"etcd at {node} answered without a revision") from None


def _keepalive(sock: socket.socket) -> None:
    """Notice a vanished peer on a quiet watch (confd's gRPC keepalive: 10 s, then 3 s)."""
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 3)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)


@dataclass(eq=False)  # identity: kept in a set
class _Watch:
    """One running watch, and its connection, so that another thread can end it.

    Closing an httpx client does not wake a thread blocked reading a socket, but a
    ``shutdown()`` of the socket does; httpcore hands each new connection's socket to the
    ``trace`` extension (the watch client keeps no idle connection, so every watch has
    its own). ``interrupted`` means stop: the watch returns. ``timed_out`` means the node
    did not confirm the watch in time: the next node is tried.
    """

    body: dict[str, Any]
    start_revision: int
    on_event: Callable[[str, str | None, int], None]
    stop: threading.Event
    interrupted: bool = False
    timed_out: bool = False
    deadline: float | None = None  # etcd must confirm the watch by then
    done: threading.Event = field(default_factory=threading.Event)
    _sock: socket.socket | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            sock = info["return_value"].get_extra_info("socket")
            _keepalive(sock)
            with self._lock:
                self._sock = sock
                if self.interrupted or self.timed_out:
                    self._shutdown()

    def arm(self, timeout: float) -> None:
        with self._lock:
            self._sock, self.timed_out = None, False
            self.deadline = time.monotonic() + timeout

    def cut(self, *, timed_out: bool = False) -> None:
        with self._lock:
            self.timed_out |= timed_out
            self.interrupted |= not timed_out
            self._shutdown()

    def _shutdown(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    @property
    def ending(self) -> bool:
        return self.interrupted or self.stop.is_set()

    def guard(self) -> None:
        """Runs beside the watch: cut it when ``stop`` is set or etcd is slow to confirm."""
        while not self.done.wait(_GUARD_POLL):
            deadline = self.deadline
            if self.stop.is_set():
                self.cut()
            elif deadline is not None and time.monotonic() > deadline:
                self.cut(timed_out=True)


class EtcdV3Backend:
    """The ``etcdv3`` backend: confd 0.16.0's v3 client semantics over the JSON gateway."""

    name = "etcdv3"
    prefix_ordered = True

    def __init__(self, settings: BackendSettings) -> None:
        if not settings.nodes:
            raise ConfigError("etcdv3 backend: no nodes given (-node)")
        has_tls_files = bool(
            settings.client_cakeys or (settings.client_cert and settings.client_key)
        )
        # confd's v3 client speaks TLS to host:port nodes when it has TLS files.
        scheme = "https" if has_tls_files or settings.scheme == "https" else "http"
        self.nodes = tuple(normalize_node(n, scheme) for n in settings.nodes)
        self._timeout = settings.timeout if settings.timeout and settings.timeout > 0 else 3.0
        self._user = (settings.username, settings.password) if settings.basic_auth else None
        self._verify = tls_verify(self.nodes, settings)
        self._lock = threading.Lock()
        self._auth_lock = threading.Lock()
        self._token: str | None = None  # "" once etcd said auth is off
        self._api: dict[str, str] = {}  # node -> "/v3", or "/v3beta" for etcd 3.3
        self._txn_ops = TXN_OPS  # halved if the server allows fewer
        self._preferred = 0  # index of the last node that answered
        self._closed = False
        self._watches: set[_Watch] = set()
        self._client = self._make_client(keepalive=4)
        self._watch_client = self._make_client(keepalive=0)

    def _make_client(self, keepalive: int) -> httpx.Client:
        return make_client(self.nodes, self._verify, self._timeout, keepalive)

    # -- Backend protocol -----------------------------------------------------------------

    def get_values(self, keys: Sequence[str]) -> Snapshot:
        unique = sorted({clean_key(k) for k in keys})
        if not unique:
            return Snapshot({}, None)
        try:
            try:
                return self._read(unique)
            except _Refused as exc:
                if "compacted" not in exc.message:
                    raise
                # The revision the first request pinned was compacted before the next one
                # read it: start over at the current revision.
                return self._read(unique)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise self._unexpected(self.nodes[self._preferred], exc) from exc

    def key_matches(self, requested: str, found: str) -> bool:
        return path_key_matches(requested, found)

    def sources(self) -> str:
        return ", ".join(self.nodes)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self.interrupt_watch()
        self._client.close()
        self._watch_client.close()

    # -- reads ------------------------------------------------------------------------

    def current_revision(self) -> int:
        """The answering member's current revision (needs no permission on any key)."""
        node, answer = self._call("/maintenance/status", {})
        return _header_revision(node, answer)

    def _read(self, keys: list[str]) -> Snapshot:
        values: dict[str, str] = {}
        if len(keys) > COALESCE_KEYS:
            # One range of the closest common directory, then only the wanted keys kept.
            ancestor = posixpath.commonpath(keys)
            revision = self._range(ancestor, None, None, _wanted(set(keys)), values)
            return Snapshot(dict(sorted(values.items())), revision)
        pinned: int | None = None
        start = 0
        while start < len(keys):
            batch = keys[start : start + self._txn_ops]
            ops = [{"request_range": self._range_request(*_key_range(k), pinned)} for k in batch]
            try:
                node, answer = self._call("/kv/txn", {"success": ops})
            except _Refused as exc:
                if "too many operations" not in exc.message or len(batch) == 1:
                    raise
                self._txn_ops = max(1, len(batch) // 2)  # the server's --max-txn-ops is lower
                continue
            revision = pinned if pinned is not None else _header_revision(node, answer)
            pinned = revision
            responses = answer.get("responses") or []
            if len(responses) != len(batch):
                raise BackendError(
                    f"etcd at {node} answered {len(responses)} reads for {len(batch)} keys"
                )
            for key, response in zip(batch, responses):
                first = (response or {}).get("response_range") or {}
                self._range(key, revision, first, partial(path_key_matches, key), values)
            start += len(batch)
        return Snapshot(dict(sorted(values.items())), pinned)

    def _range(
        self,
        key: str,
        revision: int | None,
        answer: dict[str, Any] | None,
        keep: Callable[[str], bool],
        into: dict[str, str],
    ) -> int:
        """Read the range of ``key`` page by page (from ``answer``, the first page, if
        given) into ``into``; returns the revision read."""
        start, end = _key_range(key)
        while True:
            if answer is None:
                node, answer = self._call("/kv/range", self._range_request(start, end, revision))
                revision = revision if revision is not None else _header_revision(node, answer)
            kvs = answer.get("kvs") or []
            for kv in kvs:
                found = _decode_key(kv)
                if found is not None and keep(found):
                    into[found] = _decode_value(kv)
            if not answer.get("more") or not kvs:
                assert revision is not None
                return revision
            start = base64.b64decode(kvs[-1]["key"]) + b"\0"  # the next key after the last
            answer = None

    @staticmethod
    def _range_request(start: bytes, end: bytes, revision: int | None) -> dict[str, Any]:
        request: dict[str, Any] = {"key": _b64(start), "range_end": _b64(end), "limit": PAGE_SIZE}
        if revision is not None:
            request["revision"] = revision
        return request

    # -- watch ------------------------------------------------------------------------

    def watch(
        self,
        prefix: str,
        start_revision: int,
        on_event: Callable[[str, str | None, int], None],
        stop: threading.Event,
    ) -> None:
        """Call ``on_event(key, value, mod_revision)`` for each change to a key starting
        with ``prefix`` (a string prefix), from ``start_revision`` on (0: from now).

        ``value`` is None for a deletion. Returns when ``stop`` is set (within a tenth of a
        second), or ``interrupt_watch()`` or ``close()`` is called. Raises
        ``EtcdCompacted`` when ``start_revision`` was compacted, ``BackendUnavailable``
        when no node confirms the watch or the stream breaks (watch again from the last
        mod_revision + 1), ``BackendError`` when etcd refuses it.
        """
        raw = prefix.encode()
        create = {"key": _b64(raw or b"\0"), "range_end": _b64(_prefix_end(raw))}
        body = {"create_request": {**create, "start_revision": start_revision}}
        watch = _Watch(body, start_revision, on_event, stop)
        with self._lock:
            if self._closed or stop.is_set():
                return
            self._watches.add(watch)
        threading.Thread(target=watch.guard, daemon=True).start()
        try:
            failures: list[str] = []
            for position in self._order():
                node = self.nodes[position]
                try:
                    self._watch_on(node, watch)
                except _NodeDown as down:
                    if watch.interrupted:
                        return
                    failures.append(f"{node}: {down.args[0]}")
                    continue
                except (AttributeError, KeyError, TypeError, ValueError) as exc:
                    raise self._unexpected(node, exc) from exc
                return
            raise self._unavailable(failures)
        finally:
            watch.done.set()
            with self._lock:
                self._watches.discard(watch)

    def interrupt_watch(self) -> None:
        """End every running watch at once (they return)."""
        with self._lock:
            watches = list(self._watches)
        for watch in watches:
            watch.cut()

    def _watch_on(self, node: str, watch: _Watch) -> None:
        """Watch on one node; ``_NodeDown`` when it does not confirm the watch in time."""
        slow = f"no answer within {self._timeout:g}s"
        for attempt in range(2):
            watch.arm(self._timeout)
            try:
                response = self._exchange(self._watch_client, node, "/watch", watch.body, watch)
            except _NodeDown:
                if watch.timed_out and not watch.interrupted:
                    raise _NodeDown(slow) from None
                raise
            try:
                self._follow(node, response, watch)
                return
            except _TokenRejected:
                self._token = None  # expired: authenticate again, once
                if attempt:
                    raise BackendError(f"etcd at {node} rejects the auth token") from None
            except (httpx.TransportError, httpx.StreamError) as exc:
                if watch.ending:
                    return
                if watch.timed_out:
                    raise _NodeDown(slow) from None
                closed = isinstance(exc, httpx.RemoteProtocolError)
                reason = "connection closed" if closed else failure_reason(exc, self._timeout)
                raise BackendUnavailable(f"etcd watch at {node} broke: {reason}") from exc
            finally:
                response.close()

    def _follow(self, node: str, response: httpx.Response, watch: _Watch) -> None:
        """Hand the stream's events to ``on_event`` until stopped (one JSON per line)."""
        for line in response.iter_lines():
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except ValueError:
                message = None
            if not isinstance(message, dict):
                snippet = " ".join(line.split())[:80]
                raise BackendError(f"etcd at {node} sent a watch answer not JSON: {snippet!r}")
            if "error" in message:  # the gateway's stream error: {"error": {"message"...}}
                error = message["error"]
                text = error.get("message") if isinstance(error, dict) else error
                raise BackendError(f"etcd at {node}: watch failed: {_explain(str(text))}")
            result = message.get("result") or {}
            compacted = int(result.get("compact_revision") or 0)
            if compacted:
                raise EtcdCompacted(
                    f"etcd at {node}: cannot watch from revision {watch.start_revision}, "
                    f"history compacted up to revision {compacted}",
                    compacted,
                )
            if result.get("canceled"):
                reason = str(result.get("cancel_reason") or "no reason given")
                if "code = Unauthenticated" in reason:
                    raise _TokenRejected
                raise BackendError(f"etcd at {node} cancelled the watch: {_explain(reason)}")
            if result.get("created"):
                watch.deadline = None  # confirmed
            for event in result.get("events") or ():
                kv = event.get("kv") or {}
                key = _decode_key(kv)
                if key is not None:
                    value = None if event.get("type") == "DELETE" else _decode_value(kv)
                    watch.on_event(key, value, int(kv.get("mod_revision") or 0))
            if watch.ending:
                return
        if not watch.ending:
            raise BackendUnavailable(f"etcd at {node} ended the watch stream")

    # -- requests ---------------------------------------------------------------------

    def _order(self) -> list[int]:
        start = self._preferred
        return [(start + i) % len(self.nodes) for i in range(len(self.nodes))]

    @staticmethod
    def _unexpected(node: str, exc: Exception) -> BackendError:
        return BackendError(f"etcd at {node} answered something unexpected ({exc!r})")

    def _unavailable(self, failures: list[str]) -> BackendUnavailable:
        if len(failures) == 1:
            return BackendUnavailable(f"cannot reach etcd at {failures[0]}")
        return BackendUnavailable(f"cannot reach etcd at any node: {'; '.join(failures)}")

    def _call(self, path: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """POST ``<api><path>`` to the first node that answers: (node, its JSON answer)."""
        failures: list[str] = []
        for position in self._order():
            node = self.nodes[position]
            try:
                response = self._exchange(self._client, node, path, body, None)
            except _NodeDown as down:
                failures.append(f"{node}: {down.args[0]}")
                continue
            self._preferred = position  # a plain int store: atomic under the GIL
            return node, self._json(node, response)
        raise self._unavailable(failures)

    def _exchange(
        self,
        client: httpx.Client,
        node: str,
        path: str,
        body: dict[str, Any],
        watch: _Watch | None,
        *,
        with_token: bool = True,
    ) -> httpx.Response:
        """One node's 200 answer to ``POST <api><path>`` (its body unread for a watch).

        Tries ``/v3beta`` after a plain 404 and authenticates again once after an
        expired token. ``_NodeDown`` when the node cannot serve, ``_Refused`` otherwise.
        """
        renewed = False
        while True:
            if self._closed:
                raise BackendError("etcd backend is closed")
            api = self._api.get(node, "/v3")
            headers = self._auth_header(node) if with_token and self._user else {}
            response = self._send(client, node, f"{node}{api}{path}", body, headers, watch)
            if response.status_code == 200:
                return response
            try:
                response.read()
            except httpx.HTTPError as exc:
                raise _NodeDown(failure_reason(exc, self._timeout)) from exc
            finally:
                response.close()
            code, message = self._error(response)
            if response.status_code == 404 and code is None:
                if api == "/v3":
                    self._api[node] = "/v3beta"  # etcd 3.3 serves the gateway there
                    continue
                raise BackendError(
                    f"etcd at {node} does not serve the v3 API (/v3{path} and /v3beta{path} "
                    "answer 404): -backend etcdv3 needs etcd 3.3 or later with its gRPC gateway"
                )
            expired = code == _UNAUTHENTICATED or "user name is empty" in message
            if expired and self._user and with_token and not renewed:
                renewed, self._token = True, None
                continue
            if response.status_code >= 500 or code == _UNAVAILABLE:
                raise _NodeDown(message)
            raise _Refused(node, code, message)

    def _send(
        self,
        client: httpx.Client,
        node: str,
        url: str,
        body: dict[str, Any],
        headers: dict[str, str],
        watch: _Watch | None,
    ) -> httpx.Response:
        # A watch waits for events without a read timeout: its guard thread bounds the
        # wait for etcd's confirmation instead.
        timeout = httpx.Timeout(self._timeout, read=None) if watch else httpx.USE_CLIENT_DEFAULT
        extensions = {"trace": watch.trace} if watch else None
        try:
            request = client.build_request(
                "POST", url, json=body, headers=headers, timeout=timeout, extensions=extensions
            )
            return client.send(request, stream=watch is not None)
        except httpx.TransportError as exc:
            raise _NodeDown(failure_reason(exc, self._timeout)) from exc
        except httpx.HTTPError as exc:
            raise BackendError(f"etcd at {node}: {exc}") from exc
        except RuntimeError as exc:  # httpx: "the client has been closed"
            raise BackendError("etcd backend is closed") from exc

    def _auth_header(self, node: str) -> dict[str, str]:
        """``Authorization: <token>``, authenticating first if there is no token yet."""
        assert self._user is not None
        with self._auth_lock:
            if self._token is None:
                name, password = self._user
                request = {"name": name, "password": password}
                try:
                    response = self._exchange(
                        self._client, node, "/auth/authenticate", request, None, with_token=False
                    )
                    self._token = str(self._json(node, response).get("token") or "")
                except _Refused as exc:
                    if exc.code != _FAILED_PRECONDITION:  # "authentication is not enabled"
                        raise _Refused(node, exc.code, f"user {name!r}: {exc.message}") from None
                    self._token = ""  # as clientv3: carry on without a token
            token = self._token
        return {"Authorization": token} if token else {}

    @staticmethod
    def _error(response: httpx.Response) -> tuple[int | None, str]:
        """etcd's gRPC code and message for a failed request, else (None, HTTP status)."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("code"), int):
            return body["code"], str(body.get("message") or body.get("error") or "")
        snippet = " ".join(response.text.split())[:120]
        return None, f"{response.status_code} {response.reason_phrase}" + (
            f": {snippet}" if snippet else ""
        )

    @staticmethod
    def _json(node: str, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            snippet = " ".join(response.text.split())[:80]
            raise BackendError(f"etcd at {node} answered with something not JSON: {snippet!r}")
        return body
