"""How long ``EtcdV2Backend.get_values`` takes for 1, 20 and 500 keys, by worker count.

Starts a throw-away etcd (``/usr/bin/etcd``, as the tests do), writes 500 small
directories, then times reads with 1 worker (sequential) and with thread pools.

    .venv/bin/python benchmarks/etcd_fetch.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import httpx
from servers import EtcdServer, require_etcd

from confpy.backends.base import BackendSettings
from confpy.backends.etcd import EtcdV2Backend

KEY_COUNTS = (1, 20, 500)
WORKERS = (1, 2, 4, 8)


def populate(server: EtcdServer, count: int) -> list[str]:
    keys = [f"/bench/svc{i:03d}" for i in range(count)]
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for key in keys:
            for leaf in ("host", "port"):
                client.put(f"/v2/keys{key}/{leaf}", data={"value": f"{leaf}-{key}"})
    return keys


def measure(server: EtcdServer, keys: list[str], rounds: int) -> dict[int, float]:
    """Median seconds of one get_values over ``keys``, by worker count.

    The worker counts take turns within each round, so a load change on the machine
    (other jobs share its 2 cores) hits them all alike.
    """
    settings = BackendSettings(nodes=(server.endpoint,))
    backends = {w: EtcdV2Backend(settings, max_workers=w) for w in WORKERS}
    samples: dict[int, list[float]] = {w: [] for w in WORKERS}
    try:
        for backend in backends.values():
            backend.get_values(keys)  # warm-up: connections, thread pool
        for _ in range(rounds):
            for workers, backend in backends.items():
                start = time.perf_counter()
                snapshot = backend.get_values(keys)
                samples[workers].append(time.perf_counter() - start)
                assert len(snapshot.values) == 2 * len(keys)
        return {w: statistics.median(times) for w, times in samples.items()}
    finally:
        for backend in backends.values():
            backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = EtcdServer(binary=require_etcd(), base_dir=Path(tmp))
        server.start()
        try:
            keys = populate(server, max(KEY_COUNTS))
            print(f"{'keys':>5} " + " ".join(f"{f'{w} worker(s)':>12}" for w in WORKERS))
            for count in KEY_COUNTS:
                rounds = args.rounds if count < 500 else max(5, args.rounds // 4)
                times = measure(server, keys[:count], rounds)
                print(f"{count:>5} " + " ".join(f"{times[w] * 1000:>10.1f}ms" for w in WORKERS))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
