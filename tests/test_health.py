"""What /health and /ready answer, driven through the observer hooks with a fake clock."""

from __future__ import annotations

from confpy.health import Health, default_unhealthy_after
from confpy.observe import SyncResult


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_health_is_503_before_the_loop_and_after_stop() -> None:
    health = Health(10.0, Clock())
    assert health.health() == (False, "starting")
    health.loop_started("watch")
    assert health.health() == (True, "ok")
    health.stopping("terminated")
    assert health.health() == (False, "stopping")


def test_health_turns_503_only_after_the_threshold_and_back_on_the_first_success() -> None:
    clock = Clock()
    health = Health(10.0, clock)
    health.loop_started("watch")
    health.watch_state("etcd", False)
    clock.now += 9
    assert health.health() == (True, "ok (store unreachable for 9s)")
    health.store_read("etcd", 1.0, False)  # a failed retry does not restart the clock
    clock.now += 2
    assert health.health() == (False, "store unreachable for 11s (more than 10s)")
    health.store_read("etcd", 0.01, True)
    assert health.health() == (True, "ok")


def test_interval_mode_reads_count_too() -> None:
    clock = Clock()
    health = Health(5.0, clock)
    health.loop_started("interval")
    health.store_read("etcd", 3.0, False)
    clock.now += 6
    assert health.health()[0] is False


def test_default_threshold_is_three_timeouts_and_the_backoff_cap() -> None:
    assert default_unhealthy_after(3.0) == 19.0
    assert default_unhealthy_after(1.0) == 13.0


def test_ready_waits_for_every_resource_and_a_failed_one_does_not_count() -> None:
    health = Health(10.0, Clock())
    assert health.ready() == (False, "no resources loaded")
    health.resources_loaded(["a.toml", "b.toml"])
    health.synced("a.toml", SyncResult.UPDATED)
    health.synced("b.toml", SyncResult.FAILED)
    assert health.ready() == (False, "not synced yet: b.toml")
    health.synced("b.toml", SyncResult.UNCHANGED)  # a later cycle (a retry, a fixed key)
    assert health.ready() == (True, "ready")
    health.synced("a.toml", SyncResult.FAILED)  # once ready, it stays ready
    health.resources_loaded(["a.toml", "b.toml", "c.toml"])
    assert health.ready() == (True, "ready")


def test_a_resource_taken_out_of_conf_d_no_longer_holds_readiness_back() -> None:
    health = Health(10.0, Clock())
    health.resources_loaded(["a.toml", "b.toml"])
    health.synced("a.toml", SyncResult.UPDATED)
    health.resources_loaded(["a.toml"])
    assert health.ready() == (True, "ready")
