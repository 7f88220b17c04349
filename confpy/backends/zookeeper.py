"""ZooKeeper (``-backend zookeeper``), read as confd 0.16.0 reads it, with kazoo.

Nodes are ``host:port`` (or ``host``, port 2181); one ZooKeeper session over one
connection serves every read and watch. A requested key is walked down: a znode without
children (a leaf) is a value, the data of a znode with children is ignored, as in confd.
A missing znode is simply absent (confd failed the resource). Each tree level of every
key is read with pipelined requests, not one round trip per znode, and one request per
znode where possible.

Watch: a data and a child watch on every znode under the watched keys (an ``exists``
watch on a key that is missing), each re-armed by the read that follows its event. The
watch callbacks are the backend's own bound methods, so re-arming a znode never adds a
second watcher, on the server or in kazoo (confd 0.16.0 leaked a goroutine per znode
per change, #550). A lost connection or an expired session ends the watch with
``BackendUnavailable``: kazoo drops every watcher then, so the caller reads everything
again and watches anew.

kazoo's own log records are passed on at DEBUG (they hold tracebacks and retry chatter
that confd's log format has no room for).
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import (
    ConnectionLoss,
    KazooException,
    NoAuthError,
    NoNodeError,
    SessionExpiredError,
    ZookeeperError,
)
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.protocol.states import EventType, WatchedEvent
from kazoo.retry import KazooRetry

from confpy.backends.base import (
    BackendSettings,
    Change,
    Emit,
    Snapshot,
    StopSignal,
    path_key_matches,
)
from confpy.errors import BackendError, BackendUnavailable, ConfigError
from confpy.golang import path as gopath

__all__ = ["ZooKeeperBackend", "parse_node"]

log = logging.getLogger("confpy.backends.zookeeper")

DEFAULT_PORT = 2181
SESSION_TIMEOUT = 10.0  # seconds; ZooKeeper bounds it to 2 to 20 of its ticks
_WAKE = ("wake", None)


def parse_node(text: str) -> str:
    """``host:port`` or ``host`` (port 2181, as the Go client) -> ``host:port``."""
    node = text.strip()
    host, colon, port = node.rpartition(":")
    if not colon or (node.startswith("[") and node.endswith("]")):
        host, port = node, str(DEFAULT_PORT)
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if bare and port.isdigit() and 0 < int(port) < 65536 and not any(c in bare for c in "/ ,@"):
        return f"{host}:{port}"
    raise ConfigError(f"invalid zookeeper node {text!r}: want host:port")


class _KazooToDebug(logging.Handler):
    """kazoo's records, passed on to confpy's logger at DEBUG."""

    def emit(self, record: logging.LogRecord) -> None:
        if log.isEnabledFor(logging.DEBUG):
            try:
                message = record.getMessage()
            except Exception:  # a bad format in a library's call: drop it, as logging would
                return
            log.debug("kazoo: %s", message, exc_info=record.exc_info)


def _quiet_kazoo() -> None:
    kazoo_log = logging.getLogger("kazoo")
    if not any(isinstance(h, _KazooToDebug) for h in kazoo_log.handlers):
        kazoo_log.addHandler(_KazooToDebug())
    kazoo_log.propagate = False  # no stderr lines outside confd's format
    kazoo_log.setLevel(logging.DEBUG)  # not kazoo's BLATHER (5): too much to format


def _probe(node: str, timeout: float) -> str | None:
    """Why a TCP connection to ``node`` fails, or None when it connects."""
    host, _, port = node.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            return None
    except TimeoutError:
        return f"connection timed out after {timeout:g}s"
    except socket.gaierror as exc:
        return (exc.strerror or str(exc)).lower()
    except OSError as exc:
        return (exc.strerror or str(exc)).lower()


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", "replace")


def _join(parent: str, child: str) -> str:
    return "/" + child if parent == "/" else f"{parent}/{child}"


class ZooKeeperBackend:
    """The ``zookeeper`` backend."""

    name = "zookeeper"
    prefix_ordered = True

    def __init__(self, settings: BackendSettings) -> None:
        self.nodes = tuple(parse_node(n) for n in settings.nodes_of("zookeeper"))
        self._timeout = settings.answer_timeout
        self._lock = threading.Lock()
        self._client: KazooClient | None = None
        self._closed = False
        # Where the watch callbacks deliver: the queue of the watch under way.
        self._events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        _quiet_kazoo()

    # -- the session ----------------------------------------------------------------------

    def _session(self) -> KazooClient:
        with self._lock:
            if self._closed:
                raise BackendError("zookeeper backend is closed")
            if self._client is not None:
                return self._client
            reasons = [(node, _probe(node, self._timeout)) for node in self.nodes]
            if all(reason is not None for _, reason in reasons):
                raise self._unreachable(reasons)
            client = KazooClient(
                hosts=",".join(self.nodes),
                timeout=SESSION_TIMEOUT,
                randomize_hosts=False,
                # Reconnect for ever, at most a second apart, so a ZooKeeper back up is
                # found at once; our callers bound their own waits.
                connection_retry=KazooRetry(max_tries=-1, delay=0.1, backoff=2, max_delay=1.0),
            )
            try:
                client.start(timeout=self._timeout)
            except KazooTimeoutError:  # kazoo has stopped and closed the client
                raise self._unreachable(
                    [(n, r or f"no session within {self._timeout:g}s") for n, r in reasons]
                ) from None
            client.add_listener(self._on_state)
            self._client = client
            return client

    @staticmethod
    def _unreachable(reasons: list[tuple[str, str | None]]) -> BackendUnavailable:
        if len(reasons) == 1:
            return BackendUnavailable(f"cannot reach zookeeper at {reasons[0][0]}: {reasons[0][1]}")
        listed = "; ".join(f"{node}: {reason}" for node, reason in reasons)
        return BackendUnavailable(f"cannot reach zookeeper at any node: {listed}")

    def _result(self, pending: Any, path: str) -> Any:
        """The answer of one asynchronous request, its failures as confpy errors."""
        try:
            return pending.get(timeout=self._timeout)
        except NoNodeError:
            raise
        except KazooTimeoutError:
            raise BackendUnavailable(f"cannot reach zookeeper at {self.sources()}: no answer within {self._timeout:g}s") from None
        except (ConnectionLoss, SessionExpiredError) as exc:
            raise BackendUnavailable(f"lost the connection to zookeeper at {self.sources()}: {type(exc).__name__}") from None
        except NoAuthError:
            raise BackendError(f"zookeeper at {self.sources()}: not allowed to read {path}") from None
        except (ZookeeperError, KazooException) as exc:
            raise BackendError(f"zookeeper at {self.sources()}: reading {path}: {type(exc).__name__} {exc}".rstrip()) from None

    # -- Backend protocol -----------------------------------------------------------------

    def get_values(self, keys: Sequence[str]) -> Snapshot:
        roots = _roots(keys)
        if not roots:
            return Snapshot({}, None)
        client = self._session()
        values: dict[str, str] = {}
        # Requested keys are mostly directories and what is under them mostly values:
        # ask a key for its children first and anything under it for its data (whose
        # stat says whether it has children), so each znode costs one request, not two.
        # kazoo spends ~0.2 ms of Python on each request.
        listing, reading = list(roots), list[str]()
        while listing or reading:
            children_of = [(path, client.get_children_async(path)) for path in listing]
            data_of = [(path, client.get_async(path)) for path in reading]
            listing, reading = [], []
            for path, answer in children_of:
                try:
                    children = self._result(answer, path)
                except NoNodeError:  # missing, or deleted while walking: absent
                    continue
                if children:
                    reading.extend(_join(path, child) for child in children)
                else:
                    reading.append(path)  # a leaf: its data is the value
            for path, answer in data_of:
                try:
                    data, stat = self._result(answer, path)
                except NoNodeError:
                    continue
                if stat.numChildren:
                    listing.append(path)  # data of a znode with children is ignored
                else:
                    values[path] = _text(data)
        return Snapshot(dict(sorted(values.items())), None)

    def key_matches(self, requested: str, found: str) -> bool:
        return path_key_matches(requested.replace("/*", "") or "/", found)

    def sources(self) -> str:
        return ", ".join(self.nodes)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            client, self._client = self._client, None
        self._events.put(_WAKE)
        if client is not None:
            client.remove_listener(self._on_state)
            try:
                client.stop()
                client.close()
            except Exception as exc:  # nothing to do about it but say so
                log.debug("closing the zookeeper client: %s", exc)

    # -- watching ---------------------------------------------------------------------

    def _on_state(self, state: str) -> None:
        if state in (KazooState.SUSPENDED, KazooState.LOST):
            self._events.put(("state", state))

    def _on_data(self, event: WatchedEvent) -> None:
        self._events.put(("data", event))

    def _on_child(self, event: WatchedEvent) -> None:
        self._events.put(("child", event))

    def watch(self, keys: Sequence[str], since: int | None, emit: Emit, stop: StopSignal) -> None:
        roots = _roots(keys)
        if not roots:
            stop.wait()
            return
        client = self._session()
        events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._events = events
        if client.state != KazooState.CONNECTED:
            raise BackendUnavailable(f"lost the connection to zookeeper at {self.sources()}")
        tree = _Tree(self, client, set(roots))
        with stop.on_set(lambda: events.put(_WAKE)):
            tree.arm(roots)
            tree.touched.clear()
            if stop.is_set():
                return
            emit(Snapshot(dict(sorted(tree.values.items())), None))
            while not stop.is_set():
                batch = [events.get()]
                while not events.empty() and len(batch) < 1000:
                    batch.append(events.get())
                for kind, item in batch:
                    if kind == "state":
                        raise BackendUnavailable(
                            f"lost the {'session' if item == KazooState.LOST else 'connection'} "
                            f"to zookeeper at {self.sources()}"
                        )
                    if kind == "wake":
                        if self._closed and not stop.is_set():
                            raise BackendError("zookeeper backend is closed")
                        continue
                    if item.type == EventType.NONE:  # kazoo dropped every watcher
                        raise BackendUnavailable(f"lost the connection to zookeeper at {self.sources()}")
                    tree.handle(kind, item)
                if not stop.is_set():
                    tree.emit_touched(emit)


def _roots(keys: Iterable[str]) -> list[str]:
    out: dict[str, None] = {}
    for key in keys:
        out[gopath.clean(key.replace("/*", "") or "/")] = None
    return list(out)


class _Tree:
    """The watched znodes of one watch: children, data, and the values (leaves)."""

    def __init__(self, backend: ZooKeeperBackend, client: KazooClient, roots: set[str]) -> None:
        self.backend = backend
        self.client = client
        self.roots = roots
        self.children: dict[str, set[str]] = {}
        self.data: dict[str, str] = {}
        self.values: dict[str, str] = {}
        self.touched: set[str] = set()

    def arm(self, paths: Iterable[str]) -> None:
        """Read ``paths`` and everything under them, leaving a data and a child watch on
        each (an exists watch on a missing key)."""
        backend, client = self.backend, self.client
        level = list(paths)
        while level:
            pending = [
                (path, client.get_async(path, watch=backend._on_data), client.get_children_async(path, watch=backend._on_child))
                for path in level
            ]
            level = []
            for path, data_answer, children_answer in pending:
                try:
                    data, _ = backend._result(data_answer, path)
                    children = set(backend._result(children_answer, path))
                except NoNodeError:
                    self.drop(path)
                    if path in self.roots and backend._result(client.exists_async(path, watch=backend._on_data), path):
                        level.append(path)  # created meanwhile: read it again
                    continue
                self.data[path] = _text(data)
                known = self.children.get(path, set())
                self.children[path] = children
                for gone in known - children:
                    self.drop(_join(path, gone))
                level.extend(_join(path, child) for child in sorted(children - known))
                self.settle(path)

    def settle(self, path: str) -> None:
        """A znode without children is a value; one with children is not."""
        if path not in self.children:
            return
        if self.children[path]:
            if self.values.pop(path, None) is not None:
                self.touched.add(path)
        elif self.values.get(path) != self.data[path]:
            self.values[path] = self.data[path]
            self.touched.add(path)

    def drop(self, path: str) -> None:
        """Forget ``path`` and everything under it (deleted)."""
        stack = [path]
        while stack:
            current = stack.pop()
            for child in self.children.pop(current, ()):
                stack.append(_join(current, child))
            self.data.pop(current, None)
            if self.values.pop(current, None) is not None:
                self.touched.add(current)

    def handle(self, kind: str, event: WatchedEvent) -> None:
        path = event.path
        if kind == "data":
            if event.type == EventType.DELETED:
                self.drop(path)
                parent = gopath.dir(path)
                if parent in self.children:
                    # Now, not at the parent's child event: its leaving may make the
                    # parent a value, and both must go out together.
                    self.arm([parent])
                if path in self.roots:
                    self.arm([path])  # an exists watch, to see it come back
            elif event.type == EventType.CREATED or path in self.children:
                self.arm([path])  # re-arms the data watch (and a child watch already there)
        elif kind == "child" and event.type == EventType.CHILD and path in self.children:
            self.arm([path])

    def emit_touched(self, emit: Emit) -> None:
        """The values changed since the last emit: exact changes, or one snapshot when
        a change would delete a key that still has values under it."""
        touched, self.touched = sorted(self.touched), set()
        if not touched:
            return
        parents = {key[:i] for key in self.values for i in range(1, len(key)) if key[i] == "/"}
        touched_set = set(touched)
        nested = any(key[:i] in touched_set for key in touched for i in range(1, len(key)) if key[i] == "/")
        if nested or any(key not in self.values and key in parents for key in touched):
            emit(Snapshot(dict(sorted(self.values.items())), None))
            return
        for key in touched:
            emit(Change(key, self.values.get(key)))
