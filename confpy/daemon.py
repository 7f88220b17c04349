"""The daemon: interval mode (confd's default) and watch mode, on the one-shot ``Cycle``.

Interval mode reads conf.d and every key each tick. Watch mode keeps one watcher per
backend (see ``watch``) and a copy of the watched keys; each change marks the resources
whose keys it touches, and after the debounce window those resources render once and each
distinct reload_cmd runs once. Nothing is written from incomplete data: until a full
snapshot has arrived nothing renders, and while the store is away the files stay as
they are.

Signals: SIGTERM/SIGINT finish the sync under way and exit 0 (a second one aborts it,
removing its stage file); SIGHUP re-reads confd.toml, conf.d and the templates. In watch
mode, edits to conf.d and templates are picked up by themselves (``-watch-confdir``).
"""

from __future__ import annotations

import logging
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
from .errors import BackendError, ConfigError
from .plan import FetchPlan, touches
from .processor import Cycle, backend_settings, load_or_report, sync_options
from .render import Renderer
from .resources import TemplateResource
from .settings import Settings
from .watch import Backoff, ChangeEvent, SnapshotEvent, Watcher, create_watcher

__all__ = ["Daemon", "run_daemon"]

log = logging.getLogger("confpy.daemon")

@dataclass(frozen=True)
class _Reconfigure:
    reason: str


_WAKE = object()  # queued to end a wait on the event queue


class _Abort(BaseException):
    """A second SIGTERM/SIGINT: give up on the sync under way (its stage file is removed)."""


def run_daemon(settings: Settings, backend: Backend, reload_settings: Callable[[], Settings] | None = None) -> int:
    return Daemon(settings, backend, reload_settings).run()


class Daemon:
    def __init__(self, settings: Settings, backend: Backend, reload_settings: Callable[[], Settings] | None = None) -> None:
        self.settings = settings
        self.backend = backend
        self.reload_settings = reload_settings
        self.events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.renderer = Renderer()
        self.stopping: str | None = None
        self.resources: list[TemplateResource] = []
        self.reload_retry: dict[Path, TemplateResource] = {}
        self._retry_backoff = Backoff(base=5.0, cap=300.0)  # for reloads that failed
        self._retry_at: float | None = None
        self._owned_backends: list[Backend] = []
        self._config_read_at = 0.0  # time.time() when conf.d was last read

    # -- entry --------------------------------------------------------------------------

    def run(self) -> int:
        previous = self._install_signals()
        try:
            try:
                self._config_read_at = time.time()
                resources = load_or_report(self.settings)
            except ConfigError as exc:
                log.critical("%s", exc)
                return 1
            if self.settings.watch:
                if resources is None:
                    return 0  # confd: nothing to watch, nothing to do
                self.resources = resources
                return self._watch()
            self.resources = resources or []
            return self._interval()
        except _Abort:
            return 0
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            for backend in self._owned_backends:
                backend.close()

    def _install_signals(self) -> dict[int, Any]:
        previous: dict[int, Any] = {}
        if threading.current_thread() is not threading.main_thread():
            return previous  # signals can only be handled in the main thread
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            previous[signum] = signal.signal(signum, self._on_signal)
        return previous

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self.events.put(_Reconfigure("SIGHUP"))
            return
        if self.stopping is not None:
            raise _Abort()
        self.stopping = "terminated" if signum == signal.SIGTERM else "interrupt"
        log.info("Captured %s. Exiting...", self.stopping)
        self.events.put(_WAKE)  # the loop sees self.stopping

    def _should_stop(self) -> bool:
        return self.stopping is not None

    def _cycle(self) -> Cycle:
        return Cycle(self.backend, sync_options(self.settings), self.renderer)

    # -- interval mode ------------------------------------------------------------------

    def _interval(self) -> int:
        backoff = Backoff(cap=max(1.0, float(self.settings.interval)))
        down_since: float | None = None
        first, reconfigure = True, None
        while self.stopping is None:
            if reconfigure is not None:  # SIGHUP: confd.toml too, then this tick
                self._reconfigure(reconfigure)
            elif not first:  # conf.d is read again each tick, as confd does
                self._reload_resources()
            first = False
            delay = float(self.settings.interval)
            plan = FetchPlan.for_resources(self.resources, self.backend)
            snapshot: Snapshot | None = None
            try:
                snapshot = self.backend.get_values(plan.keys) if plan.keys else Snapshot({})
            except BackendError as exc:
                if down_since is None:
                    down_since = time.monotonic()
                    log.error("Reading the store failed: %s; keeping the files as they are and retrying", exc)
                delay = min(delay, backoff.next_delay())
            if snapshot is not None:
                if down_since is not None:
                    log.info("The store answers again after %.1fs", time.monotonic() - down_since)
                    down_since = None
                backoff.reset()
                self._run_cycle(self.resources, snapshot)
            reconfigure = self._sleep(delay)
        return 0

    def _sleep(self, seconds: float) -> str | None:
        """Wait for the next tick or a stop; a SIGHUP ends the wait at once, and its reason
        is returned."""
        deadline = time.monotonic() + seconds
        while self.stopping is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                event = self.events.get(timeout=remaining)
            except queue.Empty:
                return None
            if isinstance(event, _Reconfigure):
                return event.reason
        return None

    # -- watch mode ---------------------------------------------------------------------

    def _watch(self) -> int:
        self.mirror: dict[str, str] | None = None  # the watched keys, as the store has them
        self.dirty: set[Path] = set()  # resources (by conf.d path) to render
        self.first_change = self.last_change = 0.0
        self._start_watcher()
        confdir_watch = self._start_confdir_watch()
        try:
            while self.stopping is None:
                try:
                    event = self.events.get(timeout=self._next_timeout())
                except queue.Empty:
                    event = None
                if event is not None:
                    self._handle(event)
                    if self.settings.debounce_min <= 0:
                        while not self.events.empty():  # what is queued already joins this batch
                            self._handle(self.events.get())
                if self.mirror is None or self.stopping is not None:
                    self.watcher.consumed()
                    continue
                now = time.monotonic()
                if self.dirty and self._batch_due(now):
                    batch = [r for r in self.resources if r.path in self.dirty]
                    self.dirty, self.first_change = set(), 0.0
                    self._run_cycle(batch, Snapshot(self.mirror), batch_reloads=True)
                elif self._retry_at is not None and now >= self._retry_at:
                    self._run_cycle(list(self.reload_retry.values()), Snapshot(self.mirror), batch_reloads=True)
                if self.events.empty():
                    self.watcher.consumed()
        finally:
            self.watcher.stop()  # the current one: a backend switch replaces it
            if confdir_watch is not None:
                confdir_watch.set()
        return 0

    def _handle(self, event: Any) -> None:
        if isinstance(event, SnapshotEvent):
            self.mirror = dict(event.snapshot.values)
            self._mark(r.path for r in self.resources)
        elif isinstance(event, ChangeEvent):
            if self.mirror is not None:
                _apply(self.mirror, event)
                self._mark(self._affected(event.key))
        elif isinstance(event, _Reconfigure) and self._reconfigure(event.reason, watching=True):
            self._mark(r.path for r in self.resources)

    def _mark(self, paths: Iterable[Path]) -> None:
        """Resources to render in the next batch; the debounce clock starts at the first."""
        self.dirty.update(paths)
        if self.dirty:
            now = time.monotonic()
            self.first_change = self.first_change or now
            self.last_change = now

    def _start_watcher(self) -> None:
        plan = FetchPlan.for_resources(self.resources, self.backend)
        self.watcher: Watcher = create_watcher(self.backend, plan.keys, self.events)
        self.watcher.start()

    def _batch_due(self, now: float) -> bool:
        quiet, cap = self.settings.debounce_min, self.settings.debounce_max
        if quiet <= 0:
            return True
        return now - self.last_change >= quiet or (cap > 0 and now - self.first_change >= cap)

    def _next_timeout(self) -> float | None:
        deadlines = []
        if self.dirty and self.mirror is not None:
            quiet, cap = self.settings.debounce_min, self.settings.debounce_max
            deadlines.append(self.last_change + quiet)
            if cap > 0:
                deadlines.append(self.first_change + cap)
        if self._retry_at is not None:
            deadlines.append(self._retry_at)
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - time.monotonic())

    def _affected(self, key: str) -> list[Path]:
        """Resources with a key under the changed key, or above it."""
        return [resource.path for resource in self.resources if touches(self.backend, resource.keys, key)]

    def _start_confdir_watch(self) -> threading.Event | None:
        if not self.settings.watch_confdir:
            return None
        stop = threading.Event()
        paths = [p for p in (self.settings.conf_d, self.settings.template_dir) if p.is_dir()]
        if not paths:
            return None
        thread = threading.Thread(target=self._watch_confdir, args=(paths, stop), name="confpy-confdir", daemon=True)
        thread.start()
        return stop

    def _watch_confdir(self, paths: Sequence[Path], stop: threading.Event) -> None:
        import watchfiles

        started = False
        for changes in watchfiles.watch(
            *paths, stop_event=stop, debounce=100, rust_timeout=1000, yield_on_timeout=True
        ):
            if not started:
                # The watch is up now: an edit made since conf.d was read, before it was
                # watching, would otherwise go unnoticed.
                started = True
                if not changes and _modified_since(paths, self._config_read_at):
                    self.events.put(_Reconfigure("changed while starting"))
            if changes:
                names = sorted({Path(p).name for _, p in changes})
                self.events.put(_Reconfigure("changed: " + ", ".join(names)))

    # -- shared -------------------------------------------------------------------------

    def _run_cycle(self, resources: Sequence[TemplateResource], snapshot: Snapshot, *, batch_reloads: bool = False) -> None:
        retry = set(self.reload_retry)
        result = self._cycle().run(
            resources,
            snapshot,
            batch_reloads=batch_reloads,
            force_reload=retry,
            should_stop=self._should_stop,
        )
        processed = {r.path for r in resources}
        for path in retry & processed:
            self.reload_retry.pop(path, None)
        for resource in result.reload_failed:
            self.reload_retry[resource.path] = resource
        if self.reload_retry:
            delay = self._retry_backoff.next_delay()
            self._retry_at = time.monotonic() + delay
            log.info("Retrying the failed reload of %d resource(s) in %.0fs", len(self.reload_retry), delay)
        else:
            self._retry_backoff.reset()
            self._retry_at = None

    def _reload_resources(self) -> bool:
        """Read conf.d again; keep the resources we have if it is broken. True if read."""
        self._config_read_at = time.time()
        try:
            resources = load_or_report(self.settings)
        except ConfigError as exc:
            log.error("%s; keeping the %d resource(s) loaded before", exc, len(self.resources))
            return False
        self.resources = resources or []
        return True

    def _reconfigure(self, reason: str, *, watching: bool = False) -> bool:
        """SIGHUP or an edit in the confdir: re-read settings, conf.d and templates."""
        log.info("Reloading configuration (%s)", reason)
        if self.reload_settings is not None:
            try:
                settings = self.reload_settings()
            except (ConfigError, ValueError) as exc:
                log.error("Cannot reload settings, keeping the current ones: %s", exc)
                settings = self.settings
            if backend_settings(settings) != backend_settings(self.settings):
                self._switch_backend(settings)
            self.settings = settings
        if not self._reload_resources():
            return False
        if watching:
            keys = FetchPlan.for_resources(self.resources, self.backend).keys
            if self.watcher.keys != keys or self.watcher.backend is not self.backend:
                self._restart_or_rekey(keys)
                return False  # a snapshot of the new keys follows, and renders everything
        return True

    def _switch_backend(self, settings: Settings) -> None:
        from .backends.registry import create_backend

        try:
            backend = create_backend(backend_settings(settings))
        except ConfigError as exc:
            log.error("Cannot use the new backend settings, keeping the current backend: %s", exc)
            return
        log.info("Backend set to %s", settings.backend)
        log.info("Backend source(s) set to %s", backend.sources())
        self._owned_backends.append(backend)
        self.backend = backend

    def _restart_or_rekey(self, keys: tuple[str, ...]) -> None:
        if self.watcher.backend is self.backend:
            self.watcher.set_keys(keys)
            return
        self.watcher.stop()
        self._start_watcher()


def _modified_since(paths: Sequence[Path], since: float) -> bool:
    """Whether a file under ``paths`` changed at or after ``since`` (a time.time())."""
    for root in paths:
        for path in root.rglob("*"):
            try:
                if path.stat().st_mtime >= since - 0.01:  # mtimes are coarser than time()
                    return True
            except OSError:
                continue
    return False


def _apply(mirror: dict[str, str], event: ChangeEvent) -> None:
    if event.value is not None:
        mirror[event.key] = event.value
        return
    prefix = event.key.rstrip("/") + "/"
    for key in [k for k in mirror if k == event.key or k.startswith(prefix)]:
        del mirror[key]
