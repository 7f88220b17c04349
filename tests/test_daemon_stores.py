"""``confpy -watch`` against redis, zookeeper and consul, as a subprocess: changes and
deletions followed, the server killed and revived with the files intact, 200 resources
on at most two connections (counted from /proc), a ZooKeeper session expired under it.

Redis and ZooKeeper are real servers; consul is tests/consul_server.py (see there).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from cli_helpers import LOG_LINE, stage_files
from daemon_helpers import ConfpyDaemon, read, reloads, start, upstream, wait_until, write_resource
from store_adapters import STORES, Store, store_for
from store_servers import RedisServer, ZooKeeperServer


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> Store:
    return store_for(request, request.param)


@pytest.mark.timeout(60)
def test_watch_follows_changes_and_deletions(store: Store, tmp_path: Path, daemons: list[ConfpyDaemon]) -> None:
    p, dest, counter = store.prefix, tmp_path / "upstream.conf", tmp_path / "reloads"
    write_resource(tmp_path, "nginx", p, dest=dest, extra=f'reload_cmd = "echo reload >> {counter}"\n')
    store.put(f"{p}/nginx-80/a", "10.0.0.1:80")
    daemon = start(daemons, tmp_path, "-watch", *store.args(), "-confdir", str(tmp_path))
    wait_until(lambda: read(dest) == upstream("10.0.0.1:80"), 15, "the first render")
    wait_until(lambda: reloads(counter) == 1, 5, "the first reload")

    store.put(f"{p}/nginx-80/b", "10.0.0.2:80")
    wait_until(lambda: read(dest) == upstream("10.0.0.1:80", "10.0.0.2:80"), 5, "a new key rendered")
    store.put(f"{p}/nginx-80/a", "10.0.0.3:80")
    wait_until(lambda: read(dest) == upstream("10.0.0.3:80", "10.0.0.2:80"), 5, "a changed key rendered")
    store.delete(f"{p}/nginx-80/a")
    wait_until(lambda: read(dest) == upstream("10.0.0.2:80"), 5, "a deleted key rendered")
    wait_until(lambda: reloads(counter) == 4, 5, "a reload per change")

    mtime = dest.stat().st_mtime_ns
    store.put(f"{p}/other-80/x", "10.9.9.9:80")
    time.sleep(0.5)
    assert dest.stat().st_mtime_ns == mtime and reloads(counter) == 4
    assert daemon.stop() == 0
    assert daemon.log_lines("INFO Captured terminated. Exiting...")
    assert "Traceback" not in daemon.log() and daemon.log_lines("ERROR") == []


@pytest.mark.timeout(90)
def test_store_killed_and_revived_during_watch(store: Store, tmp_path: Path, daemons: list[ConfpyDaemon]) -> None:
    p, dest = store.prefix, tmp_path / "upstream.conf"
    write_resource(tmp_path, "nginx", p, dest=dest)
    store.put(f"{p}/nginx-80/a", "10.0.0.1:80")
    daemon = start(daemons, tmp_path, "-watch", *store.args("-backend-timeout", "1s"), "-confdir", str(tmp_path))
    wait_until(lambda: read(dest) == upstream("10.0.0.1:80"), 15, "the first render")
    written = dest.read_bytes()
    store.stop()
    try:
        time.sleep(3)
        assert dest.read_bytes() == written and stage_files(str(dest)) == []
        assert daemon.process is not None and daemon.process.poll() is None
    finally:
        store.start()
    store.put(f"{p}/nginx-80/b", "10.0.0.2:80")
    wait_until(lambda: read(dest) == upstream("10.0.0.1:80", "10.0.0.2:80"), 30, "a change after the restart")
    store.delete(f"{p}/nginx-80/a")
    wait_until(lambda: read(dest) == upstream("10.0.0.2:80"), 10, "a deletion after the restart")
    assert len(daemon.log_lines("Watching the store failed")) == 1, daemon.log()
    assert len(daemon.log_lines("The store answers again")) == 1, daemon.log()
    log = daemon.log()
    assert "Traceback" not in log, log
    assert all(LOG_LINE.match(line) for line in log.splitlines()), log  # confd's format only
    assert daemon.stop() == 0


@pytest.mark.timeout(90)
def test_two_hundred_resources_on_at_most_two_connections(store: Store, tmp_path: Path, daemons: list[ConfpyDaemon]) -> None:
    p = store.prefix
    for i in range(200):
        write_resource(tmp_path, f"svc{i:03d}", p, dest=tmp_path / f"svc{i:03d}.conf", keys=f'["/svc{i}-80"]')
        store.put(f"{p}/svc{i}-80/c1", f"10.0.{i // 250}.{i % 250}:80")
    (tmp_path / "templates" / "upstream.tmpl").write_text('{{range gets "/*/*"}}server {{.Value}};\n{{end}}')
    daemon = start(daemons, tmp_path, "-watch", *store.args(), "-confdir", str(tmp_path))
    wait_until(lambda: all((tmp_path / f"svc{i:03d}.conf").exists() for i in range(200)), 30, "200 files")
    counts = [daemon.connections_to(store.port)]
    store.put(f"{p}/svc7-80/c2", "10.7.7.7:80")
    wait_until(lambda: "10.7.7.7:80" in (read(tmp_path / "svc007.conf") or ""), 5, "a change among 200")
    store.put(f"{p}/svc150-80/c2", "10.1.5.0:80")
    wait_until(lambda: "10.1.5.0:80" in (read(tmp_path / "svc150.conf") or ""), 5, "another change among 200")
    for _ in range(10):
        counts.append(daemon.connections_to(store.port))
        time.sleep(0.05)
    assert 1 <= max(counts) <= 2, counts
    assert daemon.stop() == 0


@pytest.mark.timeout(60)
def test_redis_watch_turns_keyspace_notifications_on(
    redis: RedisServer, redis_prefix: str, tmp_path: Path, daemons: list[ConfpyDaemon]
) -> None:
    dest = tmp_path / "upstream.conf"
    write_resource(tmp_path, "nginx", redis_prefix, dest=dest)
    redis.client.set(f"{redis_prefix}/nginx-80/a", "10.0.0.1:80")
    assert redis.config_get("notify-keyspace-events") == ""
    daemon = start(daemons, tmp_path, "-watch", "-backend", "redis", "-node", redis.endpoint, "-confdir", str(tmp_path))
    wait_until(lambda: read(dest) == upstream("10.0.0.1:80"), 15, "the first render")
    redis.client.set(f"{redis_prefix}/nginx-80/b", "10.0.0.2:80")
    wait_until(lambda: read(dest) == upstream("10.0.0.1:80", "10.0.0.2:80"), 5, "a change")
    assert len(daemon.log_lines("INFO Turned on keyspace notifications on redis at")) == 1, daemon.log()
    assert daemon.stop() == 0


@pytest.mark.timeout(60)
def test_zookeeper_session_expiry_reads_everything_again(
    zookeeper: ZooKeeperServer, zk_prefix: str, tmp_path: Path, daemons: list[ConfpyDaemon]
) -> None:
    dest = tmp_path / "upstream.conf"
    write_resource(tmp_path, "nginx", zk_prefix, dest=dest)
    zookeeper.put(f"{zk_prefix}/nginx-80/a", "10.0.0.1:80")
    daemon = start(daemons, tmp_path, "-watch", "-backend", "zookeeper", "-node", zookeeper.endpoint, "-confdir", str(tmp_path))
    wait_until(lambda: read(dest) == upstream("10.0.0.1:80"), 15, "the first render")
    # Frozen longer than its session lasts, the daemon finds it expired when it wakes.
    daemon.send(signal.SIGSTOP)
    try:
        time.sleep(11)  # the session timeout is 10 s (ZooKeeper caps it at 20 ticks)
        zookeeper.put(f"{zk_prefix}/nginx-80/b", "10.0.0.2:80")  # while no watch ran
    finally:
        daemon.send(signal.SIGCONT)
    wait_until(lambda: read(dest) == upstream("10.0.0.1:80", "10.0.0.2:80"), 20, "the change made while expired")
    zookeeper.put(f"{zk_prefix}/nginx-80/c", "10.0.0.3:80")
    wait_until(lambda: read(dest) == upstream("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"), 10, "a change after")
    assert daemon.log_lines("Watching the store failed"), daemon.log()
    assert "Traceback" not in daemon.log()
    assert daemon.stop() == 0
