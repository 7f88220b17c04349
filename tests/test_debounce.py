"""The debounce window, driven by a fake clock."""

from __future__ import annotations

from confpy.debounce import Debounce


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_nothing_pending_is_never_due() -> None:
    clock = Clock()
    window = Debounce(0.1, 1.0, clock)
    assert not window.pending and window.deadline() is None and not window.due()


def test_a_burst_renders_once_after_min_of_quiet() -> None:
    clock = Clock()
    window = Debounce(0.1, 1.0, clock)
    for _ in range(5):  # five changes 50 ms apart
        window.changed()
        assert not window.due()
        clock.now += 0.05
    assert window.deadline() == clock.now - 0.05 + 0.1
    clock.now += 0.049
    assert not window.due()
    clock.now += 0.002
    assert window.due()


def test_a_steady_stream_still_renders_every_max() -> None:
    clock = Clock()
    window = Debounce(0.1, 0.5, clock)
    first = clock.now
    renders = []
    for _ in range(40):  # a change every 50 ms for 2 s: never 100 ms of quiet
        window.changed()
        if window.due():
            renders.append(round(clock.now - first, 3))
            window.take()
            first = clock.now
            window.changed()
        clock.now += 0.05
    assert renders and all(0.5 <= gap <= 0.55 for gap in renders)


def test_min_zero_is_due_at_once() -> None:
    clock = Clock()
    window = Debounce(0.0, 0.0, clock)
    window.changed()
    assert window.due() and window.deadline() == clock.now


def test_the_first_snapshot_does_not_wait_for_quiet() -> None:
    clock = Clock()
    window = Debounce(3.0, 12.0, clock)
    window.changed(urgent=True)
    assert window.due()
    window.take()
    window.changed()  # later changes wait again
    assert not window.due() and window.deadline() == clock.now + 3.0


def test_a_change_during_a_render_starts_the_next_batch_at_its_own_time() -> None:
    clock = Clock()
    window = Debounce(1.0, 4.0, clock)
    window.changed()
    clock.now += 1.0
    assert window.due()
    window.take()  # the render starts...
    arrived = clock.now + 0.5  # ...a change arrives while it runs (stamped by the watcher)...
    clock.now += 2.0  # ...and is handled when the render is done
    window.changed(arrived)
    assert window.deadline() == arrived + 1.0
    assert window.due()  # its quiet time passed during the render
