"""The hooks the loop reports through: what operators watch (metrics, health, systemd).

``Cycle``, ``Daemon`` and ``Watcher`` call an ``Observer`` at the few places that matter;
the base class does nothing, so a run without -metrics-addr and outside systemd pays a
method call that returns at once. ``Observers`` fans one call out to several (metrics,
health and systemd together). Calls come from the daemon's thread and from the watcher's:
an observer that keeps state guards it itself.

Resources are named by ``TemplateResource.label`` (their conf.d file name), backends by
their name: never by a key or a value, so what an observer exports stays bounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["NO_OBSERVER", "Observer", "Observers", "SyncResult"]


class SyncResult:
    """The outcome of syncing one resource (label values, so plain strings)."""

    UNCHANGED = "unchanged"  # the dest already held what was rendered
    UPDATED = "updated"  # the dest was replaced
    FAILED = "failed"  # fetch, render, check, write or reload failed


class Observer:
    """Every hook, doing nothing. Subclasses override what they need."""

    def loop_started(self, mode: str) -> None:
        """The daemon's loop runs (``mode``: "watch", "interval" or "onetime")."""

    def resources_loaded(self, labels: Sequence[str]) -> None:
        """conf.d was read: these resources (by label) are in use now."""

    def store_read(self, backend: str, seconds: float, ok: bool) -> None:
        """A read of every key the resources need took ``seconds``; ``ok``: it worked."""

    def rendered(self, resource: str, seconds: float) -> None:
        """A resource's template was executed, in ``seconds``."""

    def synced(self, resource: str, result: str) -> None:
        """A resource went through a cycle with a ``SyncResult``."""

    def command_ran(self, kind: str, ok: bool) -> None:
        """A check_cmd (``kind`` "check") or reload_cmd ("reload") ran; ``ok``: exit 0."""

    def watch_state(self, backend: str, connected: bool) -> None:
        """The watcher's link to the store is up (after a read worked) or down."""

    def event_received(self, backend: str, kind: str) -> None:
        """The watcher handed over a change ("change") or a new snapshot ("snapshot")."""

    def debounce_batch(self, resources: int) -> None:
        """Watch mode rendered a batch of ``resources`` after its debounce window."""

    def cycle_started(self) -> None:
        """A cycle begins (a tick, a batch, a retried reload)."""

    def cycle_done(self, full: bool, failed: Sequence[str]) -> None:
        """A cycle ended. ``full``: it covered every loaded resource; ``failed``: labels
        of the resources that did not sync."""

    def reconfiguring(self, reason: str) -> None:
        """Settings, conf.d and templates are read again (SIGHUP, a confdir edit)."""

    def reconfigured(self, ok: bool) -> None:
        """The reconfiguration is done (``ok``: the new conf.d was loaded)."""

    def stopping(self, reason: str) -> None:
        """The daemon was told to exit."""

    def close(self) -> None:
        """The process is done with this observer (servers stop, threads end)."""


NO_OBSERVER = Observer()


class Observers(Observer):
    """Several observers, each called in turn."""

    def __init__(self, observers: Iterable[Observer]) -> None:
        self.observers = tuple(observers)

    def loop_started(self, mode: str) -> None:
        for one in self.observers:
            one.loop_started(mode)

    def resources_loaded(self, labels: Sequence[str]) -> None:
        for one in self.observers:
            one.resources_loaded(labels)

    def store_read(self, backend: str, seconds: float, ok: bool) -> None:
        for one in self.observers:
            one.store_read(backend, seconds, ok)

    def rendered(self, resource: str, seconds: float) -> None:
        for one in self.observers:
            one.rendered(resource, seconds)

    def synced(self, resource: str, result: str) -> None:
        for one in self.observers:
            one.synced(resource, result)

    def command_ran(self, kind: str, ok: bool) -> None:
        for one in self.observers:
            one.command_ran(kind, ok)

    def watch_state(self, backend: str, connected: bool) -> None:
        for one in self.observers:
            one.watch_state(backend, connected)

    def event_received(self, backend: str, kind: str) -> None:
        for one in self.observers:
            one.event_received(backend, kind)

    def debounce_batch(self, resources: int) -> None:
        for one in self.observers:
            one.debounce_batch(resources)

    def cycle_started(self) -> None:
        for one in self.observers:
            one.cycle_started()

    def cycle_done(self, full: bool, failed: Sequence[str]) -> None:
        for one in self.observers:
            one.cycle_done(full, failed)

    def reconfiguring(self, reason: str) -> None:
        for one in self.observers:
            one.reconfiguring(reason)

    def reconfigured(self, ok: bool) -> None:
        for one in self.observers:
            one.reconfigured(ok)

    def stopping(self, reason: str) -> None:
        for one in self.observers:
            one.stopping(reason)

    def close(self) -> None:
        for one in self.observers:
            one.close()
