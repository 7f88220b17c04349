"""Trying again later: exponential backoff, and the reloads that failed.

Both take their clock and randomness from the caller, so tests drive them without
sleeping.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from .resources import TemplateResource

__all__ = ["Backoff", "ReloadRetry"]


class Backoff:
    """Exponential backoff with jitter: about 0.5 s, 1 s, 2 s... at most ``cap`` seconds.

    Each delay is drawn from the upper half of its step, so retries of several processes
    do not fall into lockstep. The cap bounds how long after the store comes back it is
    noticed.
    """

    def __init__(self, base: float = 0.5, cap: float = 10.0, rng: random.Random | None = None) -> None:
        self.base = base
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * (1 << self.attempt))
        self.attempt += 1
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        self.attempt = 0


class ReloadRetry:
    """Resources whose reload_cmd failed, and when to run it again.

    Each failure pushes the next attempt further out (5 s, 10 s, 20 s... at most 5
    minutes); a reload that works takes its resource off the list, and an empty list
    starts the backoff over.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        backoff: Backoff | None = None,
    ) -> None:
        self._clock = clock
        self._backoff = backoff or Backoff(base=5.0, cap=300.0)
        self._pending: dict[Path, TemplateResource] = {}
        self._at: float | None = None

    @property
    def pending(self) -> list[TemplateResource]:
        return list(self._pending.values())

    @property
    def paths(self) -> set[Path]:
        return set(self._pending)

    def deadline(self) -> float | None:
        """The clock time of the next attempt, None when nothing waits."""
        return self._at

    def due(self) -> bool:
        return self._at is not None and self._clock() >= self._at

    def update(self, reloaded: Iterable[TemplateResource], failed: Iterable[TemplateResource]) -> float | None:
        """After a cycle: ``reloaded`` ran their reload_cmd fine, ``failed`` did not.

        Returns the delay until the next attempt when some are pending (a new schedule
        is made only when something failed now), None when none are.
        """
        for resource in reloaded:
            self._pending.pop(resource.path, None)
        failed = list(failed)
        for resource in failed:
            self._pending[resource.path] = resource
        if not self._pending:
            self._backoff.reset()
            self._at = None
            return None
        if failed or self._at is None:
            delay = self._backoff.next_delay()
            self._at = self._clock() + delay
            return delay
        return self._at - self._clock()

    def owe(self, resources: Iterable[TemplateResource]) -> None:
        """Reloads owed from before (an earlier run's failures): due now."""
        for resource in resources:
            self._pending[resource.path] = resource
        if self._pending:
            self._at = self._clock()

    def forget(self, keep: Iterable[Path]) -> None:
        """Drop resources that are no longer loaded (conf.d was edited)."""
        kept = set(keep)
        for path in [p for p in self._pending if p not in kept]:
            del self._pending[path]
        if not self._pending:
            self._backoff.reset()
            self._at = None
