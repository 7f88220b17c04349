"""Backoff and the schedule of failed reloads, driven by a fake clock."""

from __future__ import annotations

import random
from pathlib import Path

from confpy.resources import TemplateResource
from confpy.retry import Backoff, ReloadRetry


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def resource(name: str) -> TemplateResource:
    return TemplateResource(path=Path(f"/conf.d/{name}.toml"), src=Path("/t"), dest=f"/d/{name}", prefix="/", keys=())


def test_backoff_grows_to_its_cap_with_jitter_and_resets() -> None:
    backoff = Backoff(base=0.5, cap=4.0, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(8)]
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0]
    for delay, ceiling in zip(delays, ceilings):
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(delays)) == len(delays)  # jittered: no two retries in lockstep
    backoff.reset()
    assert backoff.next_delay() <= 0.5


def test_a_failed_reload_is_due_when_announced_and_backs_off() -> None:
    clock = Clock()
    retry = ReloadRetry(clock, Backoff(base=5.0, cap=300.0, rng=random.Random(7)))
    app = resource("app")
    assert retry.deadline() is None and not retry.due()
    delay = retry.update([], [app])
    assert delay is not None and 2.5 <= delay <= 5.0
    assert retry.deadline() == clock.now + delay and retry.paths == {app.path}
    clock.now += delay - 0.01
    assert not retry.due()
    clock.now += 0.02
    assert retry.due()
    second = retry.update([], [app])  # failed again: further out
    assert second is not None and 5.0 <= second <= 10.0
    assert retry.update([app], []) is None  # it worked: nothing pending
    assert retry.deadline() is None and retry.pending == []
    third = retry.update([], [app])  # a new failure starts the backoff over
    assert third is not None and third <= 5.0


def test_a_resource_not_processed_keeps_its_schedule() -> None:
    clock = Clock()
    retry = ReloadRetry(clock, Backoff(base=5.0, cap=300.0, rng=random.Random(3)))
    app, web = resource("app"), resource("web")
    retry.update([], [app, web])
    at = retry.deadline()
    assert retry.update([web], []) == (at or 0) - clock.now  # web worked, app still waits
    assert retry.paths == {app.path} and retry.deadline() == at


def test_resources_gone_from_conf_d_are_forgotten() -> None:
    retry = ReloadRetry(Clock())
    app, web = resource("app"), resource("web")
    retry.update([], [app, web])
    retry.forget([web.path])
    assert retry.paths == {web.path}
    retry.forget([])
    assert retry.deadline() is None
