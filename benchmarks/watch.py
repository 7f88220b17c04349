"""Watch mode against a store: change-to-file latency, connections, idle CPU, RSS.

Starts a throw-away store (etcd by default; redis, zookeeper or consul with --backend,
see stores.py) on free loopback ports, then for 1 and 200 resources runs ``confpy
-watch`` as a subprocess and measures:

* latency from a write to the rendered file showing the new value (p50/p99), both from
  the moment the write is sent and from the moment the store acknowledges it;
* established TCP connections from confpy to the store;
* CPU used by confpy while idle for 10 s (percent of one core);
* confpy's peak RSS (VmHWM).

``--pause`` waits between changes: consul's watch is rate limited to four queries a
second once changes come back to back (as Consul's docs ask of blocking-query clients),
so back-to-back changes measure that limit, not the watch.

``--metrics`` measures what -metrics-addr costs instead (metrics_cost.py): confpy without
and with it side by side, and the observer calls of one change in-process.

Usage: python benchmarks/watch.py [--backend etcd|redis|zookeeper|consul|all] [--changes 200]
       [--idle 10] [--pause 0] [--metrics]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from daemon_helpers import count_connections  # noqa: E402
from stores import BACKENDS, BenchStore, throwaway_store  # noqa: E402


def write_confdir(confdir: Path, out: Path, count: int) -> None:
    (confdir / "conf.d").mkdir(parents=True)
    (confdir / "templates").mkdir()
    (confdir / "templates" / "upstream.tmpl").write_text(
        'upstream app {\n{{range gets "/*/*"}}    server {{.Value}};\n{{end}}}\n'
    )
    for i in range(count):
        (confdir / "conf.d" / f"svc{i:03d}.toml").write_text(
            f'[template]\nsrc = "upstream.tmpl"\ndest = "{out / f"svc{i:03d}.conf"}"\nkeys = ["/svc{i}-80"]\n'
        )


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Inotify:
    """Linux inotify on a directory: wakes when a file there is written or renamed in,
    so the benchmark waits without burning the CPU confpy and etcd need."""

    IN_CLOSE_WRITE, IN_MOVED_TO = 0x8, 0x80

    def __init__(self, directory: Path) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0 or self._libc.inotify_add_watch(self.fd, str(directory).encode(), self.IN_CLOSE_WRITE | self.IN_MOVED_TO) < 0:
            raise OSError(ctypes.get_errno(), "inotify")

    def wait(self, timeout: float) -> None:
        select.select([self.fd], [], [], timeout)
        with contextlib.suppress(BlockingIOError):
            os.read(self.fd, 65536)

    def close(self) -> None:
        os.close(self.fd)


def wait_for(path: Path, needle: str, watch: Inotify, timeout: float = 10.0) -> float:
    """The moment ``path`` holds ``needle`` (checked after each write in its directory)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if needle in path.read_text():
                return time.perf_counter()
        except FileNotFoundError:
            pass
        watch.wait(min(0.05, max(0.0, deadline - time.monotonic())))
    raise SystemExit(f"{path} never showed {needle}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(count: int, store: BenchStore, changes: int, idle: float, work: Path, pause: float) -> None:
    confdir, out = work / f"confdir{count}", work / f"out{count}"
    out.mkdir()
    write_confdir(confdir, out, count)
    store.put_many({f"/svc{i}-80/c0": f"10.0.0.{i % 250}:80" for i in range(count)})
    confpy = subprocess.Popen(
        [sys.executable, "-m", "confpy", "-watch", "-backend", store.backend, "-node", store.node,
         "-confdir", str(confdir), "-log-level", "error"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    watch = Inotify(out)
    try:
        for i in range(count):
            wait_for(out / f"svc{i:03d}.conf", "server", watch, timeout=60)
        from_sent, from_acked = [], []
        for n in range(changes):
            time.sleep(pause)
            i = n % count
            value = f"10.9.{n // 250}.{n % 250}:{1000 + n}"
            sent = time.perf_counter()
            store.put(f"/svc{i}-80/c{n}", value)
            acked = time.perf_counter()
            done = wait_for(out / f"svc{i:03d}.conf", value, watch)
            from_sent.append((done - sent) * 1000)
            from_acked.append(max(0.0, done - acked) * 1000)
        connections = count_connections(confpy.pid, store.port)
        before = cpu_seconds(confpy.pid)
        time.sleep(idle)
        idle_cpu = (cpu_seconds(confpy.pid) - before) / idle * 100
        rss = peak_rss_mib(confpy.pid)
    finally:
        watch.close()
        confpy.send_signal(signal.SIGTERM)
        confpy.wait(timeout=10)
    spacing = f", {pause:g} s apart" if pause else ""
    print(f"{store.backend}, {count} resource(s), {changes} changes{spacing}:")
    print(f"  change-to-file latency from write sent:  p50 {statistics.median(from_sent):.2f} ms, p99 {percentile(from_sent, 0.99):.2f} ms")
    print(f"  change-to-file latency from write acked: p50 {statistics.median(from_acked):.2f} ms, p99 {percentile(from_acked, 0.99):.2f} ms")
    print(f"  TCP connections to {store.backend}: {connections}")
    print(f"  CPU while idle for {idle:g}s: {idle_cpu:.2f}% of one core")
    print(f"  peak RSS: {rss:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="etcd")
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between changes")
    parser.add_argument("--metrics", action="store_true", help="what -metrics-addr costs (metrics_cost.py)")
    parser.add_argument("--scrape", type=float, default=15.0, help="with --metrics: seconds between scrapes while idle (0: none)")
    args = parser.parse_args()
    if args.metrics:
        from metrics_cost import compare

        with tempfile.TemporaryDirectory(prefix="confpy-watch-bench-") as tmp:
            for backend in BACKENDS if args.backend == "all" else (args.backend,):
                compare(backend, args.changes, args.idle, Path(tmp) / backend, args.scrape)
        return
    for backend in BACKENDS if args.backend == "all" else (args.backend,):
        with tempfile.TemporaryDirectory(prefix="confpy-watch-bench-") as tmp:
            work = Path(tmp)
            with throwaway_store(backend, work) as store:
                for count in (1, 200):
                    run(count, store, args.changes, args.idle, work, args.pause)

if __name__ == "__main__":
    main()
