"""-metrics-addr against a real etcd: /metrics scraped and parsed with
prometheus_client's own parser while confpy watches, /ready flipping after the first
cycle, /health turning 503 while etcd is down and 200 once it is back."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from daemon_helpers import ConfpyDaemon, read, start, wait_until, write_resource
from prometheus_client.parser import text_string_to_metric_families
from servers import EtcdServer, free_port


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, parsed by prometheus_client: {(name, labels): value}."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def status(port: int, path: str) -> int:
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2).status_code
    except httpx.TransportError:
        return 0


@pytest.mark.timeout(60)
def test_counters_move_when_a_key_changes_and_a_reload_runs(
    etcd: EtcdServer, etcd_prefix: str, tmp_path: Path, daemons: list[ConfpyDaemon]
) -> None:
    p, dest, counter = etcd_prefix, tmp_path / "upstream.conf", tmp_path / "reloads"
    write_resource(tmp_path, "nginx", p, dest=dest, extra=f'reload_cmd = "echo reload >> {counter}"\n')
    etcd.put(f"{p}/nginx-80/a", "10.0.0.1:80")
    port = free_port()
    daemon = start(
        daemons, tmp_path,
        "-watch", "-backend", "etcd", "-node", etcd.endpoint, "-confdir", str(tmp_path),
        "-metrics-addr", f"127.0.0.1:{port}",
    )  # fmt: skip
    wait_until(lambda: read(counter) == "reload\n", 15, "the first render and reload")
    wait_until(lambda: status(port, "/ready") == 200, 5, "/ready")
    before = scrape(port)
    assert value(before, "confpy_build_info", version="0.1.0", backend="etcd") == 1
    assert value(before, "confpy_resources_loaded") == 1
    assert value(before, "confpy_syncs_total", resource="nginx.toml", result="updated") == 1
    assert value(before, "confpy_commands_total", kind="reload", result="ok") == 1
    assert value(before, "confpy_watch_connected", backend="etcd") == 1
    assert value(before, "confpy_store_read_duration_seconds_count", backend="etcd", result="ok") >= 1
    assert value(before, "confpy_last_sync_success_timestamp_seconds", resource="nginx.toml") > 0

    etcd.put(f"{p}/nginx-80/b", "10.0.0.2:80")
    wait_until(lambda: read(counter) == "reload\nreload\n", 10, "the second reload")
    wait_until(
        lambda: value(scrape(port), "confpy_commands_total", kind="reload", result="ok") == 2, 5, "the counter to move"
    )
    after = scrape(port)
    assert value(after, "confpy_syncs_total", resource="nginx.toml", result="updated") == 2
    assert value(after, "confpy_watch_events_total", backend="etcd", kind="change") >= 1
    assert value(after, "confpy_debounce_batches_total") >= value(before, "confpy_debounce_batches_total") + 1
    assert value(after, "confpy_render_duration_seconds_count") == value(before, "confpy_render_duration_seconds_count") + 1
    assert value(after, "confpy_last_sync_success_timestamp_seconds", resource="nginx.toml") >= value(
        before, "confpy_last_sync_success_timestamp_seconds", resource="nginx.toml"
    )
    # Label values stay bounded: no key or value of the store appears in any of them.
    labels = {v for (_, pairs) in after for (_, v) in pairs}
    assert not any("10.0.0" in label or "nginx-80" in label for label in labels), labels
    assert daemon.stop() == 0


@pytest.mark.timeout(60)
def test_ready_flips_after_the_first_cycle(
    etcd: EtcdServer, etcd_prefix: str, tmp_path: Path, daemons: list[ConfpyDaemon]
) -> None:
    p, dest, gate = etcd_prefix, tmp_path / "upstream.conf", tmp_path / "gate"
    # The first cycle waits in check_cmd until the test opens the gate.
    write_resource(tmp_path, "nginx", p, dest=dest, extra=f'check_cmd = "while [ ! -e {gate} ]; do sleep 0.05; done"\n')
    etcd.put(f"{p}/nginx-80/a", "10.0.0.1:80")
    port = free_port()
    daemon = start(
        daemons, tmp_path,
        "-watch", "-backend", "etcd", "-node", etcd.endpoint, "-confdir", str(tmp_path),
        "-metrics-addr", f"127.0.0.1:{port}",
    )  # fmt: skip
    wait_until(lambda: status(port, "/health") == 200, 15, "/health while the first cycle runs")
    wait_until(lambda: bool(daemon.log_lines("out of sync")), 10, "the first cycle to reach check_cmd")
    answer = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2)
    assert answer.status_code == 503
    assert answer.text == "not synced yet: nginx.toml\n"
    gate.touch()
    wait_until(lambda: status(port, "/ready") == 200, 10, "/ready after the first cycle")
    assert read(dest) == "server 10.0.0.1:80;\n"
    assert daemon.stop() == 0


@pytest.mark.timeout(90)
def test_health_turns_503_while_etcd_is_down_and_200_when_it_is_back(
    etcd: EtcdServer, etcd_prefix: str, tmp_path: Path, daemons: list[ConfpyDaemon]
) -> None:
    p, dest = etcd_prefix, tmp_path / "upstream.conf"
    write_resource(tmp_path, "nginx", p, dest=dest)
    etcd.put(f"{p}/nginx-80/a", "10.0.0.1:80")
    port = free_port()
    daemon = start(
        daemons, tmp_path,
        "-watch", "-backend", "etcd", "-node", etcd.endpoint, "-confdir", str(tmp_path), "-backend-timeout", "1s",
        "-metrics-addr", f"127.0.0.1:{port}", "-unhealthy-after", "2s",
    )  # fmt: skip
    wait_until(lambda: read(dest) == "server 10.0.0.1:80;\n", 15, "the first render")
    assert status(port, "/health") == 200
    try:
        # Timed from before the stop: the daemon may see the cut while stop() still waits for etcd to exit.
        stopping = time.monotonic()
        etcd.stop()
        wait_until(lambda: status(port, "/health") == 503, 20, "/health to turn 503")
        assert time.monotonic() - stopping >= 2  # not before the threshold
        answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
        assert answer.text.startswith("store unreachable for "), answer.text
        assert value(scrape(port), "confpy_watch_connected", backend="etcd") == 0
        assert status(port, "/ready") == 200  # the files rendered before still serve
    finally:
        etcd.start()
    wait_until(lambda: status(port, "/health") == 200, 30, "/health back to 200")
    assert value(scrape(port), "confpy_watch_connected", backend="etcd") == 1
    assert daemon.stop() == 0
