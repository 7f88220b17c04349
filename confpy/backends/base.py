"""The small protocol every key/value store implements, and its plain records."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import NamedTuple, Protocol

from confpy.errors import ConfigError
from confpy.golang import path as gopath

__all__ = ["DEFAULT_TIMEOUT", "Backend", "BackendSettings", "Change", "Emit", "Snapshot", "StopSignal", "path_key_matches"]


# confd's clients give up on a node after 3 s (etcd's header timeout, consul's dial).
DEFAULT_TIMEOUT = 3.0


class BackendSettings(NamedTuple):
    """What a backend needs from confpy's settings (confd's flag names in comments)."""

    backend: str = "etcd"  # -backend
    nodes: tuple[str, ...] = ()  # -node (repeatable)
    scheme: str = "http"  # -scheme
    basic_auth: bool = False  # -basic-auth
    username: str = ""  # -username
    password: str = ""  # -password (redis: the password too, as -client-key)
    auth_token: str = ""  # -auth-token (consul: the ACL token)
    client_cert: str = ""  # -client-cert
    client_key: str = ""  # -client-key
    client_cakeys: str = ""  # -client-ca-keys
    client_insecure: bool = False  # -client-insecure
    files: tuple[str, ...] = ()  # -file (repeatable)
    filter: str = "*"  # -filter
    separator: str = ""  # -separator (redis)
    timeout: float = DEFAULT_TIMEOUT  # -backend-timeout: bound on connecting and on each answer
    environ: Mapping[str, str] | None = None  # env backend source

    def nodes_of(self, store: str) -> tuple[str, ...]:
        """The nodes a networked store connects to; ConfigError when there are none."""
        if not self.nodes:
            raise ConfigError(f"{store} backend: no nodes given (-node)")
        return self.nodes

    @property
    def answer_timeout(self) -> float:
        """-backend-timeout, or confd's 3 s when it is unset or not positive."""
        return self.timeout if self.timeout and self.timeout > 0 else DEFAULT_TIMEOUT


class Snapshot(NamedTuple):
    """The values read from the store for a set of keys.

    ``values`` maps full store keys (leading ``/``) to values. ``index`` is the store's
    revision the read reflects (etcd v2's ``X-Etcd-Index``; the lowest one when several
    requests were made), or None when the store has no such notion. A watch that starts
    from ``index + 1`` misses nothing that happened after the read.
    """

    values: Mapping[str, str]
    index: int | None = None  # type: ignore[assignment]  # the store's revision (X-Etcd-Index, X-Consul-Index): confd's word; it shadows tuple.index(), never called on a record


class Change(NamedTuple):
    """One key set or deleted in the store, as a watch reports it."""

    key: str  # full store key, leading ``/``
    value: str | None  # None: deleted, with everything under it (a directory)
    index: int | None = None  # type: ignore[assignment]  # the store's revision of the change; shadows tuple.index(), never called on a record


Emit = Callable[["Change | Snapshot"], None]


class StopSignal:
    """A ``threading.Event`` that also runs callbacks when it is set.

    A watch blocked in a read (a socket, a pub/sub connection, a library's queue)
    registers with ``on_set`` what wakes it (shut the socket down, close the
    connection), so stopping takes effect at once instead of at the next timeout.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def set(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._event.wait(timeout)

    @contextmanager
    def on_set(self, callback: Callable[[], None]) -> Iterator[None]:
        """Run ``callback`` when the signal is set while the ``with`` block runs (at
        once if it is set already)."""
        with self._lock:
            registered = not self._event.is_set()
            if registered:
                self._callbacks.append(callback)
        if not registered:
            callback()
        try:
            yield
        finally:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)


class Backend(Protocol):
    """A key/value store. Implementations live in ``confpy.backends.<name>``."""

    name: str
    # True when every key that key_matches(k, found) accepts starts with k as a string,
    # so the keys matched by k form one run of the sorted snapshot (fast views).
    prefix_ordered: bool

    def get_values(self, keys: Sequence[str]) -> Snapshot:
        """Read every key under each of ``keys`` (full keys, leading ``/``).

        A key that does not exist is simply absent from the result. Raise
        ``BackendUnavailable`` when no node answers, ``BackendError`` for any other failure.
        """
        ...

    def key_matches(self, requested: str, found: str) -> bool:
        """True when ``found`` is one of the keys that reading ``requested`` returns.

        The fetch plan folds a requested key into another one with it, and a resource's
        view keeps the snapshot keys matched by one of the resource's own keys.
        """
        ...

    def watch(self, keys: Sequence[str], since: int | None, emit: Emit, stop: StopSignal) -> None:
        """Report the changes to ``keys`` (and everything under them) made after the
        snapshot whose index is ``since``, until ``stop`` is set; then return.

        ``emit(Change(...))`` for each key set or deleted (changes outside ``keys`` may be
        emitted too: the caller filters them). ``emit(snapshot)`` with a fresh
        ``get_values(keys)`` when the store can only say that something changed, and
        right after subscribing when it has no index to resume from (``since`` is None):
        that read closes the gap between the caller's snapshot and the subscription.

        Raise ``BackendUnavailable`` when the store goes away and ``HistoryLost`` when the
        changes after ``since`` are no longer kept: the caller waits, reads every key
        again and calls ``watch`` anew. ``BackendError`` for anything else. A store that
        cannot watch blocks until ``stop`` is set; that is the one place it says so.
        """
        ...

    def sources(self) -> str:
        """The nodes or files read, for confd's ``Backend source(s) set to ...`` line."""
        ...

    def close(self) -> None:
        """Release connections; the backend is not used afterwards."""
        ...


def path_key_matches(requested: str, found: str) -> bool:
    """Matching with a path boundary: ``/app`` matches ``/app`` and ``/app/x``, not ``/apple``."""
    requested = gopath.clean(requested) if requested else "/"
    if requested == "/":
        return found.startswith("/")
    return found == requested or found.startswith(requested + "/")
