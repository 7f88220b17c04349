"""The debounce window of watch mode: when a burst of changes is due to render.

A batch becomes due after MIN seconds with no new change, and at the latest MAX seconds
after its first change, so a steady stream of writes still renders regularly. With MIN 0
every batch is due at once. Time comes from an injected clock, so tests drive it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Debounce"]


class Debounce:
    def __init__(self, quiet: float, cap: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.quiet = max(0.0, quiet)
        self.cap = cap if cap > 0 else 0.0
        self._clock = clock
        self._first: float | None = None  # first change of the pending batch
        self._last = 0.0  # latest change of the pending batch
        self._urgent = False

    @property
    def pending(self) -> bool:
        return self._first is not None

    def changed(self, at: float | None = None, *, urgent: bool = False) -> None:
        """A change arrived (at clock time ``at``, default now). ``urgent`` makes the
        batch due at once (the first snapshot: start-up does not wait for quiet)."""
        at = self._clock() if at is None else at
        if self._first is None:
            self._first = at
        self._last = max(self._last, at)
        self._urgent |= urgent

    def deadline(self) -> float | None:
        """The clock time the pending batch becomes due; None when nothing is pending."""
        if self._first is None:
            return None
        if self._urgent or self.quiet <= 0:
            return self._first
        due = self._last + self.quiet
        if self.cap > 0:
            due = min(due, self._first + self.cap)
        return due

    def due(self) -> bool:
        deadline = self.deadline()
        return deadline is not None and self._clock() >= deadline

    def take(self) -> None:
        """The pending batch is being rendered: changes from now on form the next one."""
        self._first, self._last, self._urgent = None, 0.0, False
