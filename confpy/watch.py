"""The watcher: one thread per backend that turns store changes into events for the daemon.

It reads a snapshot of the watched keys, hands it over, then asks the backend to report
the changes made after that snapshot (``Backend.watch``), so nothing that happens between
the read and the watch is lost. Every store follows the same loop; what is particular to
a store (long-polls, streams, pub/sub, znode watches, file events) lives in its module.

When the store goes away the watcher retries with backoff, logging the outage once and
the recovery once, then reads a new snapshot and goes on; so it does when the store has
forgotten the changes after the snapshot (``HistoryLost``).

Events go into the daemon's queue: ``SnapshotEvent`` (all values: replace what you have)
and ``ChangeEvent`` (one key set or deleted), each stamped with the clock's time.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .backends.base import Backend, Change, Snapshot, StopSignal
from .errors import BackendError, HistoryLost
from .log import log_fields
from .observe import NO_OBSERVER, Observer
from .plan import touches
from .retry import Backoff

__all__ = ["ChangeEvent", "SnapshotEvent", "Watcher"]

log = logging.getLogger("confpy.watch")


@dataclass(frozen=True)
class SnapshotEvent:
    snapshot: Snapshot
    reason: str  # "start", "new keys", "changed", "reconnected", "history lost"
    at: float = 0.0  # clock time it was queued


@dataclass(frozen=True)
class ChangeEvent:
    key: str
    value: str | None  # None: deleted (with everything under it, for a directory)
    index: int | None = None
    at: float = 0.0


class Watcher:
    """Follows ``keys`` of ``backend`` in a thread of its own, into ``events``."""

    # After handing an event over, give the daemon this long to process it before the
    # backend is asked for more: re-arming at once would fight the daemon for the GIL
    # while it renders (an HTTP request is half a millisecond of Python). The wait is
    # bounded, so a busy daemon never stalls the watch.
    HANDOVER_SECONDS = 0.02

    def __init__(
        self,
        backend: Backend,
        keys: Sequence[str],
        events: queue.SimpleQueue[Any],
        *,
        clock: Callable[[], float] = time.monotonic,
        observer: Observer = NO_OBSERVER,
    ) -> None:
        self.backend = backend
        self.observer = observer
        self.events = events
        self._clock = clock
        self._keys = tuple(keys)
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._session = StopSignal()  # ends the backend's current watch call
        self._consumed = threading.Event()  # the daemon has processed what we handed over
        self._thread = threading.Thread(target=self._run, name=f"confpy-watch-{backend.name}", daemon=True)
        self._down_since: float | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopped.set()
        with self._lock:
            self._session.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def set_keys(self, keys: Sequence[str]) -> None:
        """Watch other keys from now on: a new snapshot of them is read and handed over."""
        with self._lock:
            self._keys = tuple(keys)
            self._session.set()

    @property
    def keys(self) -> tuple[str, ...]:
        with self._lock:
            return self._keys

    def consumed(self) -> None:
        """The daemon has handled every event so far (and rendered what was due)."""
        self._consumed.set()

    # -- the thread -------------------------------------------------------------------

    def _run(self) -> None:
        reason = "start"
        backoff = Backoff()
        while not self._stopped.is_set():
            with self._lock:
                keys, session = self._keys, StopSignal()
                self._session = session
            snapshot = self._snapshot(keys, reason, backoff)
            if snapshot is None:
                return
            reason = "new keys"  # unless the watch below ends otherwise
            started = self._clock()
            try:
                if keys:
                    self.backend.watch(keys, snapshot.index, self._emitter(keys, backoff), session)
                else:
                    session.wait()  # nothing to watch until the keys change
            except HistoryLost as exc:
                log.warning("%s; reading all keys again", exc)
                reason = "history lost"
            except BackendError as exc:
                # The outage may have hidden changes: read everything again when back.
                if self._clock() - started >= backoff.cap:
                    backoff.reset()  # it had been working a while: a new outage
                self._went_down(exc)
                self._stopped.wait(backoff.next_delay())
                reason = "reconnected"

    def _emitter(self, keys: tuple[str, ...], backoff: Backoff) -> Callable[[Change | Snapshot], None]:
        def emit(item: Change | Snapshot) -> None:
            backoff.reset()  # the watch works: the next outage starts from a short delay
            if isinstance(item, Snapshot):
                self.observer.event_received(self.backend.name, "snapshot")
                self._hand_over(SnapshotEvent(item, "changed", self._clock()))
            elif touches(self.backend, keys, item.key):
                self.observer.event_received(self.backend.name, "change")
                self._hand_over(ChangeEvent(item.key, item.value, item.index, self._clock()))

        return emit

    def _hand_over(self, event: SnapshotEvent | ChangeEvent) -> None:
        self._consumed.clear()
        self.events.put(event)
        self._consumed.wait(self.HANDOVER_SECONDS)

    def _snapshot(self, keys: tuple[str, ...], reason: str, backoff: Backoff) -> Snapshot | None:
        """Read all of ``keys``, retrying with backoff until it works or we stop."""
        while not self._stopped.is_set():
            started = time.perf_counter()
            try:
                snapshot = self.backend.get_values(keys)
            except BackendError as exc:
                self.observer.store_read(self.backend.name, time.perf_counter() - started, False)
                self._went_down(exc)
                self._stopped.wait(backoff.next_delay())
                continue
            self.observer.store_read(self.backend.name, time.perf_counter() - started, True)
            self._came_back()
            self.events.put(SnapshotEvent(snapshot, reason, self._clock()))
            return snapshot
        return None

    def _went_down(self, exc: BackendError) -> None:
        if self._down_since is None:
            self._down_since = self._clock()
            log.error(
                "Watching the store failed: %s; retrying with backoff until it answers", exc, extra=log_fields(error=exc)
            )
            self.observer.watch_state(self.backend.name, False)

    def _came_back(self) -> None:
        if self._down_since is not None:
            log.info("The store answers again after %.1fs; reading all keys again", self._clock() - self._down_since)
            self._down_since = None
        self.observer.watch_state(self.backend.name, True)
