"""etcd through the v2 HTTP keys API (``-backend etcd``, as confd 0.16.0 did it).

Reads are one recursive, sorted, quorum ``GET /v2/keys<key>`` per requested key, on one
pooled keep-alive httpx client. Nodes are tried in order; the last one that answered is
tried first next time. ``watch`` follows changes with v2 long-polls on the keys' common
directory, one at a time on a connection of its own.
"""

from __future__ import annotations

import posixpath
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

import httpx

if TYPE_CHECKING:  # the pool is made only for several keys at once
    from concurrent.futures import Future, ThreadPoolExecutor

from confpy.backends import http
from confpy.backends.base import (
    BackendSettings,
    Change,
    Emit,
    Snapshot,
    StopSignal,
    path_key_matches,
)
from confpy.errors import BackendError, HistoryLost
from confpy.golang import path as gopath

__all__ = ["COALESCE_KEYS", "DEFAULT_WORKERS", "EtcdIndexCleared", "EtcdV2Backend", "WatchResult"]

# Measured with benchmarks/etcd_fetch.py on the 2-core test machine (see that file).
DEFAULT_WORKERS = 4
# Above this many keys, one read of their common ancestor beats one read per key.
COALESCE_KEYS = 16
# A long-poll that sees nothing for this long is re-armed; it bounds how long a silently
# dead connection (no RST, no FIN) goes unnoticed.
POLL_SECONDS = 60.0
_KEY_NOT_FOUND = 100
_INDEX_CLEARED = 401
_DELETIONS = frozenset(("delete", "compareAndDelete", "expire"))


class WatchResult(NamedTuple):
    """One change reported by a v2 long-poll."""

    action: str  # set, update, create, compareAndSwap, delete, compareAndDelete, expire
    key: str
    value: str | None  # None for deletions and directories
    modified_index: int
    etcd_index: int | None  # X-Etcd-Index of the answer
    dir: bool = False


class EtcdIndexCleared(HistoryLost):
    """The wait index is older than the 1000 events etcd v2 remembers: read again.

    ``index`` is etcd's current index; re-read the keys and wait from ``index + 1``.
    """

    def __init__(self, message: str, index: int | None) -> None:
        super().__init__(message)
        self.index = index


def _flatten(node: dict[str, Any], into: dict[str, str]) -> None:
    """Leaf key -> value of a v2 node tree; directories themselves are not stored."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.get("dir"):
            stack.extend(reversed(current.get("nodes") or ()))
        elif "key" in current:
            into[current["key"]] = current.get("value", "")


def _etcd_index(response: httpx.Response) -> int | None:
    return http.header_int(response, "X-Etcd-Index")


class EtcdV2Backend:
    """The ``etcd`` backend: confd 0.16.0's v2 client, with absent keys not an error."""

    name = "etcd"
    prefix_ordered = True

    def __init__(self, settings: BackendSettings, *, max_workers: int = DEFAULT_WORKERS) -> None:
        self.nodes = http.Nodes("etcd", [http.normalize_node(n, settings.scheme) for n in settings.nodes_of("etcd")])
        self._timeout = settings.answer_timeout
        self._auth = (settings.username, settings.password) if settings.basic_auth else None
        self._verify = http.tls_verify(self.nodes.urls, settings)
        self._max_workers = max(1, max_workers)
        self._lock = threading.Lock()
        self._closed = False
        self._watch_socket = http.CuttableSocket()
        self._client = self._make_client(keepalive=self._max_workers)
        self._watch_client: httpx.Client | None = None
        self._pool: ThreadPoolExecutor | None = None

    def _make_client(self, keepalive: int) -> httpx.Client:
        return http.make_client(self.nodes.urls, self._verify, self._timeout, keepalive, auth=self._auth)

    # -- Backend protocol -----------------------------------------------------------------

    def get_values(self, keys: Sequence[str]) -> Snapshot:
        unique = list(dict.fromkeys(gopath.clean("/" + k) for k in keys))
        if not unique:
            return Snapshot({}, None)
        if len(unique) > COALESCE_KEYS:
            return self._get_under_common_ancestor(unique)
        # The first read alone: it finds a node that answers (or fails once, quickly)
        # before the rest go out in parallel to that node.
        results = [self._fetch(unique[0])]
        rest = unique[1:]
        if len(rest) > 1 and self._max_workers > 1:
            results.extend(self._fetch_parallel(rest))
        else:
            results.extend(self._fetch(key) for key in rest)
        values: dict[str, str] = {}
        indexes = [index for part, index in results if index is not None]
        for part, _ in results:
            values.update(part)
        return Snapshot(dict(sorted(values.items())), min(indexes) if indexes else None)

    def key_matches(self, requested: str, found: str) -> bool:
        return path_key_matches(requested, found)

    def _get_under_common_ancestor(self, keys: list[str]) -> Snapshot:
        """Many keys: one recursive read of their closest common directory.

        Each v2 read costs etcd a quorum round and us an HTTP exchange; with hundreds of
        services registered one directory each (Registrator's layout) a single read of
        the common ancestor is tens of times faster, and every value comes from one
        consistent index. Entries outside the requested keys are dropped.
        """
        ancestor = posixpath.commonpath(keys)
        values, index = self._fetch(ancestor)
        wanted = set(keys)
        kept: dict[str, str] = {}
        for key, value in values.items():
            probe = key
            while probe not in wanted and probe != "/":  # is the key or a parent wanted?
                probe = gopath.dir(probe)
            if probe in wanted:
                kept[key] = value
        return Snapshot(kept, index)

    def watch(self, keys: Sequence[str], since: int | None, emit: Emit, stop: StopSignal) -> None:
        """Long-polls on the keys' common directory, each from the index after the last
        change seen. Raises ``EtcdIndexCleared`` (a ``HistoryLost``) when etcd no longer
        keeps the events after ``since``."""
        root = posixpath.commonpath([gopath.clean("/" + k) for k in keys]) if keys else "/"
        index = since + 1 if since is not None else None
        with stop.on_set(self._watch_socket.cut):
            while not stop.is_set():
                try:
                    result = self.wait(root, index, POLL_SECONDS)
                except EtcdIndexCleared as exc:
                    after = f" after index {index - 1}" if index is not None else ""
                    message = f"etcd forgot the events{after} ({exc})"
                    raise EtcdIndexCleared(message, exc.index) from None
                if result is None:  # nothing within the poll's time, or stopped
                    continue
                index = result.modified_index + 1
                deleted = result.action in _DELETIONS or result.dir
                emit(Change(result.key, None if deleted else result.value, result.modified_index))

    def sources(self) -> str:
        return str(self.nodes)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        self._watch_socket.cut()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()
        if self._watch_client is not None:
            self._watch_client.close()

    # -- one long-poll ----------------------------------------------------------------

    def wait(self, prefix: str, wait_index: int | None, timeout: float | None) -> WatchResult | None:
        """One long-poll for the first change under ``prefix`` at or after ``wait_index``
        (None: the next change from now).

        Returns None when ``timeout`` seconds pass without a change (None waits forever),
        when etcd ends the poll without an event, or when it is cut (``close()``, or the
        watch's stop signal). Raises ``EtcdIndexCleared`` when ``wait_index`` is older
        than etcd's history.
        """
        with self._lock:
            if self._closed:
                return None
            if self._watch_client is None:
                self._watch_client = self._make_client(keepalive=1)
            client = self._watch_client
            cuts = self._watch_socket.begin()
        if cuts is None:
            return None
        query = f"{quote(gopath.clean('/' + prefix))}?wait=true&recursive=true"
        if wait_index is not None:
            query += f"&waitIndex={wait_index}"
        timeouts = httpx.Timeout(self._timeout, read=timeout)
        try:
            found = self._request(client, query, timeouts, long_poll=True)
        except Exception:
            if self._watch_socket.was_cut(cuts):
                return None
            raise
        finally:
            self._watch_socket.end()
        if found is None or self._watch_socket.was_cut(cuts):
            return None
        node, response = found
        body = self._decode(node, response)
        if body is None or "node" not in body:
            return None  # etcd closes a poll it cannot serve with an empty 200
        event = body["node"]
        return WatchResult(
            action=str(body.get("action", "")),
            key=str(event.get("key", "")),
            value=event.get("value"),
            modified_index=int(event.get("modifiedIndex", 0)),
            etcd_index=_etcd_index(response),
            dir=bool(event.get("dir", False)),
        )

    # -- internals --------------------------------------------------------------------

    def _fetch(self, key: str) -> tuple[dict[str, str], int | None]:
        query = f"{quote(key)}?recursive=true&sorted=true&quorum=true"
        found = self._request(self._client, query, None, long_poll=False)
        assert found is not None  # only long-polls end without an answer
        node, response = found
        values: dict[str, str] = {}
        body = self._decode(node, response)
        if body is not None:
            _flatten(body.get("node") or {}, values)
        return values, _etcd_index(response)

    def _fetch_parallel(self, keys: list[str]) -> Iterable[tuple[dict[str, str], int | None]]:
        from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor
        from concurrent.futures import wait as wait_futures

        with self._lock:
            if self._closed:
                raise BackendError("etcd backend is closed")
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._max_workers, "confpy-etcd")
            pool = self._pool
        futures: list[Future[tuple[dict[str, str], int | None]]] = [
            pool.submit(self._fetch, key) for key in keys
        ]
        # Stop at the first failure rather than let hundreds of reads each time out.
        done, pending = wait_futures(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        for future in futures:
            error = future.exception() if future in done and not future.cancelled() else None
            if error is not None:
                raise error
        if any(future.cancelled() for future in futures):  # close() emptied the pool
            raise BackendError("etcd backend is closed")
        return [future.result() for future in futures]

    def _request(
        self, client: httpx.Client, query: str, timeouts: httpx.Timeout | None, *, long_poll: bool
    ) -> tuple[str, httpx.Response] | None:
        """GET ``/v2/keys<query>`` from the first node that answers: (node, response)."""
        failures: list[str] = []
        extensions = {"trace": self._watch_socket.trace} if long_poll else None
        for position, node in self.nodes:
            if self._closed:
                raise BackendError("etcd backend is closed")
            try:
                response = client.get(
                    f"{node}/v2/keys{query}",
                    timeout=timeouts if timeouts is not None else httpx.USE_CLIENT_DEFAULT,
                    extensions=extensions,
                )
            except httpx.TransportError as exc:
                if long_poll and isinstance(exc, httpx.ReadTimeout):
                    return None  # nothing changed within the caller's timeout
                failures.append(f"{node}: {http.failure_reason(exc, self._timeout)}")
                continue
            except httpx.HTTPError as exc:  # not the connection: redirects, decoding...
                raise BackendError(f"etcd at {node}: {exc}") from exc
            except RuntimeError as exc:  # httpx: "the client has been closed"
                raise BackendError("etcd backend is closed") from exc
            if response.status_code >= 500:
                failures.append(f"{node}: {self._error_text(response)}")
                continue
            self.nodes.answered(position)
            return node, response
        raise self.nodes.unavailable(failures)

    @staticmethod
    def _error_text(response: httpx.Response) -> str:
        """etcd's own error text: ``<code>: <message> (<cause>) [<index>]`` as Go prints it."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and "errorCode" in body:
            text = f"{body['errorCode']}: {body.get('message', '')}"
            if body.get("cause"):
                text += f" ({body['cause']})"
            if "index" in body:
                text += f" [{body['index']}]"
            return text
        if isinstance(body, dict) and body.get("message"):
            return f"{response.status_code} {body['message']}"
        return http.status_text(response)

    def _decode(self, node: str, response: httpx.Response) -> dict[str, Any] | None:
        """The JSON body of a good answer, None for "key not found", else BackendError."""
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
            if response.status_code == 404:
                raise BackendError(
                    f"etcd at {node} does not serve the v2 API (/v2/keys answers 404 "
                    "page not found): run etcd with --enable-v2=true or use -backend etcdv3"
                ) from None
        if response.status_code == 200:
            if response.content and not isinstance(body, dict):
                raise http.not_json("etcd", node, response)
            return body
        if isinstance(body, dict) and body.get("errorCode") == _KEY_NOT_FOUND:
            return None
        text = f"etcd at {node}: {self._error_text(response)}"
        if isinstance(body, dict) and body.get("errorCode") == _INDEX_CLEARED:
            index = body.get("index")
            raise EtcdIndexCleared(text, int(index) if isinstance(index, int) else None)
        raise BackendError(text)
