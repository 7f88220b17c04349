"""The daemon: interval mode (confd's default) and watch mode, on the one-shot ``Cycle``.

Interval mode reads conf.d and every key each tick. Watch mode keeps one ``Watcher`` per
backend and a copy of the watched keys (the mirror); each change marks the resources
whose keys it touches, and when the ``Debounce`` window says so those resources render
once and each distinct reload_cmd runs once. Nothing is written from incomplete data:
until a full snapshot has arrived nothing renders, and while the store is away the
files stay as they are. In both modes a failed reload is tried again on the
``ReloadRetry`` schedule, at the time the log announces. Content rolled back after a
failed reload (``rollback``) is not written again until it changes, or SIGHUP.

Signals: SIGTERM/SIGINT finish the sync under way and exit 0 (a second one aborts it,
removing its stage file); SIGHUP re-reads confd.toml, conf.d and the templates, and
switches to a new backend when its settings changed (closing the one it replaces). In
watch mode, edits to conf.d and templates are picked up by themselves (``-watch-confdir``).

The daemon runs in any thread (signals are then left alone), and ``stop()`` ends it.
"""

from __future__ import annotations

import logging
import math
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from .backends.base import Backend, Snapshot
from .confdirwatch import ConfdirWatcher
from .debounce import Debounce
from .errors import BackendError, ConfigError
from .log import log_fields
from .observe import NO_OBSERVER, Observer
from .plan import FetchPlan, touches
from .problems import WarnOnce
from .processor import (
    Cycle,
    CycleResult,
    backend_settings,
    failed_labels,
    load_or_wait,
    pending_reloads,
    sync_options,
)
from .render import Renderer
from .resources import TemplateResource
from .retry import Backoff, ReloadRetry
from .rollback import Rejected
from .settings import Settings
from .watch import ChangeEvent, SnapshotEvent, Watcher

__all__ = ["Daemon", "Reconfigure", "run_daemon"]

log = logging.getLogger("confpy.daemon")


@dataclass(frozen=True)
class Reconfigure:
    """Read the settings, conf.d and templates again (SIGHUP, an edit in the confdir)."""

    reason: str


_WAKE = object()  # queued to end a wait on the event queue


class _Abort(BaseException):
    """A second SIGTERM/SIGINT: give up on the sync under way (its stage file is removed)."""


def run_daemon(
    settings: Settings,
    backend: Backend,
    reload_settings: Callable[[], Settings] | None = None,
    observer: Observer = NO_OBSERVER,
) -> int:
    return Daemon(settings, backend, reload_settings, observer=observer).run()


class Daemon:
    def __init__(
        self,
        settings: Settings,
        backend: Backend,
        reload_settings: Callable[[], Settings] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        retry: ReloadRetry | None = None,
        observer: Observer = NO_OBSERVER,
    ) -> None:
        self.settings = settings
        self.observer = observer
        self.backend = backend
        self.reload_settings = reload_settings
        self.events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.renderer = Renderer()
        self.resources: list[TemplateResource] = []
        self.retry = retry or ReloadRetry(clock)
        self.rejected = Rejected()  # content rolled back: not written again until it changes
        self.stopping: str | None = None
        self._clock = clock
        self._owned: list[Backend] = []  # backends this daemon made (on SIGHUP)
        self._config_read_at = 0.0  # time.time() when conf.d was last read
        self._watcher: Watcher | None = None
        self._pending = pending_reloads(settings)
        self._warn = WarnOnce(log)  # conf.d is read at every tick: an unknown field is told once

    # -- entry --------------------------------------------------------------------------

    def run(self) -> int:
        previous = self._install_signals()
        try:
            try:
                self._config_read_at = time.time()
                self.resources = load_or_wait(self.settings, self._warn)
            except ConfigError as exc:
                log.critical("%s", exc)
                return 1
            self.observer.loop_started("watch" if self.settings.watch else "interval")
            self.observer.resources_loaded([r.label for r in self.resources])
            if self._commands_run:
                owed = self._pending.owed(self.resources)
                for resource in owed:
                    log.info(
                        "The reload of %s failed in an earlier run; running it again (resource %s)",
                        resource.dest, resource.label, extra=log_fields(resource=resource.label, dest=resource.dest),
                    )  # fmt: skip
                self.retry.owe(owed)
            return self._watch_mode() if self.settings.watch else self._interval_mode()
        except _Abort:
            return 0
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            for backend in self._owned:
                backend.close()

    @property
    def _commands_run(self) -> bool:
        return not (self.settings.noop or self.settings.sync_only)

    def stop(self, reason: str = "stop requested") -> None:
        """End the daemon after the sync under way (from any thread)."""
        if self.stopping is None:
            self.stopping = reason
            log.info("Captured %s. Exiting...", reason)
            self.observer.stopping(reason)
        self.events.put(_WAKE)

    def reconfigure(self, reason: str) -> None:
        """Ask for settings, conf.d and templates to be read again (from any thread)."""
        self.events.put(Reconfigure(reason))

    def _install_signals(self) -> dict[int, Any]:
        previous: dict[int, Any] = {}
        if threading.current_thread() is not threading.main_thread():
            return previous  # signals can only be handled in the main thread
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            previous[signum] = signal.signal(signum, self._on_signal)
        return previous

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self.reconfigure("SIGHUP")
        elif self.stopping is not None:
            raise _Abort()
        else:
            self.stop("terminated" if signum == signal.SIGTERM else "interrupt")

    # -- interval mode ------------------------------------------------------------------

    def _interval_mode(self) -> int:
        backoff = Backoff(cap=max(1.0, float(self.settings.interval)))
        down_since: float | None = None
        first, reconfigure = True, None
        while self.stopping is None:
            if reconfigure is not None:  # SIGHUP: confd.toml too, then this tick
                self._reconfigure(reconfigure.reason)
            elif not first:  # conf.d is read again each tick, as confd does
                self._reload_resources()
            first = False
            delay = float(self.settings.interval)
            plan = FetchPlan.for_resources(self.resources, self.backend)
            started = time.perf_counter()
            try:
                snapshot = self.backend.get_values(plan.keys) if plan.keys else Snapshot({})
            except BackendError as exc:
                self.observer.store_read(self.backend.name, time.perf_counter() - started, False)
                if down_since is None:
                    down_since = self._clock()
                    log.error(
                        "Reading the store failed: %s; keeping the files as they are and retrying", exc,
                        extra=log_fields(error=exc),
                    )  # fmt: skip
                delay = min(delay, backoff.next_delay())
            else:
                if plan.keys:
                    self.observer.store_read(self.backend.name, time.perf_counter() - started, True)
                if down_since is not None:
                    log.info("The store answers again after %.1fs", self._clock() - down_since)
                    down_since = None
                backoff.reset()
                self._run_cycle(self.resources, snapshot)
            reconfigure = self._wait_for_tick(self._clock() + delay)
        return 0

    def _wait_for_tick(self, tick: float) -> Reconfigure | None:
        """Wait for the next tick, running failed reloads again when their time comes; a
        SIGHUP ends the wait at once and is returned."""
        while self.stopping is None:
            event = self._next_event(min(tick, self.retry.deadline() or math.inf))
            if isinstance(event, Reconfigure):
                return event
            if self.retry.due():
                self._run_cycle(self.retry.pending, None)  # read afresh: the tick's data is old
            elif self._clock() >= tick:
                return None
        return None

    # -- watch mode ---------------------------------------------------------------------

    def _watch_mode(self) -> int:
        mode = _WatchMode(self)
        confdir = ConfdirWatcher(self.settings, self.reconfigure, lambda: self._config_read_at)
        if self.settings.watch_confdir:
            confdir.start()
        try:
            return mode.run()
        finally:
            confdir.stop()
            mode.stop_watcher()

    # -- shared -------------------------------------------------------------------------

    def _next_event(self, deadline: float) -> Any:
        """The next queued event, or None once the clock passes ``deadline`` (inf: none)."""
        timeout = None if deadline == math.inf else max(0.0, deadline - self._clock())
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def _run_cycle(
        self, resources: Sequence[TemplateResource], snapshot: Snapshot | None, *, batch_reloads: bool = False
    ) -> CycleResult:
        """Render and sync ``resources`` (reading their keys when ``snapshot`` is None),
        running pending reloads again, and reschedule those that fail."""
        cycle = Cycle(self.backend, sync_options(self.settings), self.renderer, self.observer, self.rejected)
        self.observer.cycle_started()
        result = cycle.run(
            resources,
            snapshot,
            batch_reloads=batch_reloads,
            force_reload=self.retry.paths,
            should_stop=lambda: self.stopping is not None,
        )
        if self.observer is not NO_OBSERVER:
            full = {r.path for r in resources} >= {r.path for r in self.resources}
            self.observer.cycle_done(full, failed_labels(result))
        delay = self.retry.update(result.reloaded, result.reload_failed)
        if self._commands_run:
            self._pending.update(result.reload_failed, result.reloaded)
        if delay is not None and result.reload_failed:
            count = len(self.retry.pending)
            log.info("Retrying the failed reload of %d resource(s) in %.0fs", count, delay)
        return result

    def _reload_resources(self) -> bool:
        """Read conf.d again; keep the resources we have if it is broken. True if read."""
        self._config_read_at = time.time()
        try:
            resources = load_or_wait(self.settings, self._warn)
        except ConfigError as exc:
            log.error("%s; keeping the %d resource(s) loaded before", exc, len(self.resources))
            return False
        self.resources = resources
        self.retry.forget(r.path for r in self.resources)
        self.rejected.forget(r.path for r in self.resources)
        self.observer.resources_loaded([r.label for r in resources])
        return True

    def _reconfigure(self, reason: str) -> bool:
        """SIGHUP or an edit in the confdir: re-read settings, conf.d and templates."""
        log.info("Reloading configuration (%s)", reason)
        self.rejected.clear()  # asked to try again: content rolled back before is written again
        self.observer.reconfiguring(reason)
        loaded = self._reread()
        self.observer.reconfigured(loaded)
        return loaded

    def _reread(self) -> bool:
        """Settings (switching backends if theirs changed), then conf.d. True if read."""
        if self.reload_settings is not None:
            try:
                settings = self.reload_settings()
            except (ConfigError, ValueError) as exc:
                log.error("Cannot reload settings, keeping the current ones: %s", exc)
                settings = self.settings
            if backend_settings(settings) != backend_settings(self.settings):
                self._switch_backend(settings)
            self.settings = settings
        return self._reload_resources()

    def _switch_backend(self, settings: Settings) -> None:
        """Use a backend made from new settings; the one it replaces is closed (after its
        watcher, if any, has stopped)."""
        from .backends.registry import create_backend

        try:
            backend = create_backend(backend_settings(settings))
        except ConfigError as exc:
            log.error("Cannot use the new backend settings, keeping the current backend: %s", exc)
            return
        log.info("Backend set to %s", settings.backend)
        log.info("Backend source(s) set to %s", backend.sources())
        replaced, self.backend = self.backend, backend
        self._owned.append(backend)
        if self._watcher is not None and self._watcher.backend is replaced:
            self._watcher.stop()
            self._watcher = None
        replaced.close()
        if replaced in self._owned:
            self._owned.remove(replaced)


class _WatchMode:
    """Watch mode's loop over a daemon: the mirror of the watched keys, the resources to
    render next (by conf.d path) and the debounce window."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.mirror: dict[str, str] | None = None  # the watched keys, as the store has them
        self.dirty: set[Path] = set()
        self.debounce = self._new_debounce()

    def _new_debounce(self) -> Debounce:
        settings = self.daemon.settings
        return Debounce(settings.debounce_min, settings.debounce_max, self.daemon._clock)

    def run(self) -> int:
        daemon = self.daemon
        self._start_watcher()
        while daemon.stopping is None:
            deadline = min(self.debounce.deadline() or math.inf, daemon.retry.deadline() or math.inf)
            event = daemon._next_event(deadline if self.mirror is not None else math.inf)
            if event is not None:
                self._handle(event)
                if self.debounce.quiet <= 0:
                    while not daemon.events.empty():  # what is queued already joins this batch
                        self._handle(daemon.events.get())
            watcher = daemon._watcher
            if self.mirror is not None and daemon.stopping is None:
                if self.dirty and self.debounce.due():
                    batch = [r for r in daemon.resources if r.path in self.dirty]
                    self.dirty.clear()
                    self.debounce.take()
                    daemon.observer.debounce_batch(len(batch))
                    daemon._run_cycle(batch, Snapshot(self.mirror), batch_reloads=True)
                elif daemon.retry.due():
                    daemon._run_cycle(daemon.retry.pending, Snapshot(self.mirror), batch_reloads=True)
            if watcher is not None and daemon.events.empty():
                watcher.consumed()
        return 0

    def stop_watcher(self) -> None:
        if self.daemon._watcher is not None:
            self.daemon._watcher.stop()
            self.daemon._watcher = None

    def _start_watcher(self) -> None:
        daemon = self.daemon
        plan = FetchPlan.for_resources(daemon.resources, daemon.backend)
        daemon._watcher = Watcher(daemon.backend, plan.keys, daemon.events, clock=daemon._clock, observer=daemon.observer)
        daemon._watcher.start()

    def _handle(self, event: Any) -> None:
        daemon = self.daemon
        if isinstance(event, SnapshotEvent):
            previous, self.mirror = self.mirror, dict(event.snapshot.values)
            if previous is None or event.reason in ("start", "new keys"):
                self._mark(daemon.resources, event.at, urgent=event.reason == "start")
            else:  # the same keys read again: render what changed
                changed = {k for k in previous.keys() | self.mirror.keys() if previous.get(k) != self.mirror.get(k)}
                self._mark(self._affected(changed), event.at)
        elif isinstance(event, ChangeEvent):
            if self.mirror is not None:
                _apply(self.mirror, event)
                self._mark(self._affected([event.key]), event.at)
        elif isinstance(event, Reconfigure):
            self._reconfigure(event.reason)

    def _reconfigure(self, reason: str) -> None:
        daemon = self.daemon
        if not daemon._reconfigure(reason):
            return
        self.debounce = self._new_debounce()
        keys = FetchPlan.for_resources(daemon.resources, daemon.backend).keys
        if daemon._watcher is None:  # the backend was switched: watch the new one
            self.mirror = None
            self._start_watcher()
        elif daemon._watcher.keys != keys:
            daemon._watcher.set_keys(keys)  # a snapshot of the new keys renders everything
        else:
            self._mark(daemon.resources, daemon._clock())

    def _mark(self, resources: Iterable[TemplateResource], at: float, *, urgent: bool = False) -> None:
        """Resources to render in the next batch; the debounce clock starts at the first."""
        paths = {r.path for r in resources}
        if paths:
            self.dirty |= paths
            self.debounce.changed(at or None, urgent=urgent)

    def _affected(self, keys: Iterable[str]) -> list[TemplateResource]:
        """Resources with a key under a changed key, or above it."""
        keys = list(keys)
        backend = self.daemon.backend
        return [r for r in self.daemon.resources if any(touches(backend, r.keys, key) for key in keys)]


def _apply(mirror: dict[str, str], event: ChangeEvent) -> None:
    if event.value is not None:
        mirror[event.key] = event.value
        return
    prefix = event.key.rstrip("/") + "/"
    for key in [k for k in mirror if k == event.key or k.startswith(prefix)]:
        del mirror[key]
