"""The metrics observer and -metrics-addr's errors: the registry's text parsed back with
prometheus_client's parser, one clear line for a missing package or a bad address."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import make_confdir, run_confpy
from prometheus_client.parser import text_string_to_metric_families

from confpy.metrics import Metrics
from confpy.observe import SyncResult
from confpy.opsserver import parse_address

pytestmark = pytest.mark.timeout(30)


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    parsed = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for sample in family.samples:
            parsed[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return parsed


def test_each_hook_moves_its_metric() -> None:
    metrics = Metrics("etcd")
    metrics.resources_loaded(["a.toml", "b.toml"])
    metrics.store_read("etcd", 0.003, True)
    metrics.store_read("etcd", 1.0, False)
    metrics.rendered("a.toml", 0.0002)
    metrics.synced("a.toml", SyncResult.UPDATED)
    metrics.synced("b.toml", SyncResult.FAILED)
    metrics.command_ran("check", True)
    metrics.command_ran("reload", False)
    metrics.watch_state("etcd", True)
    metrics.event_received("etcd", "change")
    metrics.debounce_batch(2)
    metrics.cycle_done(True, ["b.toml"])
    metrics.reconfigured(True)
    got = samples(metrics)
    assert got[("confpy_build_info", (("backend", "etcd"), ("version", "0.1.0")))] == 1
    assert got[("confpy_resources_loaded", ())] == 2
    assert got[("confpy_store_read_duration_seconds_count", (("backend", "etcd"), ("result", "ok")))] == 1
    assert got[("confpy_store_read_duration_seconds_count", (("backend", "etcd"), ("result", "error")))] == 1
    assert got[("confpy_render_duration_seconds_count", ())] == 1
    assert got[("confpy_syncs_total", (("resource", "a.toml"), ("result", "updated")))] == 1
    assert got[("confpy_syncs_total", (("resource", "b.toml"), ("result", "failed")))] == 1
    assert ("confpy_last_sync_success_timestamp_seconds", (("resource", "a.toml"),)) in got
    assert ("confpy_last_sync_success_timestamp_seconds", (("resource", "b.toml"),)) not in got
    assert got[("confpy_commands_total", (("kind", "check"), ("result", "ok")))] == 1
    assert got[("confpy_commands_total", (("kind", "reload"), ("result", "failed")))] == 1
    assert got[("confpy_watch_connected", (("backend", "etcd"),))] == 1
    assert got[("confpy_watch_events_total", (("backend", "etcd"), ("kind", "change")))] == 1
    assert got[("confpy_debounce_batches_total", ())] == 1
    assert got[("confpy_cycles_total", ())] == 1
    assert got[("confpy_reconfigurations_total", (("result", "ok"),))] == 1


def test_a_resource_taken_out_loses_its_last_sync_time_and_a_new_backend_shows() -> None:
    metrics = Metrics("etcd")
    metrics.resources_loaded(["a.toml", "b.toml"])
    metrics.synced("a.toml", SyncResult.UNCHANGED)
    metrics.synced("b.toml", SyncResult.UPDATED)
    metrics.resources_loaded(["b.toml"])
    metrics.store_read("etcdv3", 0.01, True)
    got = samples(metrics)
    assert ("confpy_last_sync_success_timestamp_seconds", (("resource", "a.toml"),)) not in got
    assert ("confpy_last_sync_success_timestamp_seconds", (("resource", "b.toml"),)) in got
    assert got[("confpy_build_info", (("backend", "etcdv3"), ("version", "0.1.0")))] == 1


@pytest.mark.parametrize(
    ("text", "address"),
    [("127.0.0.1:9180", ("127.0.0.1", 9180)), (":9180", ("", 9180)), ("[::1]:9180", ("::1", 9180)),
     ("localhost:1", ("localhost", 1))],
)  # fmt: skip
def test_parse_address(text: str, address: tuple[str, int]) -> None:
    assert parse_address(text) == address


def confdir(tmp_path: Path) -> Path:
    resource = f'[template]\nsrc = "a.tmpl"\ndest = "{tmp_path / "a.conf"}"\nkeys = ["/app"]\n'
    return make_confdir(tmp_path / "confdir", {"a.toml": resource}, {"a.tmpl": '{{getv "/app/a"}}\n'})


@pytest.mark.parametrize("address", ["9180", "127.0.0.1:http", "127.0.0.1:70000", "127.0.0.1:"])
def test_a_bad_address_is_one_line(tmp_path: Path, address: str) -> None:
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(confdir(tmp_path)), "-metrics-addr", address,
                     env={"APP_A": "1"})  # fmt: skip
    assert run.code == 1
    assert run.errors == [f"-metrics-addr {address!r} must be host:port, e.g. 127.0.0.1:9180"]


def test_an_address_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        run = run_confpy("-watch", "-backend", "env", "-confdir", str(confdir(tmp_path)), "-metrics-addr", address,
                         env={"APP_A": "1"})  # fmt: skip
    assert run.code == 1
    assert run.errors == [f"cannot listen on -metrics-addr {address}: Address already in use"]


def test_without_prometheus_client_the_error_says_what_to_install(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "sys.modules['prometheus_client'] = None  # as if it were not installed\n"
        "from confpy.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "-onetime", "-backend", "env", "-confdir", str(confdir(tmp_path)),
         "-metrics-addr", "127.0.0.1:0"],
        capture_output=True, text=True, timeout=20, check=False, env={"APP_A": "1", "TZ": "UTC"},
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].endswith(
        " FATAL -metrics-addr needs the Python package 'prometheus_client', which is not installed: "
        "pip install 'confpy[metrics]'"
    )


def test_onetime_serves_metrics_only_when_asked(tmp_path: Path) -> None:
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(confdir(tmp_path)), "-metrics-addr",
                     "127.0.0.1:0", env={"APP_A": "1"})  # fmt: skip
    assert run.code == 0
    serving = [m for m in run.messages("INFO") if m.startswith("Serving /metrics, /health and /ready on 127.0.0.1:")]
    assert len(serving) == 1 and not serving[0].endswith(":0")
    assert (tmp_path / "a.conf").read_text() == "1\n"
