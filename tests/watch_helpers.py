"""Running a backend's ``watch`` in a thread of a test and looking at what it emitted."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from confpy.backends.base import Backend, Change, Snapshot, StopSignal

__all__ = ["WatchRun"]


class WatchRun:
    """``backend.watch(keys, since, emit, stop)`` in a daemon thread, every emit recorded.

    ``mirror`` applies the emits as a daemon would (a snapshot replaces everything, a
    change sets a key or deletes it with everything under it), so a test can compare it
    with what the store holds.
    """

    def __init__(self, backend: Backend, keys: Sequence[str], since: int | None = None) -> None:
        self.backend = backend
        self.stop_signal = StopSignal()
        self.events: list[Change | Snapshot] = []
        self.mirror: dict[str, str] = {}
        self.outcome: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self.thread = threading.Thread(target=self._run, args=(list(keys), since), daemon=True)
        self.thread.start()

    def _run(self, keys: list[str], since: int | None) -> None:
        try:
            self.outcome["result"] = self.backend.watch(keys, since, self._emit, self.stop_signal)
        except Exception as exc:  # handed to the test thread
            self.outcome["error"] = exc
        with self._changed:
            self._changed.notify_all()

    def _emit(self, event: Change | Snapshot) -> None:
        assert isinstance(event, (Change, Snapshot)), event
        with self._changed:
            self.events.append(event)
            if isinstance(event, Snapshot):
                self.mirror = dict(event.values)
            elif event.value is not None:
                self.mirror[event.key] = event.value
            else:
                prefix = event.key.rstrip("/") + "/"
                for key in [k for k in self.mirror if k == event.key or k.startswith(prefix)]:
                    del self.mirror[key]
            self._changed.notify_all()

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
        """Until ``condition()`` holds (it is checked after each emit)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                if "error" in self.outcome:
                    raise AssertionError(f"the watch failed while waiting for {what}: {self.outcome['error']!r}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}; events: {self.events}")
                self._changed.wait(remaining)

    def wait_mirror(self, expected: dict[str, str], timeout: float = 10.0) -> None:
        self.wait_for(lambda: self.mirror == expected, f"the mirror to be {expected}", timeout)

    def snapshots(self) -> int:
        return sum(isinstance(e, Snapshot) for e in self.events)

    def changes(self) -> list[Change]:
        return [e for e in self.events if isinstance(e, Change)]

    def wait_started(self, timeout: float = 10.0) -> None:
        """Until the first snapshot (the watch is subscribed) or a change arrived."""
        self.wait_for(lambda: bool(self.events), "the watch to start", timeout)

    def stop(self, within: float = 2.0) -> float:
        """Set the stop signal; the seconds the watch took to return (fails past ``within``)."""
        started = time.monotonic()
        self.stop_signal.set()
        self.thread.join(within)
        assert not self.thread.is_alive(), f"the watch did not return within {within}s of stop"
        return time.monotonic() - started

    def finished(self, timeout: float = 10.0) -> dict[str, Any]:
        """Wait for the watch to return by itself (an error); its outcome."""
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"the watch still runs after {timeout}s"
        return self.outcome
