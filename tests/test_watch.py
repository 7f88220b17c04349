"""Unit tests of the watch machinery that need no server: the key mirror, and how a
watcher hands events over."""

from __future__ import annotations

import queue

from confpy.backends.base import BackendSettings
from confpy.backends.env import EnvBackend
from confpy.daemon import _apply
from confpy.watch import ChangeEvent, SnapshotEvent, Watcher


def test_mirror_applies_sets_and_deletes_of_keys_and_directories() -> None:
    mirror = {"/a/x": "1", "/a/y": "2", "/ab/z": "3", "/b": "4"}
    _apply(mirror, ChangeEvent("/a/x", "5", 10))
    assert mirror["/a/x"] == "5"
    _apply(mirror, ChangeEvent("/c", "6", 11))
    assert mirror["/c"] == "6"
    _apply(mirror, ChangeEvent("/a", None, 12))  # a directory deleted: all under it
    assert mirror == {"/ab/z": "3", "/b": "4", "/c": "6"}  # /ab is not under /a


def test_a_store_that_cannot_watch_is_read_once_then_again_when_the_keys_change() -> None:
    environ = {"APP_A": "1", "APP_B": "2"}
    backend = EnvBackend(BackendSettings(backend="env", environ=environ))
    events: queue.SimpleQueue[object] = queue.SimpleQueue()
    watcher = Watcher(backend, ["/app/a"], events)
    watcher.start()
    try:
        first = events.get(timeout=5)
        assert isinstance(first, SnapshotEvent)
        assert first.snapshot.values == {"/app/a": "1"}
        environ["APP_A"] = "changed"  # the env backend cannot watch: no event for this
        watcher.set_keys(["/app/a", "/app/b"])
        second = events.get(timeout=5)
        assert isinstance(second, SnapshotEvent)
        assert second.snapshot.values == {"/app/a": "changed", "/app/b": "2"}
    finally:
        watcher.stop()
    assert events.empty()
