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
import json
import posixpath
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx

from confpy.backends import http
from confpy.backends.base import (
    BackendSettings,
    Change,
    Emit,
    Snapshot,
    StopSignal,
    path_key_matches,
)
from confpy.errors import BackendError, BackendUnavailable, HistoryLost
from confpy.golang import path as gopath

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


class EtcdCompacted(HistoryLost):
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


@dataclass(eq=False)  # identity: kept in a set
class _Watch:
    """One running watch and its connection, so that another thread can end it.

    The watch client keeps no idle connection, so every watch request has a socket of its
    own. ``stopped`` means stop: the watch returns. ``timed_out`` means the node did not
    confirm the watch in time: the next node is tried.
    """

    body: dict[str, Any]
    start_revision: int
    emit: Emit
    socket: http.CuttableSocket = field(default_factory=lambda: http.CuttableSocket(keepalive=True))
    stopped: bool = False
    timed_out: bool = False
    confirmed: bool = False

    def stop(self) -> None:
        self.stopped = True
        self.socket.cut()

    def time_out(self) -> None:
        if not self.confirmed and not self.stopped:
            self.timed_out = True
            self.socket.cut()


class EtcdV3Backend:
    """The ``etcdv3`` backend: confd 0.16.0's v3 client semantics over the JSON gateway."""

    name = "etcdv3"
    prefix_ordered = True

    def __init__(self, settings: BackendSettings) -> None:
        has_tls_files = bool(
            settings.client_cakeys or (settings.client_cert and settings.client_key)
        )
        # confd's v3 client speaks TLS to host:port nodes when it has TLS files.
        scheme = "https" if has_tls_files or settings.scheme == "https" else "http"
        self.nodes = http.Nodes("etcd", [http.normalize_node(n, scheme) for n in settings.nodes_of("etcdv3")])
        self._timeout = settings.answer_timeout
        self._user = (settings.username, settings.password) if settings.basic_auth else None
        self._verify = http.tls_verify(self.nodes.urls, settings)
        self._lock = threading.Lock()
        self._auth_lock = threading.Lock()
        self._token: str | None = None  # "" once etcd said auth is off
        self._api: dict[str, str] = {}  # node -> "/v3", or "/v3beta" for etcd 3.3
        self._txn_ops = TXN_OPS  # halved if the server allows fewer
        self._closed = False
        self._watches: set[_Watch] = set()
        self._client = self._make_client(keepalive=4)
        self._watch_client = self._make_client(keepalive=0)

    def _make_client(self, keepalive: int) -> httpx.Client:
        return http.make_client(self.nodes.urls, self._verify, self._timeout, keepalive)

    # -- Backend protocol -----------------------------------------------------------------

    def get_values(self, keys: Sequence[str]) -> Snapshot:
        unique = sorted({gopath.clean("/" + k) for k in keys})
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
            raise self._unexpected(self.nodes.preferred, exc) from exc

    def key_matches(self, requested: str, found: str) -> bool:
        return path_key_matches(requested, found)

    def sources(self) -> str:
        return str(self.nodes)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            watches = list(self._watches)
        for watch in watches:
            watch.stop()
        self._client.close()
        self._watch_client.close()

    # -- reads ------------------------------------------------------------------------

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

    def watch(self, keys: Sequence[str], since: int | None, emit: Emit, stop: StopSignal) -> None:
        """One ``/v3/watch`` stream on the keys' common directory, from revision
        ``since + 1`` (from now when None), on the first node that confirms it in time.

        Raises ``EtcdCompacted`` (a ``HistoryLost``) when that revision was compacted,
        ``BackendUnavailable`` when no node confirms the watch or the stream breaks,
        ``BackendError`` when etcd refuses it.
        """
        root = posixpath.commonpath([gopath.clean("/" + k) for k in keys]) if keys else "/"
        start, end = _key_range(root)
        revision = since + 1 if since is not None else 0
        create = {"key": _b64(start), "range_end": _b64(end), "start_revision": revision}
        watch = _Watch({"create_request": create}, revision, emit)
        with self._lock:
            if self._closed:
                return
            self._watches.add(watch)
        try:
            with stop.on_set(watch.stop):
                failures: list[str] = []
                for _, node in self.nodes:
                    try:
                        self._watch_on(node, watch)
                    except _NodeDown as down:
                        if watch.stopped:
                            return
                        failures.append(f"{node}: {down.args[0]}")
                        continue
                    except (AttributeError, KeyError, TypeError, ValueError) as exc:
                        raise self._unexpected(node, exc) from exc
                    return
                raise self.nodes.unavailable(failures)
        finally:
            with self._lock:
                self._watches.discard(watch)

    def _watch_on(self, node: str, watch: _Watch) -> None:
        """Watch on one node; ``_NodeDown`` when it does not confirm the watch in time."""
        slow = f"no answer within {self._timeout:g}s"
        for attempt in range(2):
            watch.timed_out = watch.confirmed = False
            if watch.socket.begin() is None:
                return  # stopped before it started
            # etcd must confirm the watch in time; the stream itself has no read timeout.
            deadline = threading.Timer(self._timeout, watch.time_out)
            deadline.daemon = True
            deadline.start()
            try:
                try:
                    response = self._exchange(self._watch_client, node, "/watch", watch.body, watch)
                except _NodeDown:
                    if watch.timed_out and not watch.stopped:
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
                    if watch.stopped:
                        return
                    if watch.timed_out:
                        raise _NodeDown(slow) from None
                    closed = isinstance(exc, httpx.RemoteProtocolError)
                    reason = "connection closed" if closed else http.failure_reason(exc, self._timeout)
                    raise BackendUnavailable(f"etcd watch at {node} broke: {reason}") from exc
                finally:
                    response.close()
            finally:
                deadline.cancel()
                watch.socket.end()

    def _follow(self, node: str, response: httpx.Response, watch: _Watch) -> None:
        """Hand the stream's events to ``emit`` until stopped (one JSON per line)."""
        for line in response.iter_lines():
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except ValueError:
                message = None
            if not isinstance(message, dict):
                raise BackendError(
                    f"etcd at {node} sent a watch answer not JSON: {http.snippet(line, 80)!r}"
                )
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
                watch.confirmed = True
            for event in result.get("events") or ():
                kv = event.get("kv") or {}
                key = _decode_key(kv)
                if key is not None:
                    value = None if event.get("type") == "DELETE" else _decode_value(kv)
                    watch.emit(Change(key, value, int(kv.get("mod_revision") or 0)))
            if watch.stopped:
                return
        if not watch.stopped:
            raise BackendUnavailable(f"etcd at {node} ended the watch stream")

    # -- requests ---------------------------------------------------------------------

    @staticmethod
    def _unexpected(node: str, exc: Exception) -> BackendError:
        return BackendError(f"etcd at {node} answered something unexpected ({exc!r})")

    def _call(self, path: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """POST ``<api><path>`` to the first node that answers: (node, its JSON answer)."""
        failures: list[str] = []
        for position, node in self.nodes:
            try:
                response = self._exchange(self._client, node, path, body, None)
            except _NodeDown as down:
                failures.append(f"{node}: {down.args[0]}")
                continue
            self.nodes.answered(position)
            return node, self._json(node, response)
        raise self.nodes.unavailable(failures)

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
                raise _NodeDown(http.failure_reason(exc, self._timeout)) from exc
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
        # A watch waits for events without a read timeout: a timer bounds the wait for
        # etcd's confirmation instead.
        timeout = httpx.Timeout(self._timeout, read=None) if watch else httpx.USE_CLIENT_DEFAULT
        extensions = {"trace": watch.socket.trace} if watch else None
        try:
            request = client.build_request(
                "POST", url, json=body, headers=headers, timeout=timeout, extensions=extensions
            )
            return client.send(request, stream=watch is not None)
        except httpx.TransportError as exc:
            raise _NodeDown(http.failure_reason(exc, self._timeout)) from exc
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
        return None, http.status_text(response)

    @staticmethod
    def _json(node: str, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise http.not_json("etcd", node, response)
        return body
