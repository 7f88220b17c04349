"""The zookeeper backend against a real ZooKeeper 3.8: confd's reads (leaves are values),
nodes, watches re-armed without leaking, session expiry, outages, kazoo's threads and logs.

Data is written with the fixture's own kazoo client, never through the backend.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from cli_helpers import capture_logs
from servers import dead_endpoint
from store_servers import ZooKeeperServer
from watch_helpers import WatchRun

from confpy.backends.base import BackendSettings, Change, Snapshot
from confpy.backends.registry import create_backend
from confpy.backends.zookeeper import ZooKeeperBackend, parse_node
from confpy.errors import BackendUnavailable, ConfigError

pytestmark = pytest.mark.timeout(60)

Factory = Callable[..., ZooKeeperBackend]


@pytest.fixture()
def make_backend(closing: Callable[[Any], Any]) -> Factory:
    def make(*nodes: str, **settings: Any) -> ZooKeeperBackend:
        backend: ZooKeeperBackend = closing(
            ZooKeeperBackend(BackendSettings(backend="zookeeper", nodes=nodes, **settings))
        )
        return backend

    return make


@pytest.fixture()
def backend(zookeeper: ZooKeeperServer, make_backend: Factory) -> ZooKeeperBackend:
    return make_backend(zookeeper.endpoint)


def session_watches(zookeeper: ZooKeeperServer, backend: ZooKeeperBackend) -> list[str]:
    """The paths the backend's session watches, server side (``wchc``), one per watch."""
    assert backend._client is not None
    session = f"0x{backend._client.client_id[0]:x}"
    return sorted(zookeeper.watched_paths().get(session, []))


# -- nodes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "node"),
    [("127.0.0.1:2181", "127.0.0.1:2181"), ("zk1", "zk1:2181"), ("[::1]:2182", "[::1]:2182"), ("[::1]", "[::1]:2181")],
)
def test_node_forms(text: str, node: str) -> None:
    assert parse_node(text) == node


@pytest.mark.parametrize("text", ["", "h:", "h:0", "h:70000", "h:port", "h:2181/chroot", "a,b:1", ":2181"])
def test_bad_node_strings(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^invalid zookeeper node .*: want host:port$"):
        parse_node(text)


def test_default_node_and_registry() -> None:
    backend = create_backend(BackendSettings(backend="zookeeper", environ={}))
    try:
        assert isinstance(backend, ZooKeeperBackend) and backend.sources() == "127.0.0.1:2181"
    finally:
        backend.close()


# -- reads as confd's GetValues ------------------------------------------------------------


def test_leaves_are_values(zookeeper: ZooKeeperServer, zk_prefix: str, backend: ZooKeeperBackend) -> None:
    p = zk_prefix
    zookeeper.put(f"{p}/nginx-80/c1", "10.0.0.1:80")
    zookeeper.put(f"{p}/nginx-80/c2", "10.0.0.2:80")
    zookeeper.put(f"{p}/nginx-80", "data of a znode with children: ignored")
    zookeeper.put(f"{p}/nginx-8080/c3", "not under /nginx-80")
    zookeeper.put(f"{p}/app/deep/er/key", "deep")
    zookeeper.put(f"{p}/app/empty", "")
    zookeeper.put(f"{p}/single", "a leaf key itself")
    snapshot = backend.get_values([f"{p}/nginx-80", f"{p}/app/*", f"{p}/single", f"{p}/missing", f"{p}/gone/deeper"])
    assert snapshot == Snapshot(
        {
            f"{p}/app/deep/er/key": "deep",
            f"{p}/app/empty": "",
            f"{p}/nginx-80/c1": "10.0.0.1:80",
            f"{p}/nginx-80/c2": "10.0.0.2:80",
            f"{p}/single": "a leaf key itself",
        },
        None,
    )
    assert backend.key_matches(f"{p}/nginx-80", f"{p}/nginx-80/c1")
    assert not backend.key_matches(f"{p}/nginx-80", f"{p}/nginx-8080/c3")


def test_many_keys_read_level_by_level(zookeeper: ZooKeeperServer, zk_prefix: str, backend: ZooKeeperBackend) -> None:
    p = zk_prefix
    expected = {}
    transaction = zookeeper.client.transaction()
    transaction.create(p)
    for i in range(200):
        transaction.create(f"{p}/svc{i}-80")
        transaction.create(f"{p}/svc{i}-80/c", f"10.0.0.{i}:80".encode())
        expected[f"{p}/svc{i}-80/c"] = f"10.0.0.{i}:80"
    transaction.commit()
    assert backend.get_values([f"{p}/svc{i}-80" for i in range(200)]).values == expected


def test_first_node_dead_second_alive(zookeeper: ZooKeeperServer, zk_prefix: str, make_backend: Factory) -> None:
    zookeeper.put(f"{zk_prefix}/k", "v")
    dead = dead_endpoint()
    backend = make_backend(dead, zookeeper.endpoint)
    assert backend.sources() == f"{dead}, {zookeeper.endpoint}"
    assert backend.get_values([zk_prefix]).values == {f"{zk_prefix}/k": "v"}


def test_no_node_answers_fails_at_once(make_backend: Factory) -> None:
    one, two = dead_endpoint(), dead_endpoint()
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match=rf"^cannot reach zookeeper at {one}: connection refused$"):
        make_backend(one).get_values(["/x"])
    with pytest.raises(
        BackendUnavailable,
        match=rf"^cannot reach zookeeper at any node: {one}: connection refused; {two}: connection refused$",
    ):
        make_backend(one, two).get_values(["/x"])
    assert time.monotonic() - started < 3  # not kazoo's own retries (10 s and more)


def test_close_leaves_no_kazoo_thread(zookeeper: ZooKeeperServer, zk_prefix: str, make_backend: Factory) -> None:
    before = set(threading.enumerate())
    backend = make_backend(zookeeper.endpoint)
    backend.get_values([zk_prefix])
    run = WatchRun(backend, [zk_prefix])
    run.wait_started()
    assert len(set(threading.enumerate()) - before) >= 3  # kazoo's, and the watch
    run.stop()
    backend.close()
    time.sleep(0.1)
    assert set(threading.enumerate()) - before == set()


def test_an_outage_between_reads_logs_nothing_outside_confd_format(
    zookeeper: ZooKeeperServer, zk_prefix: str, backend: ZooKeeperBackend, capfd: pytest.CaptureFixture[str]
) -> None:
    zookeeper.put(f"{zk_prefix}/k", "v")
    assert backend.get_values([zk_prefix]).values == {f"{zk_prefix}/k": "v"}
    with capture_logs(logging.DEBUG) as logs:
        zookeeper.stop()
        try:
            with pytest.raises(BackendUnavailable):
                backend.get_values([zk_prefix])
            time.sleep(1.5)  # kazoo retries and logs meanwhile
        finally:
            zookeeper.start()
        deadline = time.monotonic() + 15
        while True:
            try:
                assert backend.get_values([zk_prefix]).values == {f"{zk_prefix}/k": "v"}
                break
            except BackendUnavailable:
                assert time.monotonic() < deadline
                time.sleep(0.2)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""
    kazoo_lines = [r for r in logs.records if r.getMessage().startswith("kazoo: ")]
    assert kazoo_lines and all(r.levelno == logging.DEBUG for r in kazoo_lines)


# -- watch ----------------------------------------------------------------------------------


def test_watch_follows_values_children_and_deletions(
    zookeeper: ZooKeeperServer, zk_prefix: str, backend: ZooKeeperBackend
) -> None:
    p = zk_prefix
    zookeeper.put(f"{p}/nginx-80/a", "1")
    run = WatchRun(backend, [f"{p}/nginx-80", f"{p}/later"])
    run.wait_mirror({f"{p}/nginx-80/a": "1"})
    assert isinstance(run.events[0], Snapshot)
    zookeeper.put(f"{p}/nginx-80/b", "2")
    run.wait_mirror({f"{p}/nginx-80/a": "1", f"{p}/nginx-80/b": "2"})
    zookeeper.put(f"{p}/nginx-80/a", "1b")
    run.wait_mirror({f"{p}/nginx-80/a": "1b", f"{p}/nginx-80/b": "2"})
    zookeeper.delete(f"{p}/nginx-80/a")
    run.wait_mirror({f"{p}/nginx-80/b": "2"})
    zookeeper.put(f"{p}/elsewhere", "not watched")
    created = zookeeper.client.transaction()  # both at once: /later is never a value
    created.create(f"{p}/later")
    created.create(f"{p}/later/x", b"a key missing at the start, created")
    created.commit()
    run.wait_mirror({f"{p}/nginx-80/b": "2", f"{p}/later/x": "a key missing at the start, created"})
    assert run.snapshots() == 1
    assert run.changes() == [
        Change(f"{p}/nginx-80/b", "2"),
        Change(f"{p}/nginx-80/a", "1b"),
        Change(f"{p}/nginx-80/a", None),
        Change(f"{p}/later/x", "a key missing at the start, created"),
    ]
    assert run.stop() < 0.5
    assert run.outcome == {"result": None}


def test_a_leaf_gaining_or_losing_children_emits_a_snapshot(
    zookeeper: ZooKeeperServer, zk_prefix: str, backend: ZooKeeperBackend
) -> None:
    p = zk_prefix
    zookeeper.put(f"{p}/svc", "leaf value")
    run = WatchRun(backend, [p])
    run.wait_mirror({f"{p}/svc": "leaf value"})
    zookeeper.client.create(f"{p}/svc/c", b"child")  # /svc is no value any more
    run.wait_mirror({f"{p}/svc/c": "child"})
    zookeeper.delete(f"{p}/svc/c")  # /svc is a value again
    run.wait_mirror({f"{p}/svc": "leaf value"})
    assert run.snapshots() == 3
    zookeeper.delete(p, recursive=True)
    run.wait_mirror({})
    zookeeper.put(f"{p}/back", "the watched key came back")
    run.wait_mirror({f"{p}/back": "the watched key came back"})
    run.stop()


@pytest.mark.timeout(90)
def test_no_watch_leaks_over_many_change_cycles(
    zookeeper: ZooKeeperServer, zk_prefix: str, backend: ZooKeeperBackend
) -> None:
    """confd #550: every change left a watcher behind. After many cycles of set, add and
    delete, the session watches the same znodes on the server (``wchc``, ``wchs``) and
    kazoo holds one watcher per znode and kind, as after the first read."""
    p = zk_prefix
    for i in range(5):
        zookeeper.put(f"{p}/svc/c{i}", f"10.0.0.{i}:80")
    run = WatchRun(backend, [f"{p}/svc", f"{p}/missing"])
    run.wait_started()
    expected = sorted([f"{p}/missing", f"{p}/svc"] + [f"{p}/svc/c{i}" for i in range(5)])
    assert session_watches(zookeeper, backend) == expected
    total = zookeeper.watches()
    kazoo_client = backend._client
    assert kazoo_client is not None

    def client_side() -> tuple[dict[str, int], dict[str, int]]:
        return (
            {path: len(w) for path, w in kazoo_client._data_watchers.items()},
            {path: len(w) for path, w in kazoo_client._child_watchers.items()},
        )

    watchers = client_side()
    assert watchers == ({path: 1 for path in expected}, {path: 1 for path in expected if path != f"{p}/missing"})
    threads = threading.active_count()
    for cycle in range(60):
        zookeeper.put(f"{p}/svc/c{cycle % 5}", f"changed {cycle}")
        zookeeper.put(f"{p}/svc/new", f"new {cycle}")
        zookeeper.delete(f"{p}/svc/new")
        run.wait_for(
            lambda c=cycle: run.mirror.get(f"{p}/svc/c{c % 5}") == f"changed {c}" and f"{p}/svc/new" not in run.mirror,
            f"cycle {cycle}",
        )
    time.sleep(0.3)  # the last events re-armed
    assert session_watches(zookeeper, backend) == expected
    assert zookeeper.watches() == total
    assert client_side() == watchers
    assert threading.active_count() == threads
    # Each cycle: the changed value, and /svc/new set then deleted unless both happened
    # before the watch looked again.
    assert run.snapshots() == 1 and 60 <= len(run.changes()) <= 180
    run.stop()


def expire_session(zookeeper: ZooKeeperServer, backend: ZooKeeperBackend) -> None:
    """Make ZooKeeper expire the backend's session: another client takes it over and
    closes it (the usual way to test expiry)."""
    from kazoo.client import KazooClient

    assert backend._client is not None
    intruder = KazooClient(hosts=zookeeper.endpoint, client_id=backend._client.client_id)
    intruder.start(timeout=10)
    intruder.stop()
    intruder.close()


def test_session_expiry_ends_the_watch_and_a_new_one_reads_again(
    zookeeper: ZooKeeperServer, zk_prefix: str, backend: ZooKeeperBackend
) -> None:
    p = zk_prefix
    zookeeper.put(f"{p}/k", "before")
    run = WatchRun(backend, [p])
    run.wait_mirror({f"{p}/k": "before"})
    old_session = backend._client.client_id[0]  # type: ignore[union-attr]
    expire_session(zookeeper, backend)
    outcome = run.finished(15)
    assert isinstance(outcome.get("error"), BackendUnavailable), outcome
    zookeeper.put(f"{p}/k", "changed while no watch ran")
    # The caller's loop: read again (kazoo makes a new session), watch again.
    deadline = time.monotonic() + 15
    while True:
        try:
            snapshot = backend.get_values([p])
            break
        except BackendUnavailable:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert snapshot.values == {f"{p}/k": "changed while no watch ran"}
    assert backend._client.client_id[0] != old_session  # type: ignore[union-attr]
    again = WatchRun(backend, [p])
    again.wait_mirror({f"{p}/k": "changed while no watch ran"})
    zookeeper.put(f"{p}/k", "after")
    again.wait_mirror({f"{p}/k": "after"})
    again.stop()


def test_server_killed_during_watch_is_unavailable(
    zookeeper: ZooKeeperServer, zk_prefix: str, backend: ZooKeeperBackend
) -> None:
    p = zk_prefix
    zookeeper.put(f"{p}/k", "v")
    run = WatchRun(backend, [p])
    run.wait_started()
    zookeeper.stop()
    try:
        outcome = run.finished(5)
        assert isinstance(outcome.get("error"), BackendUnavailable), outcome
        assert str(outcome["error"]).startswith("lost the ")
    finally:
        zookeeper.start()
    deadline = time.monotonic() + 20
    while True:  # kazoo reconnects by itself, within a second of the server's return
        try:
            backend.get_values([p])
            break
        except BackendUnavailable:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    again = WatchRun(backend, [p])
    again.wait_mirror({f"{p}/k": "v"})
    zookeeper.put(f"{p}/k", "after the restart")
    again.wait_mirror({f"{p}/k": "after the restart"})
    again.stop()


def test_close_ends_a_blocked_watch(zookeeper: ZooKeeperServer, zk_prefix: str, make_backend: Factory) -> None:
    backend = make_backend(zookeeper.endpoint)
    run = WatchRun(backend, [zk_prefix])
    run.wait_started()
    started = time.monotonic()
    run.stop_signal.set()
    backend.close()
    run.thread.join(5)
    assert not run.thread.is_alive() and time.monotonic() - started < 3
    assert run.outcome == {"result": None}
