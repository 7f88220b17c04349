"""What -metrics-addr costs in watch mode: ``python benchmarks/watch.py --metrics``.

Two confpy run side by side, without and with ``-metrics-addr``, each against a store of
its own, changes alternating between them (this VM's speed drifts by a third from one
minute to the next, and both see the same drift); the one with metrics is scraped
while idle every ``--scrape`` seconds (15 s by default, a usual Prometheus interval; 0:
not at all). Then what the observer calls of one change cost
in-process, with no observer (every run without -metrics-addr) and with metrics.
"""

from __future__ import annotations

import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from daemon_helpers import count_connections
from servers import free_port
from stores import BenchStore, throwaway_store
from watch import Inotify, cpu_seconds, peak_rss_mib, percentile, wait_for, write_confdir

ROOT = Path(__file__).resolve().parents[1]


def compare(backend: str, changes: int, idle: float, work: Path, scrape: float = 15.0) -> None:
    for count in (1, 200):
        run_paired(backend, count, changes, idle, work / f"pair{count}", scrape)
    hook_cost()


class Setup:
    """One ``confpy -watch`` over ``count`` resources against the etcd at ``url``."""

    def __init__(self, count: int, store: BenchStore, work: Path, extra: Sequence[str] = ()) -> None:
        self.count, self.store = count, store
        confdir, self.out = work / "confdir", work / "out"
        self.out.mkdir(parents=True)
        write_confdir(confdir, self.out, count)
        store.put_many({f"/svc{i}-80/c0": f"10.0.0.{i % 250}:80" for i in range(count)})
        self.confpy = subprocess.Popen(
            [sys.executable, "-m", "confpy", "-watch", "-backend", store.backend, "-node", store.node,
             "-confdir", str(confdir), "-log-level", "error", *extra],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.watch = Inotify(self.out)
        self.from_sent: list[float] = []
        self.from_acked: list[float] = []

    def wait_rendered(self) -> None:
        for i in range(self.count):
            wait_for(self.out / f"svc{i:03d}.conf", "server", self.watch, timeout=60)

    def change(self, n: int) -> None:
        """Write a new key for one resource; time it until the file shows it."""
        i = n % self.count
        value = f"10.9.{n // 250}.{n % 250}:{1000 + n}"
        sent = time.perf_counter()
        self.store.put(f"/svc{i}-80/c{n}", value)
        acked = time.perf_counter()
        done = wait_for(self.out / f"svc{i:03d}.conf", value, self.watch)
        self.from_sent.append((done - sent) * 1000)
        self.from_acked.append(max(0.0, done - acked) * 1000)

    def connections(self) -> int:
        return count_connections(self.confpy.pid, self.store.port)

    def close(self) -> None:
        self.watch.close()
        self.confpy.send_signal(signal.SIGTERM)
        self.confpy.wait(timeout=10)

    def report(self, title: str, idle: float, idle_cpu: float) -> dict[str, float]:
        sent, acked = self.from_sent, self.from_acked
        rss = peak_rss_mib(self.confpy.pid)
        print(f"{title}:")
        print(f"  change-to-file latency from write sent:  p50 {statistics.median(sent):.2f} ms, p99 {percentile(sent, 0.99):.2f} ms")
        print(f"  change-to-file latency from write acked: p50 {statistics.median(acked):.2f} ms, p99 {percentile(acked, 0.99):.2f} ms")
        print(f"  TCP connections to {self.store.backend}: {self.connections()}")
        print(f"  CPU while idle for {idle:g}s: {idle_cpu:.2f}% of one core")
        print(f"  peak RSS: {rss:.1f} MiB")
        return {"p50": statistics.median(sent), "p99": percentile(sent, 0.99), "idle": idle_cpu, "rss": rss}


def run_paired(backend: str, count: int, changes: int, idle: float, work: Path, scrape: float) -> None:
    """confpy without and with -metrics-addr side by side, each against a store of its
    own, changes alternating between them (off, on, on, off...): this VM's speed drifts
    by a third from minute to minute, and both see the same drift. While idle, the one
    with metrics is scraped every ``scrape`` seconds (0: never), as Prometheus would."""
    port = free_port()
    with throwaway_store(backend, work / "store-off") as store_off, throwaway_store(backend, work / "store-on") as store_on:
        off = Setup(count, store_off, work / "off")
        on = Setup(count, store_on, work / "on", ["-metrics-addr", f"127.0.0.1:{port}"])
        try:
            off.wait_rendered()
            on.wait_rendered()
            for n in range(changes):
                for setup in (off, on) if n % 2 == 0 else (on, off):
                    setup.change(n)
            before = {s: cpu_seconds(s.confpy.pid) for s in (off, on)}
            started = time.monotonic()
            while time.monotonic() - started < idle:
                if scrape > 0:
                    httpx.get(f"http://127.0.0.1:{port}/metrics").raise_for_status()
                time.sleep(min(scrape or idle, max(0.0, idle - (time.monotonic() - started))))
            elapsed = time.monotonic() - started
            cpu = {s: (cpu_seconds(s.confpy.pid) - before[s]) / elapsed * 100 for s in (off, on)}
            a = off.report(f"{count} resource(s), {changes} changes, metrics off", idle, cpu[off])
            scraped = f"scraped every {scrape:g} s" if scrape > 0 else "not scraped"
            b = on.report(f"{count} resource(s), {changes} changes, metrics on ({scraped})", idle, cpu[on])
        finally:
            off.close()
            on.close()
    print(f"metrics cost, {count} resource(s): p50 latency {_delta(a['p50'], b['p50'])}, p99 {_delta(a['p99'], b['p99'])}, "
          f"idle CPU {a['idle']:.2f}% -> {b['idle']:.2f}% of one core, peak RSS {b['rss'] - a['rss']:+.1f} MiB")


def hook_cost(rounds: int = 20000) -> None:
    """What the observer calls of one change cost in-process, timed without the noise of
    processes and sockets: with no observer (the default) and with metrics and health."""
    from confpy.health import Health
    from confpy.metrics import Metrics
    from confpy.observe import NO_OBSERVER, Observer, Observers, SyncResult

    def one_change(observer: Observer) -> None:  # the hooks a one-resource change runs
        observer.event_received("etcd", "change")
        observer.debounce_batch(1)
        observer.cycle_started()
        observer.rendered("svc001.toml", 0.0002)
        observer.synced("svc001.toml", SyncResult.UPDATED)
        observer.command_ran("reload", True)
        observer.cycle_done(False, [])

    metrics = Metrics("etcd")
    labels = [f"svc{i:03d}.toml" for i in range(200)]
    metrics.resources_loaded(labels)
    for label in labels:
        metrics.synced(label, SyncResult.UPDATED)
    for name, observer in (("no observer", NO_OBSERVER), ("metrics and health", Observers([metrics, Health(19.0)]))):
        started = time.perf_counter()
        for _ in range(rounds):
            one_change(observer)
        print(f"observer calls of one change, {name}: {(time.perf_counter() - started) / rounds * 1e6:.2f} us")
    started = time.perf_counter()
    for _ in range(100):
        metrics.exposition()
    print(f"one /metrics body, 200 resources: {(time.perf_counter() - started) * 10:.2f} ms")


def _delta(before: float, after: float) -> str:
    return f"{after - before:+.2f} ms ({(after - before) / before * 100:+.1f}%)"
