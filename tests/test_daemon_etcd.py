"""The daemon against a real etcd: watch and interval modes, bursts, outages, failover,
a forgotten index, signals. Each test runs confpy as a subprocess, as systemd would."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest
from daemon_helpers import (
    ConfpyDaemon,
    EtcdCluster,
    read,
    reloads,
    start,
    upstream,
    wait_until,
    write_resource,
)
from servers import EtcdServer, b64, put_v3, v3


@pytest.mark.timeout(40)
def test_watch_renders_changes_and_deletions_and_ignores_unrelated_keys(
    etcd: EtcdServer, etcd_prefix: str, tmp_path: Path, daemons: list[ConfpyDaemon]
) -> None:
    p, dest, counter = etcd_prefix, tmp_path / "upstream.conf", tmp_path / "reloads"
    write_resource(tmp_path, "nginx", p, dest=dest, extra=f'reload_cmd = "echo reload >> {counter}"\n')
    etcd.put(f"{p}/nginx-80/a", "10.0.0.1:80")
    daemon = start(daemons, tmp_path, "-watch", "-backend", "etcd", "-node", etcd.endpoint, "-confdir", str(tmp_path))
    wait_until(lambda: read(dest) == upstream("10.0.0.1:80"), 15, "the first render")
    wait_until(lambda: reloads(counter) == 1, 5, "the first reload")  # it follows the rename

    etcd.put(f"{p}/nginx-80/b", "10.0.0.2:80")
    wait_until(lambda: read(dest) == upstream("10.0.0.1:80", "10.0.0.2:80"), 5, "a new key rendered")
    wait_until(lambda: reloads(counter) == 2, 5, "the second reload")

    etcd.delete(f"{p}/nginx-80/a")
    wait_until(lambda: read(dest) == upstream("10.0.0.2:80"), 5, "a deleted key rendered")
    wait_until(lambda: reloads(counter) == 3, 5, "the third reload")

    mtime = dest.stat().st_mtime_ns
    etcd.put(f"{p}/other-80/x", "10.9.9.9:80")
    etcd.put(f"{p}/nginx-8080/x", "10.9.9.9:80")  # shares a string prefix, not the path
    time.sleep(0.5)
    assert dest.stat().st_mtime_ns == mtime
    assert reloads(counter) == 3
    assert daemon.stop() == 0
    assert daemon.log_lines("INFO Captured terminated. Exiting...")


@pytest.mark.timeout(60)
def test_two_hundred_resources_hold_at_most_two_connections(
    etcd: EtcdServer, etcd_prefix: str, tmp_path: Path, daemons: list[ConfpyDaemon]
) -> None:
    p = etcd_prefix
    for i in range(200):
        write_resource(tmp_path, f"svc{i:03d}", p, dest=tmp_path / f"svc{i:03d}.conf", keys=f'["/svc{i}-80"]')
        etcd.put(f"{p}/svc{i}-80/c1", f"10.0.{i // 250}.{i % 250}:80")
    (tmp_path / "templates" / "upstream.tmpl").write_text('{{range gets "/*/*"}}server {{.Value}};\n{{end}}')
    daemon = start(daemons, tmp_path, "-watch", "-backend", "etcd", "-node", etcd.endpoint, "-confdir", str(tmp_path))
    wait_until(lambda: all((tmp_path / f"svc{i:03d}.conf").exists() for i in range(200)), 30, "200 files")
    port = int(etcd.endpoint.rsplit(":", 1)[1])
    counts = [daemon.connections_to(port)]
    etcd.put(f"{p}/svc7-80/c2", "10.7.7.7:80")
    wait_until(lambda: "10.7.7.7:80" in (read(tmp_path / "svc007.conf") or ""), 5, "a change among 200")
    for _ in range(10):
        counts.append(daemon.connections_to(port))
        time.sleep(0.05)
    assert 1 <= max(counts) <= 2, counts


@pytest.mark.timeout(60)
def test_a_burst_of_1000_writes_is_debounced_into_a_handful_of_renders(
    etcd: EtcdServer, etcd_prefix: str, tmp_path: Path, daemons: list[ConfpyDaemon]
) -> None:
    p, dest, counter = etcd_prefix, tmp_path / "upstream.conf", tmp_path / "reloads"
    write_resource(tmp_path, "nginx", p, dest=dest, extra=f'reload_cmd = "echo reload >> {counter}"\n')
    etcd.put(f"{p}/nginx-80/a", "start:1")
    daemon = start(
        daemons, tmp_path, "-watch", "-debounce", "100ms:1s", "-backend", "etcd", "-node", etcd.endpoint,
        "-confdir", str(tmp_path),
    )  # fmt: skip
    wait_until(lambda: read(dest) == upstream("start:1"), 15, "the first render")
    wait_until(lambda: reloads(counter) == 1 and bool(daemon.log_lines("has been updated")), 5, "the first reload")
    renders_before = len(daemon.log_lines("has been updated"))
    started = time.monotonic()
    with httpx.Client(base_url=etcd.url) as client:
        for i in range(1000):
            client.put(f"/v2/keys{p}/nginx-80/k{i % 50:02d}", data={"value": f"10.1.{i % 50}.{i}:80"})
    burst = time.monotonic() - started
    final = {f"k{i % 50:02d}": f"10.1.{i % 50}.{i}:80" for i in range(1000)}
    expected = upstream("start:1", *(final[k] for k in sorted(final)))
    wait_until(lambda: read(dest) == expected, 10, "the final data rendered")
    time.sleep(1.2)  # anything still pending would land now
    renders = len(daemon.log_lines("has been updated")) - renders_before
    assert read(dest) == expected
    # One render per debounce cap (1 s) of the burst, plus the tail: a handful.
    assert 1 <= renders <= burst + 3, (renders, burst)
    assert reloads(counter) - 1 == renders


@pytest.mark.timeout(90)
@pytest.mark.parametrize("outage", [2, 4, 10])
def test_etcd_outage_keeps_files_logs_once_and_recovers(
    outage: int, etcd: EtcdServer, etcd_prefix: str, tmp_path: Path, daemons: list[ConfpyDaemon]
) -> None:
    p, dest = etcd_prefix, tmp_path / "upstream.conf"
    write_resource(tmp_path, "nginx", p, dest=dest)
    etcd.put(f"{p}/nginx-80/a", "10.0.0.1:80")
    daemon = start(
        daemons, tmp_path, "-watch", "-backend", "etcd", "-node", etcd.endpoint, "-backend-timeout", "1s",
        "-confdir", str(tmp_path),
    )  # fmt: skip
    wait_until(lambda: read(dest) == upstream("10.0.0.1:80"), 15, "the first render")
    try:
        etcd.stop()
        time.sleep(outage)
        assert read(dest) == upstream("10.0.0.1:80")
        assert daemon.process is not None and daemon.process.poll() is None
    finally:
        etcd.start()
    etcd.put(f"{p}/nginx-80/b", "10.0.0.2:80")
    wait_until(lambda: read(dest) == upstream("10.0.0.1:80", "10.0.0.2:80"), 20, "a change after the outage")
    assert len(daemon.log_lines("Watching the store failed")) == 1, daemon.log()
    assert len(daemon.log_lines("The store answers again")) == 1, daemon.log()
    assert daemon.stop() == 0


@pytest.mark.timeout(90)
def test_killing_the_watched_member_fails_over_to_the_other(tmp_path: Path, daemons: list[ConfpyDaemon]) -> None:
    cluster = EtcdCluster(tmp_path / "cluster")
    cluster.start()
    try:
        dest = tmp_path / "upstream.conf"
        write_resource(tmp_path, "nginx", "/", dest=dest)
        cluster.put("/nginx-80/a", "10.0.0.1:80", member=2)
        daemon = start(
            daemons, tmp_path, "-watch", "-backend", "etcd", "-node", cluster.endpoint(0),
            "-node", cluster.endpoint(1), "-backend-timeout", "1s", "-confdir", str(tmp_path),
        )  # fmt: skip
        wait_until(lambda: read(dest) == upstream("10.0.0.1:80"), 20, "the first render")
        assert daemon.connections_to(cluster.client_ports[0]) >= 1
        cluster.kill(0)
        cluster.put("/nginx-80/b", "10.0.0.2:80", member=2)
        wait_until(lambda: read(dest) == upstream("10.0.0.1:80", "10.0.0.2:80"), 30, "the change, via member 1")
        assert daemon.connections_to(cluster.client_ports[1]) >= 1
        assert daemon.stop() == 0
    finally:
        cluster.stop()


@pytest.mark.timeout(60)
def test_a_forgotten_watch_index_is_recovered_by_reading_everything_again(
    etcd: EtcdServer, etcd_prefix: str, tmp_path: Path, daemons: list[ConfpyDaemon]
) -> None:
    p, dest = etcd_prefix, tmp_path / "upstream.conf"
    write_resource(tmp_path, "nginx", p, dest=dest)
    etcd.put(f"{p}/nginx-80/a", "1:1")
    daemon = start(daemons, tmp_path, "-watch", "-backend", "etcd", "-node", etcd.endpoint, "-confdir", str(tmp_path))
    wait_until(lambda: read(dest) == upstream("1:1"), 15, "the first render")
    daemon.send(signal.SIGSTOP)  # frozen: its long-poll answer waits in the socket
    try:
        etcd.put(f"{p}/nginx-80/a", "2:2")  # answers the pending long-poll
        with httpx.Client(base_url=etcd.url) as client:
            for i in range(1100):  # more than the 1000 events etcd v2 remembers
                client.put(f"/v2/keys{p}/noise/n{i % 10}", data={"value": str(i)})
        etcd.put(f"{p}/nginx-80/b", "3:3")
    finally:
        daemon.send(signal.SIGCONT)
    wait_until(lambda: read(dest) == upstream("2:2", "3:3"), 15, "the state after the gap")
    assert daemon.log_lines("etcd forgot the events"), daemon.log()


@pytest.mark.timeout(40)
def test_sighup_loads_a_new_resource_without_restarting(
    etcd: EtcdServer, etcd_prefix: str, tmp_path: Path, daemons: list[ConfpyDaemon]
) -> None:
    p = etcd_prefix
    write_resource(tmp_path, "first", p, dest=tmp_path / "first.conf")
    etcd.put(f"{p}/nginx-80/a", "10.0.0.1:80")
    etcd.put(f"{p}/api-80/a", "10.0.1.1:80")
    daemon = start(
        daemons, tmp_path, "-watch", "-watch-confdir=false", "-backend", "etcd", "-node", etcd.endpoint,
        "-confdir", str(tmp_path),
    )  # fmt: skip
    wait_until(lambda: (tmp_path / "first.conf").exists(), 15, "the first resource")
    (tmp_path / "templates" / "api.tmpl").write_text('{{range gets "/api-80/*"}}api {{.Value}}\n{{end}}')
    (tmp_path / "conf.d" / "second.toml").write_text(
        f'[template]\nsrc = "api.tmpl"\ndest = "{tmp_path / "second.conf"}"\nprefix = "{p}"\nkeys = ["/api-80"]\n'
    )
    time.sleep(0.3)
    assert not (tmp_path / "second.conf").exists()  # confdir watching is off: SIGHUP does it
    daemon.send(signal.SIGHUP)
    wait_until(lambda: read(tmp_path / "second.conf") == "api 10.0.1.1:80\n", 10, "the new resource")
    etcd.put(f"{p}/api-80/b", "10.0.1.2:80")  # and its keys are watched from now on
    wait_until(lambda: read(tmp_path / "second.conf") == "api 10.0.1.1:80\napi 10.0.1.2:80\n", 5, "its change")
    assert daemon.process is not None and daemon.process.poll() is None


@pytest.mark.timeout(40)
def test_edits_in_the_confdir_are_picked_up_by_themselves(
    etcd: EtcdServer, etcd_prefix: str, tmp_path: Path, daemons: list[ConfpyDaemon]
) -> None:
    p, dest = etcd_prefix, tmp_path / "upstream.conf"
    write_resource(tmp_path, "nginx", p, dest=dest)
    etcd.put(f"{p}/nginx-80/a", "10.0.0.1:80")
    start(daemons, tmp_path, "-watch", "-backend", "etcd", "-node", etcd.endpoint, "-confdir", str(tmp_path))
    wait_until(lambda: read(dest) == upstream("10.0.0.1:80"), 15, "the first render")
    (tmp_path / "templates" / "upstream.tmpl").write_text('{{range gets "/nginx-80/*"}}backend {{.Value}}\n{{end}}')
    wait_until(lambda: read(dest) == "backend 10.0.0.1:80\n", 10, "the edited template rendered")


@pytest.mark.timeout(40)
def test_sigterm_during_a_slow_check_finishes_it_and_leaves_no_stage_file(
    etcd: EtcdServer, etcd_prefix: str, tmp_path: Path, daemons: list[ConfpyDaemon]
) -> None:
    p, out = etcd_prefix, tmp_path / "out"
    out.mkdir()
    dest, started = out / "upstream.conf", tmp_path / "check-started"
    write_resource(
        tmp_path, "nginx", p, dest=dest, extra=f'check_cmd = "touch {started}; sleep 2; test -s {{{{.src}}}}"\n'
    )
    etcd.put(f"{p}/nginx-80/a", "10.0.0.1:80")
    daemon = start(daemons, tmp_path, "-watch", "-backend", "etcd", "-node", etcd.endpoint, "-confdir", str(tmp_path))
    wait_until(started.exists, 15, "the check to start")
    assert [f.name for f in out.iterdir() if f.name.startswith(".upstream.conf")]  # staged now
    began = time.monotonic()
    assert daemon.stop(signal.SIGTERM, timeout=10) == 0
    assert time.monotonic() - began < 5
    assert daemon.log_lines("INFO Captured terminated. Exiting...")
    assert [f.name for f in out.iterdir()] == ["upstream.conf"]  # the sync finished; no stage file
    assert read(dest) == upstream("10.0.0.1:80")


@pytest.mark.timeout(40)
def test_a_second_signal_aborts_the_slow_check_and_removes_the_stage_file(
    etcd: EtcdServer, etcd_prefix: str, tmp_path: Path, daemons: list[ConfpyDaemon]
) -> None:
    p, out = etcd_prefix, tmp_path / "out"
    out.mkdir()
    dest, started = out / "upstream.conf", tmp_path / "check-started"
    write_resource(tmp_path, "nginx", p, dest=dest, extra=f'check_cmd = "touch {started}; sleep 30"\n')
    etcd.put(f"{p}/nginx-80/a", "10.0.0.1:80")
    daemon = start(daemons, tmp_path, "-watch", "-backend", "etcd", "-node", etcd.endpoint, "-confdir", str(tmp_path))
    wait_until(started.exists, 15, "the check to start")
    daemon.send(signal.SIGINT)
    time.sleep(0.3)
    assert daemon.stop(signal.SIGINT, timeout=5) == 0
    assert daemon.log_lines("INFO Captured interrupt. Exiting...")
    assert list(out.iterdir()) == []  # not committed, nothing left behind


@pytest.mark.timeout(40)
def test_interval_mode_renders_each_tick_and_rereads_conf_d(
    etcd: EtcdServer, etcd_prefix: str, tmp_path: Path, daemons: list[ConfpyDaemon]
) -> None:
    p = etcd_prefix
    write_resource(tmp_path, "first", p, dest=tmp_path / "first.conf")
    etcd.put(f"{p}/nginx-80/a", "10.0.0.1:80")
    daemon = start(daemons, tmp_path, "-interval", "1", "-backend", "etcd", "-node", etcd.endpoint, "-confdir", str(tmp_path))
    wait_until(lambda: read(tmp_path / "first.conf") == upstream("10.0.0.1:80"), 15, "the first tick")
    etcd.put(f"{p}/nginx-80/b", "10.0.0.2:80")
    wait_until(lambda: read(tmp_path / "first.conf") == upstream("10.0.0.1:80", "10.0.0.2:80"), 5, "the next tick")
    write_resource(tmp_path, "second", p, dest=tmp_path / "second.conf")
    wait_until(lambda: (tmp_path / "second.conf").exists(), 5, "a resource added to conf.d")
    assert daemon.stop(signal.SIGINT) == 0


@pytest.mark.timeout(60)
def test_a_failed_reload_is_retried_until_it_works(
    etcd: EtcdServer, etcd_prefix: str, tmp_path: Path, daemons: list[ConfpyDaemon]
) -> None:
    p, dest, ready, counter = etcd_prefix, tmp_path / "upstream.conf", tmp_path / "service-up", tmp_path / "reloads"
    write_resource(
        tmp_path, "nginx", p, dest=dest, extra=f'reload_cmd = "test -e {ready} && echo ok >> {counter}"\n'
    )
    etcd.put(f"{p}/nginx-80/a", "10.0.0.1:80")
    daemon = start(daemons, tmp_path, "-watch", "-backend", "etcd", "-node", etcd.endpoint, "-confdir", str(tmp_path))
    wait_until(lambda: bool(daemon.log_lines("ERROR exit status 1")), 15, "the failed reload")
    assert read(dest) == upstream("10.0.0.1:80")  # replaced before the reload, as confd does
    ready.touch()
    wait_until(lambda: reloads(counter) == 1, 20, "the retried reload")


@pytest.mark.timeout(40)
def test_watch_through_the_v3_api(
    etcd: EtcdServer, etcd_prefix: str, tmp_path: Path, daemons: list[ConfpyDaemon]
) -> None:
    p, dest = etcd_prefix, tmp_path / "upstream.conf"
    write_resource(tmp_path, "nginx", p, dest=dest)
    put_v3(etcd, f"{p}/nginx-80/a", "10.3.0.1:80")
    daemon = start(daemons, tmp_path, "-watch", "-backend", "etcdv3", "-node", etcd.endpoint, "-confdir", str(tmp_path))
    wait_until(lambda: read(dest) == upstream("10.3.0.1:80"), 15, "the first render")
    put_v3(etcd, f"{p}/nginx-80/b", "10.3.0.2:80")
    wait_until(lambda: read(dest) == upstream("10.3.0.1:80", "10.3.0.2:80"), 5, "a v3 put")
    v3(etcd, "kv/deleterange", {"key": b64(f"{p}/nginx-80/a")})
    wait_until(lambda: read(dest) == upstream("10.3.0.2:80"), 5, "a v3 delete")
    mtime = dest.stat().st_mtime_ns
    put_v3(etcd, f"{p}/nginx-8080/x", "unrelated")
    time.sleep(0.5)
    assert dest.stat().st_mtime_ns == mtime
    assert daemon.stop() == 0


@pytest.mark.timeout(40)
def test_sighup_in_interval_mode_starts_the_next_tick_now(
    etcd: EtcdServer, etcd_prefix: str, tmp_path: Path, daemons: list[ConfpyDaemon]
) -> None:
    p = etcd_prefix
    write_resource(tmp_path, "first", p, dest=tmp_path / "first.conf")
    etcd.put(f"{p}/nginx-80/a", "10.0.0.1:80")
    daemon = start(daemons, tmp_path, "-interval", "600", "-backend", "etcd", "-node", etcd.endpoint, "-confdir", str(tmp_path))
    wait_until(lambda: (tmp_path / "first.conf").exists(), 15, "the first tick")
    write_resource(tmp_path, "second", p, dest=tmp_path / "second.conf")
    daemon.send(signal.SIGHUP)
    wait_until(lambda: read(tmp_path / "second.conf") == upstream("10.0.0.1:80"), 10, "the tick SIGHUP starts")
    assert len(daemon.log_lines("Reloading configuration (SIGHUP)")) == 1
    assert daemon.stop() == 0
