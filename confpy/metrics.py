"""Prometheus metrics: an observer that counts what the loop reports.

Imported only when -metrics-addr is given (prometheus_client is an optional extra,
``confpy[metrics]``). The metrics live in a registry of their own, not the library's
global one, so two daemons in one process (tests) keep apart. Label values are bounded:
resources by their conf.d file name, backends by name, and small fixed sets of results.

======================================================  =========  ====================
name                                                    type       labels
======================================================  =========  ====================
confpy_build_info                                       gauge      version, backend
confpy_resources_loaded                                 gauge
confpy_syncs_total                                      counter    resource, result
confpy_last_sync_success_timestamp_seconds              gauge      resource
confpy_commands_total                                   counter    kind, result
confpy_render_duration_seconds                          histogram
confpy_store_read_duration_seconds                      histogram  backend, result
confpy_watch_connected                                  gauge      backend
confpy_watch_events_total                               counter    backend, kind
confpy_debounce_batches_total                           counter
confpy_cycles_total                                     counter
confpy_reconfigurations_total                           counter    result
======================================================  =========  ====================

``result`` is unchanged/updated/failed for syncs, ok/failed for commands and
reconfigurations, ok/error for reads; ``kind`` is check/reload for commands and
change/snapshot for watch events.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from . import __version__
from .observe import Observer, SyncResult

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Seconds. Renders take 50 us to tens of ms; reads a millisecond to the backend timeout.
_RENDER_BUCKETS = (0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
_READ_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics(Observer):
    def __init__(self, backend: str) -> None:
        # No ``_created`` sample beside every counter: Prometheus ignores them, and they
        # were 40 % of a scrape's body and time at 200 resources. (A switch of the
        # library's, for the process: confpy is its only user here.)
        disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client leaves it untyped
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._backend = backend
        self._timed: set[str] = set()  # resources with a last-sync time
        self.build = Info("confpy_build", "confpy's version and the backend in use", registry=r)
        self.build.info({"version": __version__, "backend": backend})
        self.resources = Gauge("confpy_resources_loaded", "Template resources loaded from conf.d", registry=r)
        self.syncs = Counter(
            "confpy_syncs", "Resources synced, by result (unchanged, updated, failed)", ["resource", "result"], registry=r
        )
        self.last_sync = Gauge(
            "confpy_last_sync_success_timestamp_seconds",
            "When each resource last synced without error (Unix time)",
            ["resource"],
            registry=r,
        )
        self.commands = Counter(
            "confpy_commands", "check_cmd and reload_cmd runs, by kind and result", ["kind", "result"], registry=r
        )
        self.render = Histogram(
            "confpy_render_duration_seconds", "Time to execute a resource's template", registry=r, buckets=_RENDER_BUCKETS
        )
        self.reads = Histogram(
            "confpy_store_read_duration_seconds",
            "Time to read every watched key from the store, by result (ok, error)",
            ["backend", "result"],
            registry=r,
            buckets=_READ_BUCKETS,
        )
        self.connected = Gauge(
            "confpy_watch_connected", "1 while the watcher's link to the store works", ["backend"], registry=r
        )
        self.events = Counter(
            "confpy_watch_events", "Changes and snapshots the watcher handed over", ["backend", "kind"], registry=r
        )
        self.batches = Counter("confpy_debounce_batches", "Batches rendered after a debounce window", registry=r)
        self.cycles = Counter("confpy_cycles", "Cycles run (ticks, batches, retried reloads)", registry=r)
        self.reconfigurations = Counter(
            "confpy_reconfigurations", "Re-reads of settings, conf.d and templates, by result", ["result"], registry=r
        )

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)

    # -- hooks --------------------------------------------------------------------------

    def resources_loaded(self, labels: Sequence[str]) -> None:
        self.resources.set(len(labels))
        for label in self._timed - set(labels):
            self.last_sync.remove(label)  # a resource taken out of conf.d: its time goes
        self._timed &= set(labels)

    def store_read(self, backend: str, seconds: float, ok: bool) -> None:
        if backend != self._backend:  # switched on SIGHUP
            self._backend = backend
            self.build.info({"version": __version__, "backend": backend})
        self.reads.labels(backend, "ok" if ok else "error").observe(seconds)

    def rendered(self, resource: str, seconds: float) -> None:
        self.render.observe(seconds)

    def synced(self, resource: str, result: str) -> None:
        self.syncs.labels(resource, result).inc()
        if result != SyncResult.FAILED:
            self.last_sync.labels(resource).set(time.time())
            self._timed.add(resource)

    def command_ran(self, kind: str, ok: bool) -> None:
        self.commands.labels(kind, "ok" if ok else "failed").inc()

    def watch_state(self, backend: str, connected: bool) -> None:
        self.connected.labels(backend).set(1 if connected else 0)

    def event_received(self, backend: str, kind: str) -> None:
        self.events.labels(backend, kind).inc()

    def debounce_batch(self, resources: int) -> None:
        self.batches.inc()

    def cycle_done(self, full: bool, failed: Sequence[str]) -> None:
        self.cycles.inc()

    def reconfigured(self, ok: bool) -> None:
        self.reconfigurations.labels("ok" if ok else "failed").inc()
