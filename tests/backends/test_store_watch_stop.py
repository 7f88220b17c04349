"""Stopping a redis, zookeeper or consul watch at any moment, even while it subscribes
or reads its first snapshot, ends it quietly: a stop is not an outage (the watcher would
log one)."""

from __future__ import annotations

import pytest
from store_adapters import STORES, store_for
from watch_helpers import WatchRun

from confpy.backends.base import BackendSettings
from confpy.backends.registry import create_backend

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("backend", STORES)
def test_a_stop_at_any_moment_ends_the_watch_without_an_error(request: pytest.FixtureRequest, backend: str) -> None:
    store = store_for(request, backend)
    store.put(f"{store.prefix}/k", "v")
    made = create_backend(BackendSettings(backend=backend, nodes=(store.endpoint,), environ={}))
    try:
        for attempt in range(30):
            run = WatchRun(made, [store.prefix], None)
            if attempt % 3 == 0:  # a third of the time once it runs, else while it starts
                run.wait_started()
            run.stop()
            assert run.outcome == {"result": None}, (attempt, run.outcome)
    finally:
        made.close()
