"""Watchers: one thread per backend that turns store changes into events for the daemon.

A watcher owns the store's side of watch mode. It reads a full snapshot of the watched
keys, hands it over, then follows the changes after the snapshot's index, so nothing that
happens between the read and the watch is lost. When the store goes away it retries with
backoff (logging the outage once, and the recovery once), then reads a new snapshot and
goes on; so does it when etcd has forgotten the index it was at.

Events go into the daemon's queue: ``SnapshotEvent`` (all values, replace what you have)
and ``ChangeEvent`` (one key set or deleted).
"""

from __future__ import annotations

import logging
import os
import posixpath
import queue
import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .backends.base import Backend, Snapshot
from .errors import BackendError, BackendUnavailable
from .plan import touches

__all__ = ["Backoff", "ChangeEvent", "SnapshotEvent", "Watcher", "create_watcher"]

log = logging.getLogger("confpy.watch")


@dataclass(frozen=True)
class SnapshotEvent:
    snapshot: Snapshot
    reason: str


@dataclass(frozen=True)
class ChangeEvent:
    key: str
    value: str | None  # None: deleted (with everything under it, for a directory)
    index: int


class Backoff:
    """Exponential backoff with jitter: about 0.5 s, 1 s, 2 s... at most ``cap`` seconds.

    The cap bounds how long after the store comes back we notice it.
    """

    def __init__(self, base: float = 0.5, cap: float = 10.0, rng: random.Random | None = None) -> None:
        self.base = base
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * (2**self.attempt))
        self.attempt += 1
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        self.attempt = 0


class Watcher(ABC):
    """Base: a thread that reads snapshots and follows changes of ``keys``."""

    def __init__(self, backend: Backend, keys: Sequence[str], events: queue.SimpleQueue[Any]) -> None:
        self.backend = backend
        self.events = events
        self._keys = tuple(keys)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by set_keys and stop, for waits of our own
        self._consumed = threading.Event()  # the daemon has processed what we handed over
        self._new_keys = False
        self._thread = threading.Thread(target=self._run, name=f"confpy-watch-{backend.name}", daemon=True)
        self._down_since: float | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._interrupt()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def set_keys(self, keys: Sequence[str]) -> None:
        """Watch other keys from now on: a new snapshot of them is read and handed over."""
        with self._lock:
            self._keys = tuple(keys)
            self._new_keys = True
        self._interrupt()

    def consumed(self) -> None:
        """The daemon has handled every event so far (and rendered what was due)."""
        self._consumed.set()

    def _hand_over(self, event: Any) -> None:
        """Queue an event, then give the daemon a moment to process it before going on.

        Re-arming the next long-poll at once would fight the daemon for the GIL while it
        renders (an HTTP request is half a millisecond of Python); waiting costs nothing
        since the next poll starts from the next index anyway. The wait is bounded, so a
        busy daemon never stalls the watch.
        """
        self._consumed.clear()
        self.events.put(event)
        self._consumed.wait(self.HANDOVER_SECONDS)

    HANDOVER_SECONDS = 0.02

    @property
    def keys(self) -> tuple[str, ...]:
        with self._lock:
            return self._keys

    def _interrupt(self) -> None:
        """Wake the thread if it is blocked waiting for the store."""
        self._wake.set()

    @abstractmethod
    def _run(self) -> None:
        """The thread's body: snapshots and changes into ``self.events`` until stopped."""

    def _snapshot(self, reason: str) -> Snapshot | None:
        """Read all watched keys, retrying with backoff until it works or we stop."""
        backoff = Backoff()
        while not self._stop.is_set():
            with self._lock:
                keys, self._new_keys = self._keys, False
            try:
                snapshot = self.backend.get_values(keys)
            except BackendError as exc:
                self._went_down(exc)
                self._stop.wait(backoff.next_delay())
                continue
            self._came_back()
            self.events.put(SnapshotEvent(snapshot, reason))
            return snapshot
        return None

    def _pause(self, exc: BackendError, backoff: Backoff) -> str:
        """After a failed watch: note the outage, wait a backoff step; the reason to re-read."""
        self._went_down(exc)
        self._stop.wait(backoff.next_delay())
        return "reconnected" if isinstance(exc, BackendUnavailable) else "error"

    def _went_down(self, exc: BackendError) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            log.error("Watching the store failed: %s; retrying with backoff until it answers", exc)

    def _came_back(self) -> None:
        if self._down_since is not None:
            log.info("The store answers again after %.1fs; reading all keys again", time.monotonic() - self._down_since)
            self._down_since = None


class EtcdV2Watcher(Watcher):
    """etcd v2: one recursive long-poll on the common prefix of every watched key."""

    # A long-poll that sees nothing for this long is re-armed; it bounds how long a
    # silently dead connection (no RST, no FIN) goes unnoticed.
    POLL_SECONDS = 60.0

    def _interrupt(self) -> None:
        super()._interrupt()
        interrupt = getattr(self.backend, "interrupt_waits", None)
        if interrupt is not None:
            interrupt()

    def _run(self) -> None:
        from .backends.etcd import EtcdIndexCleared

        wait: Callable[[str, int, float | None], Any] = self.backend.wait  # type: ignore[attr-defined]
        reason = "start"
        while not self._stop.is_set():
            snapshot = self._snapshot(reason)
            if snapshot is None:
                return
            keys = self.keys
            root = posixpath.commonpath(keys) if keys else "/"
            index = (snapshot.index or 0) + 1
            backoff = Backoff()
            while not self._stop.is_set():
                if self._new_keys:
                    reason = "new keys"
                    break
                try:
                    result = wait(root, index, self.POLL_SECONDS)
                except EtcdIndexCleared as exc:
                    log.warning("etcd forgot the events after index %d (%s); reading all keys again", index - 1, exc)
                    reason = "index cleared"
                    break
                except BackendError as exc:
                    # The outage may have hidden changes: read everything again when back.
                    reason = self._pause(exc, backoff)
                    break
                backoff.reset()
                if result is None:  # timed out or interrupted: poll again from the same index
                    continue
                index = result.modified_index + 1
                if touches(self.backend, keys, result.key):
                    deleted = result.action in ("delete", "compareAndDelete", "expire")
                    self._hand_over(ChangeEvent(result.key, None if deleted or result.dir else result.value, result.modified_index))


class EtcdV3Watcher(Watcher):
    """etcd v3: one watch stream on the common prefix of every watched key, from the
    snapshot's revision + 1, resumed from the last revision seen."""

    _watched: tuple[str, ...] = ()
    _next_revision = 0

    def _on_event(self, key: str, value: str | None, revision: int) -> None:
        self._next_revision = revision + 1
        if touches(self.backend, self._watched, key):
            self._hand_over(ChangeEvent(key, value, revision))

    def _run(self) -> None:
        from .backends.etcdv3 import EtcdCompacted

        watch: Callable[..., None] = self.backend.watch  # type: ignore[attr-defined]
        reason = "start"
        while not self._stop.is_set():
            self._wake.clear()  # set by set_keys and stop: it ends the watch below
            snapshot = self._snapshot(reason)
            if snapshot is None:
                return
            self._watched = self.keys
            root = posixpath.commonpath(self._watched) if self._watched else "/"
            self._next_revision = (snapshot.index or 0) + 1
            backoff = Backoff()
            while not self._stop.is_set():
                if self._new_keys:
                    reason = "new keys"
                    break
                try:
                    watch(root, self._next_revision, self._on_event, self._wake)
                except EtcdCompacted as exc:
                    log.warning(
                        "etcd compacted the revisions after %d (%s); reading all keys again",
                        self._next_revision - 1,
                        exc,
                    )
                    reason = "compacted"
                    break
                except BackendError as exc:
                    reason = self._pause(exc, backoff)
                    break
                backoff.reset()


class PollingWatcher(Watcher):
    """Stores that only tell "something changed" (files): re-read everything on a change."""

    def __init__(self, backend: Backend, keys: Sequence[str], events: queue.SimpleQueue[Any], sources: Sequence[str]) -> None:
        super().__init__(backend, keys, events)
        # Watch directories, not files: an editor or a config manager often replaces a
        # file by renaming another over it, which a watch on the old inode would miss.
        self._sources = [os.path.abspath(s) for s in sources]
        self._dirs = sorted({s if os.path.isdir(s) else os.path.dirname(s) for s in self._sources})

    def _concerns(self, path: str) -> bool:
        return any(path == s or path.startswith(s.rstrip("/") + "/") for s in self._sources)

    def _run(self) -> None:
        import watchfiles

        if self._snapshot("start") is None:
            return
        while not self._stop.is_set():
            for changes in watchfiles.watch(*self._dirs, stop_event=self._wake, debounce=50, rust_timeout=1000):
                if any(self._concerns(path) for _, path in changes) and self._snapshot("files changed") is None:
                    return
            self._wake.clear()  # woken by set_keys (or stop): read the new keys
            if not self._stop.is_set() and self._snapshot("new keys") is None:
                return


class StaticWatcher(Watcher):
    """Stores with no way to watch (env): a snapshot at start and when the keys change."""

    def _run(self) -> None:
        self._snapshot("start")
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._new_keys and not self._stop.is_set():
                self._snapshot("new keys")


def create_watcher(backend: Backend, keys: Sequence[str], events: queue.SimpleQueue[Any]) -> Watcher:
    if hasattr(backend, "watch"):
        return EtcdV3Watcher(backend, keys, events)
    if hasattr(backend, "wait"):
        return EtcdV2Watcher(backend, keys, events)
    files = getattr(backend, "files", None)
    if files:
        return PollingWatcher(backend, keys, events, list(files))
    return StaticWatcher(backend, keys, events)
