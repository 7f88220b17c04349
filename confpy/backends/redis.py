"""Redis (``-backend redis``), read as confd 0.16.0 reads it, with redis-py.

Nodes are ``host:port``, ``host:port/<db>`` or the path of a unix socket; they are tried
in order and the first that answers is used (the one that answered last is tried first).
The password is ``-password``, else ``-client-key`` (confd passes -client-key).

Keys, as confd maps them: with the default separator ``/`` a redis key is the confd key,
leading slash included; with another (``-separator :``) the leading ``/`` is dropped and
every ``/`` becomes the separator. Reading a key asks its TYPE: a string is the value; a
hash gives ``<key>/<field>`` for each field (HSCAN); anything else, a missing key
included, gives every string key under ``<key><separator>`` (SCAN MATCH), other types
skipped. All the keys of a read go out pipelined: one TYPE round, one MGET for the
strings, one SCAN walk for every prefix together.

Watch: keyspace notifications, every watched prefix PSUBSCRIBEd on one pub/sub
connection. A notification only names a key, so the key is read again and the change
emitted (a missing key is a deletion; a hash's fields are compared with what was seen).
A requested key changing kind (a value becoming a prefix, a hash appearing or going), or
a deletion that would take keys still there with it, emits a fresh snapshot instead.
Redis keeps no history to resume from, so each watch starts by reading every key (a
snapshot) once it is subscribed.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from confpy.backends.base import (
    BackendSettings,
    Change,
    Emit,
    Snapshot,
    StopSignal,
    path_key_matches,
)
from confpy.errors import BackendError, BackendUnavailable, ConfigError

__all__ = ["RedisBackend", "RedisNode", "parse_node"]

log = logging.getLogger("confpy.backends.redis")

_T = TypeVar("_T")
# The notification classes watch mode needs: K keyspace channel, g generic (del, rename,
# expire...), $ strings, h hashes, x expired, e evicted. "A" stands for g$lshzxetd.
_NEEDED_EVENTS = "K$ghxe"
_ALL_EVENTS = "g$lshzxetd"
_IDLE_PING = 30.0  # seconds of silence on the pub/sub connection before a PING
_BATCH = 1000  # notifications handled together at most
_MGET_CHUNK = 1000


class RedisNode(NamedTuple):
    text: str  # as given, for messages
    host: str = ""
    port: int = 0
    db: int = 0
    path: str = ""  # a unix socket


def parse_node(text: str) -> RedisNode:
    """confd's node forms: ``host:port``, ``host:port/<db>``, a unix socket path."""
    address, db = text.strip(), 0
    slash = address.find("/")
    if slash > 0 and address[slash + 1 :].isdigit():  # confd: Atoi of what follows the first /
        address, db = address[:slash], int(address[slash + 1 :])
    if address.startswith(("/", ".")) or os.path.exists(address):
        return RedisNode(text, path=address, db=db)
    host, colon, port = address.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if colon and host and port.isdigit() and 0 < int(port) < 65536 and "/" not in host:
        return RedisNode(text, host=host, port=int(port), db=db)
    raise ConfigError(
        f"invalid redis node {text!r}: want host:port, host:port/<db> or the path of a unix socket"
    )


def _reason(exc: BaseException, timeout: float) -> str:
    """A short lowercase reason for a connection failure."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, (socket.timeout, redis.TimeoutError)):
            return f"no answer within {timeout:g}s"
        if isinstance(cause, socket.gaierror) and cause.strerror:
            return cause.strerror.lower()
        if isinstance(cause, OSError) and cause.errno:
            return os.strerror(cause.errno).lower()
        cause = cause.__cause__ or cause.__context__
    return (str(exc) or type(exc).__name__).rstrip(".").lower()


def _text(data: bytes | str) -> str:
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


def _untyped(client: redis.Redis) -> Any:
    """redis-py leaves execute_command untyped (its answer depends on the command)."""
    return client


def _glob_escape(text: str) -> str:
    """A literal for redis' MATCH patterns (confd did not escape; keys with * differ)."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _events_after(current: str) -> str:
    """``notify-keyspace-events`` with what watch needs added; ``current`` if it has it."""
    flags = set(current.replace("A", _ALL_EVENTS))
    missing = [flag for flag in _NEEDED_EVENTS if flag not in flags]
    return current + "".join(missing)


class _Roots:
    """The watched keys: each requested key as confd reads it, and where a redis key
    notified belongs."""

    def __init__(self, keys: Iterable[str], to_redis: Callable[[str], str], separator: str) -> None:
        self.keys = list(dict.fromkeys(k.replace("/*", "") for k in keys))
        self.redis_keys = [to_redis(k) for k in self.keys]
        self.by_redis_key = dict(zip(self.redis_keys, self.keys))
        self.separator = separator
        # SCAN prefixes: <key><sep>, or "" (every key) for "/".
        self.scan_prefixes = {("" if k == "/" else rk + separator): k for k, rk in zip(self.keys, self.redis_keys)}

    def scan_root(self, redis_key: str) -> str | None:
        """The requested key whose SCAN returns ``redis_key``, if any."""
        prefixes = self.scan_prefixes
        if "" in prefixes:
            return prefixes[""]
        sep, start = self.separator, 0
        while True:
            found = redis_key.find(sep, start)
            if found < 0:
                return None
            root = prefixes.get(redis_key[: found + len(sep)])
            if root is not None:
                return root
            start = found + 1

    def patterns(self, db: int) -> list[str]:
        channel = f"__keyspace@{db}__:"
        out: list[str] = []
        for key, redis_key in zip(self.keys, self.redis_keys):
            if key == "/":
                return [channel + "*"]
            out.append(channel + _glob_escape(redis_key))
            out.append(channel + _glob_escape(redis_key + self.separator) + "*")
        return out


class _NodeDown(Exception):
    """A node did not answer; the message is the reason."""


class _Read(NamedTuple):
    values: dict[str, str]
    kinds: dict[str, str]  # requested key -> "string", "hash" or "scan"
    hash_fields: dict[str, set[str]]  # requested key (a hash) -> its store keys


class RedisBackend:
    """The ``redis`` backend."""

    name = "redis"
    prefix_ordered = True

    def __init__(self, settings: BackendSettings) -> None:
        self.nodes = tuple(parse_node(n) for n in settings.nodes_of("redis"))
        self.separator = settings.separator or "/"
        self._password = settings.password or settings.client_key or None
        self._timeout = settings.answer_timeout
        self._clients: dict[int, redis.Redis] = {}
        self._preferred = 0
        self._closed = False
        self._pubsub: list[Any] = []  # pub/sub connections of watches under way

    # -- key mapping (confd's transform and clean) -----------------------------------

    def _to_redis(self, key: str) -> str:
        if self.separator == "/":
            return key
        return key.removeprefix("/").replace("/", self.separator)

    def _from_redis(self, key: str) -> str:
        key = key if key.startswith("/") else "/" + key
        return key.replace(self.separator, "/")

    # -- Backend protocol -----------------------------------------------------------------

    def get_values(self, keys: Sequence[str]) -> Snapshot:
        if not keys:
            return Snapshot({}, None)
        roots = _Roots(keys, self._to_redis, self.separator)
        _, read = self._on_any_node(lambda client: self._read(client, roots))
        return Snapshot(dict(sorted(read.values.items())), None)

    def key_matches(self, requested: str, found: str) -> bool:
        return path_key_matches(requested.replace("/*", "") or "/", found)

    def sources(self) -> str:
        return ", ".join(node.text for node in self.nodes)

    def close(self) -> None:
        self._closed = True
        for connection in list(self._pubsub):
            _shut(connection)
        for client in list(self._clients.values()):
            client.close()

    # -- reading ----------------------------------------------------------------------

    def _client(self, position: int) -> redis.Redis:
        client = self._clients.get(position)
        if client is None:
            node = self.nodes[position]
            options: dict[str, Any] = {
                "db": node.db,
                "password": self._password,
                "socket_timeout": self._timeout,
                "socket_connect_timeout": self._timeout,
                "retry": Retry(NoBackoff(), 0),  # failing over is ours to do, once
                # RESP2, as confd and every server speak it (redis-py 8 picks RESP3, whose
                # pub/sub messages its parser keeps for a push handler).
                "protocol": 2,
            }
            if node.path:
                client = redis.Redis(unix_socket_path=node.path, **options)
            else:
                client = redis.Redis(host=node.host, port=node.port, **options)
            client = self._clients.setdefault(position, client)
        return client

    def _on_any_node(self, operation: Callable[[redis.Redis], _T]) -> tuple[int, _T]:
        """``operation`` on the first node that answers, starting with the last that did:
        (that node's position, the result)."""
        count = len(self.nodes)
        failures: list[str] = []
        for position in ((self._preferred + i) % count for i in range(count)):
            if self._closed:
                raise BackendError("redis backend is closed")
            try:
                result = self._attempt(position, operation)
            except _NodeDown as exc:
                failures.append(f"{self.nodes[position].text}: {exc}")
                continue
            self._preferred = position
            return position, result
        if len(failures) == 1:
            raise BackendUnavailable(f"cannot reach redis at {failures[0]}")
        raise BackendUnavailable(f"cannot reach redis at any node: {'; '.join(failures)}")

    def _on_node(self, position: int, operation: Callable[[redis.Redis], _T]) -> _T:
        """``operation`` on the node a watch uses; BackendUnavailable when it is down."""
        try:
            return self._attempt(position, operation)
        except _NodeDown as exc:
            raise BackendUnavailable(f"cannot reach redis at {self.nodes[position].text}: {exc}") from None

    def _attempt(self, position: int, operation: Callable[[redis.Redis], _T]) -> _T:
        node = self.nodes[position].text
        try:
            return operation(self._client(position))
        except redis.AuthenticationError as exc:
            raise BackendError(
                f"redis at {node} refused the password: {_reason(exc, self._timeout)} "
                "(the password is -password, or -client-key as in confd)"
            ) from None
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise _NodeDown(_reason(exc, self._timeout)) from None
        except redis.RedisError as exc:
            raise BackendError(f"redis at {node}: {exc}") from None

    def _read(self, client: redis.Redis, roots: _Roots) -> _Read:
        """Every requested key, as confd's GetValues reads it, in few round trips."""
        pipe = client.pipeline(transaction=False)
        for redis_key in roots.redis_keys:
            pipe.type(redis_key)
        types = [_text(t) if isinstance(t, bytes) else str(t) for t in pipe.execute()]
        values: dict[str, str] = {}
        kinds: dict[str, str] = {}
        hash_fields: dict[str, set[str]] = {}
        strings: list[tuple[str, str]] = []
        scans: dict[str, str] = {}  # SCAN prefix -> requested key
        for key, redis_key, kind in zip(roots.keys, roots.redis_keys, types):
            if kind == "string":
                kinds[key] = "string"
                strings.append((key, redis_key))
            elif kind == "hash":
                kinds[key] = "hash"
                fields = hash_fields[key] = set()
                for field, value in client.hscan_iter(redis_key, count=1000):
                    store_key = self._from_redis(redis_key + "/" + _text(field))
                    values[store_key] = _text(value)
                    fields.add(store_key)
            else:
                kinds[key] = "scan"
                scans["" if key == "/" else redis_key + self.separator] = key
        if strings:
            found = client.mget([redis_key for _, redis_key in strings])
            for (key, _), value in zip(strings, found):
                if value is not None:
                    values[key] = _text(value)
        if scans:
            self._scan(client, roots, scans, values)
        return _Read(values, kinds, hash_fields)

    def _scan(self, client: redis.Redis, roots: _Roots, scans: dict[str, str], values: dict[str, str]) -> None:
        """One SCAN walk for every prefix: MATCH their common prefix, then keep the keys
        under one of them; the string values come with MGET (nil for other types)."""
        common = os.path.commonprefix(list(scans))  # noqa: RUF071 (a string prefix is meant)
        wanted = set(scans.values())
        matched: list[bytes] = []
        for raw in client.scan_iter(match=_glob_escape(common) + "*", count=1000):
            if len(scans) == 1 or roots.scan_root(_text(raw)) in wanted:
                matched.append(raw)
        matched = list(dict.fromkeys(matched))  # SCAN may return a key twice
        for start in range(0, len(matched), _MGET_CHUNK):
            chunk = matched[start : start + _MGET_CHUNK]
            for raw, value in zip(chunk, client.mget(chunk)):
                if value is not None:
                    values[self._from_redis(_text(raw))] = _text(value)

    # -- watching ---------------------------------------------------------------------

    def watch(self, keys: Sequence[str], since: int | None, emit: Emit, stop: StopSignal) -> None:
        roots = _Roots(keys, self._to_redis, self.separator)
        if not roots.keys:
            stop.wait()
            return
        position, _ = self._on_any_node(lambda client: client.ping())
        node = self.nodes[position]
        client = self._client(position)
        self._on_node(position, lambda c: self._ensure_notifications(c, node.text))
        pool = client.connection_pool
        connection = pool.connection_class(**pool.connection_kwargs)
        self._pubsub.append(connection)
        try:
            with stop.on_set(lambda: _shut(connection)):
                self._on_node(position, lambda _: self._subscribe(connection, roots, node.db))
                if stop.is_set():
                    return
                state = _WatchState(self._on_node(position, lambda c: self._read(c, roots)))
                emit(Snapshot(dict(sorted(state.values.items())), None))
                self._follow(position, connection, roots, node.db, state, emit, stop)
        except BackendUnavailable:
            if stop.is_set() or self._closed:
                return  # our own shutdown of the connection, not an outage
            raise
        finally:
            self._pubsub.remove(connection)
            connection.disconnect()

    def _ensure_notifications(self, client: redis.Redis, node: str) -> None:
        """Turn on the keyspace notifications watch needs, or say what to set."""
        try:
            answer = _untyped(client).execute_command("CONFIG", "GET", "notify-keyspace-events")
        except redis.ResponseError as exc:  # CONFIG renamed or not permitted
            log.warning(
                "Cannot read notify-keyspace-events on redis at %s (%s): watch mode needs it to "
                "include %s, or changes go unnoticed", node, exc, _NEEDED_EVENTS,
            )  # fmt: skip
            return
        current = _text(answer[1]) if isinstance(answer, list) and len(answer) > 1 else ""
        wanted = _events_after(current)
        if wanted == current:
            return
        try:
            _untyped(client).execute_command("CONFIG", "SET", "notify-keyspace-events", wanted)
        except redis.ResponseError as exc:
            raise BackendError(
                f"redis at {node} sends no keyspace notifications (notify-keyspace-events is "
                f"{current!r}) and refused to turn them on ({exc}): set notify-keyspace-events "
                f"to {wanted!r} in redis.conf (or with CONFIG SET) for watch mode"
            ) from None
        log.info(
            "Turned on keyspace notifications on redis at %s for watch mode: "
            "notify-keyspace-events was %r, now %r", node, current, wanted,
        )  # fmt: skip

    @staticmethod
    def _subscribe(connection: Any, roots: _Roots, db: int) -> None:
        patterns = roots.patterns(db)
        connection.connect()
        connection.send_command("PSUBSCRIBE", *patterns)
        for _ in patterns:  # one confirmation each: then every later change is seen
            connection.read_response()

    def _follow(
        self, position: int, connection: Any, roots: _Roots, db: int, state: _WatchState, emit: Emit, stop: StopSignal
    ) -> None:
        channel = f"__keyspace@{db}__:".encode()
        pinged = False
        while not stop.is_set():
            try:
                ready = connection.can_read(timeout=self._timeout if pinged else _IDLE_PING)
                if not ready:
                    if pinged:
                        raise redis.TimeoutError("no answer to PING")
                    connection.send_command("PING")
                    pinged = True
                    continue
                pinged = False
                changed: dict[str, None] = {}
                while True:
                    message = connection.read_response()
                    if (
                        isinstance(message, list)
                        and len(message) == 4
                        and message[0] == b"pmessage"
                        and message[2].startswith(channel)
                    ):
                        changed[_text(message[2][len(channel) :])] = None
                    if len(changed) >= _BATCH or not connection.can_read(timeout=0):
                        break
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                if stop.is_set() or self._closed:
                    return
                raise BackendUnavailable(
                    f"lost the watch on redis at {self.nodes[position].text}: {_reason(exc, self._timeout)}"
                ) from None
            if changed and not stop.is_set():
                apply = functools.partial(self._apply, roots=roots, changed=list(changed), state=state, emit=emit)
                self._on_node(position, apply)

    def _apply(self, client: redis.Redis, roots: _Roots, changed: list[str], state: _WatchState, emit: Emit) -> None:
        """Read the notified keys again and emit what changed (or a fresh snapshot)."""
        root_keys = [k for k in changed if k in roots.by_redis_key]
        under = [(k, roots.scan_root(k)) for k in changed if k not in roots.by_redis_key]
        under = [(k, root) for k, root in under if root is not None and state.kinds.get(root) == "scan"]
        pipe = client.pipeline(transaction=False)
        for redis_key in root_keys:
            pipe.type(redis_key)
            pipe.get(redis_key)
            pipe.hgetall(redis_key)
        for redis_key, _ in under:
            pipe.get(redis_key)
        answers = pipe.execute(raise_on_error=False)
        changes: list[Change] = []
        for i, redis_key in enumerate(root_keys):
            kind, value, fields = answers[3 * i : 3 * i + 3]
            kind = _text(kind) if isinstance(kind, bytes) else "none"
            key = roots.by_redis_key[redis_key]
            before = state.kinds.get(key)
            if before == "string" and kind == "string" and isinstance(value, bytes):
                changes.append(Change(key, _text(value)))
            elif before == "hash" and kind == "hash" and isinstance(fields, dict):
                new = {self._from_redis(redis_key + "/" + _text(f)): _text(v) for f, v in fields.items()}
                changes.extend(state.hash_diff(key, new))
            elif not (before == "scan" and kind not in ("string", "hash")):
                changes = [_RESNAPSHOT]  # a value became a prefix or the other way round
                break
        for (redis_key, _), value in zip(under, answers[3 * len(root_keys) :]):
            if _RESNAPSHOT in changes:
                break
            store_key = self._from_redis(redis_key)
            changes.append(Change(store_key, _text(value) if isinstance(value, bytes) else None))
        if _RESNAPSHOT in changes or not state.applies(changes):
            state.reset(self._read(client, roots))
            emit(Snapshot(dict(sorted(state.values.items())), None))
            return
        for change in changes:
            if state.apply(change):
                emit(change)


_RESNAPSHOT = Change("", None)  # marker: read everything again


class _WatchState:
    """What the watch last emitted, so a notification becomes exact changes."""

    def __init__(self, read: _Read) -> None:
        self.reset(read)

    def reset(self, read: _Read) -> None:
        self.values = read.values
        self.kinds = read.kinds
        self.hash_fields = read.hash_fields

    def hash_diff(self, key: str, new: dict[str, str]) -> list[Change]:
        old = self.hash_fields.get(key, set())
        self.hash_fields[key] = set(new)
        changes = [Change(k, None) for k in sorted(old - set(new))]
        changes.extend(Change(k, v) for k, v in new.items() if self.values.get(k) != v)
        return changes

    def applies(self, changes: list[Change]) -> bool:
        """False when a deletion would take keys that still exist with it (a deleted
        ``/a`` while ``/a/b`` stays): a Change deletes everything under its key."""
        deleted = [c.key for c in changes if c.value is None and c.key in self.values]
        if not deleted:
            return True
        parents = {key[:i] for key in self.values for i in range(1, len(key)) if key[i] == "/"}
        return not any(key in parents for key in deleted)

    def apply(self, change: Change) -> bool:
        """Record ``change``; False when it changes nothing."""
        if change.value is None:
            return self.values.pop(change.key, None) is not None
        if self.values.get(change.key) == change.value:
            return False
        self.values[change.key] = change.value
        return True


def _shut(connection: Any) -> None:
    """Wake a thread blocked reading ``connection`` (close() alone would not)."""
    sock = getattr(connection, "_sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
