"""Liveness and readiness, as /health and /ready answer them.

``/health`` is 200 while the daemon runs its loop, and 503 before the loop starts, after
it was told to stop, and once the store has been unreachable for longer than the
threshold: the watcher (watch mode) or the tick's read (interval mode) failing without
a success in between. The default threshold, 3 x -backend-timeout plus the watcher's
backoff cap (10 s), is the longest a short blip takes to be retried and noticed twice
over: with the default 3 s timeout, 19 s. ``-unhealthy-after`` sets another. A restart
cannot bring a store back, so a liveness probe on /health only helps where the store is
reached through something a restart renews (a sidecar's network, DNS); set the probe's
failureThreshold with that in mind.

``/ready`` is 503 until every loaded resource has been synced once (its dest updated or
already right); a resource that failed (render error, check_cmd refused it, its reload
failed) does not count, so a pod whose nginx.conf was never written receives no
traffic. A resource that fails in the first cycle and syncs in a later one (a retried
reload, a fixed key) makes it ready then. Once ready it stays ready: a later failure
leaves the last good file in place, which still serves. With no resources loaded it is
not ready: nothing has been rendered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from .observe import Observer, SyncResult
from .retry import Backoff

__all__ = ["Health", "default_unhealthy_after"]


def default_unhealthy_after(backend_timeout: float) -> float:
    return 3 * backend_timeout + Backoff().cap


class Health(Observer):
    def __init__(self, unhealthy_after: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.unhealthy_after = unhealthy_after
        self._clock = clock
        self._lock = threading.Lock()
        self._running = False
        self._stopping = False
        self._down_since: float | None = None
        self._loaded: set[str] = set()
        self._synced: set[str] = set()
        self._ready = False

    # -- what the endpoints answer ------------------------------------------------------

    def health(self) -> tuple[bool, str]:
        """(healthy, a line saying why)."""
        with self._lock:
            if self._stopping:
                return False, "stopping"
            if not self._running:
                return False, "starting"
            if self._down_since is not None:
                down = self._clock() - self._down_since
                if down > self.unhealthy_after:
                    return False, f"store unreachable for {down:.0f}s (more than {self.unhealthy_after:g}s)"
                return True, f"ok (store unreachable for {down:.0f}s)"
            return True, "ok"

    def ready(self) -> tuple[bool, str]:
        with self._lock:
            if self._ready:
                return True, "ready"
            if not self._loaded:
                return False, "no resources loaded"
            waiting = sorted(self._loaded - self._synced)
            return False, f"not synced yet: {', '.join(waiting)}"

    # -- hooks --------------------------------------------------------------------------

    def loop_started(self, mode: str) -> None:
        with self._lock:
            self._running = True

    def stopping(self, reason: str) -> None:
        with self._lock:
            self._stopping = True

    def resources_loaded(self, labels: Sequence[str]) -> None:
        with self._lock:
            self._loaded = set(labels)
            self._synced &= self._loaded
            self._check_ready()

    def synced(self, resource: str, result: str) -> None:
        with self._lock:
            if result == SyncResult.FAILED:
                self._synced.discard(resource)
            else:
                self._synced.add(resource)
                self._check_ready()

    def store_read(self, backend: str, seconds: float, ok: bool) -> None:
        self._store(ok)

    def watch_state(self, backend: str, connected: bool) -> None:
        self._store(connected)

    def _store(self, up: bool) -> None:
        with self._lock:
            if up:
                self._down_since = None
            elif self._down_since is None:
                self._down_since = self._clock()

    def _check_ready(self) -> None:
        if self._loaded and self._loaded <= self._synced:
            self._ready = True
