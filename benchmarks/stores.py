"""A throw-away store of each kind for the benchmarks: etcd, redis, zookeeper, consul.

etcd, redis and ZooKeeper are the real servers the tests run (Debian's packages);
consul is the tests' in-process implementation of Consul's KV API (no Consul can be
installed here), served from a thread of the benchmark itself.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from throwaway_etcd import throwaway_etcd  # noqa: E402

BACKENDS = ("etcd", "redis", "zookeeper", "consul")
logging.getLogger("kazoo").setLevel(logging.ERROR)  # the set-up client's reconnect chatter

# What a one-shot run of each backend imports and builds before it reads anything:
# the floor its own share is measured against.
FLOORS = {
    "etcd": "import httpx; httpx.Client(verify=False)",
    "consul": "import httpx; httpx.Client(verify=False)",
    "redis": "import redis; redis.Redis()",
    "zookeeper": "import kazoo.client; kazoo.client.KazooClient()",
}


class BenchStore:
    """``node`` for -node, ``port`` for counting connections, ``put``/``put_many`` to
    write Registrator-style keys, ``reads()`` the store's own count of requests served."""

    backend: str
    node: str
    port: int

    def put(self, key: str, value: str) -> None:
        raise NotImplementedError

    def put_many(self, items: dict[str, str]) -> None:
        for key, value in items.items():
            self.put(key, value)

    def reads(self) -> int:
        raise NotImplementedError


class _Etcd(BenchStore):
    backend = "etcd"

    def __init__(self, url: str) -> None:
        self.node, self.port = url, int(url.rsplit(":", 1)[1])
        self.client = httpx.Client(base_url=url)

    def put(self, key: str, value: str) -> None:
        self.client.put(f"/v2/keys{key}", data={"value": value})

    def reads(self) -> int:
        return int(self.client.get("/v2/stats/store").json()["getsSuccess"])


class _Redis(BenchStore):
    backend = "redis"

    def __init__(self, server: Any) -> None:
        self.server, self.node, self.port = server, server.endpoint, server.port

    def put(self, key: str, value: str) -> None:
        self.server.client.set(key, value)

    def put_many(self, items: dict[str, str]) -> None:
        self.server.client.mset(items)

    def reads(self) -> int:  # commands processed, the INFO asking for it left out
        return int(self.server.client.info("stats")["total_commands_processed"])


class _ZooKeeper(BenchStore):
    backend = "zookeeper"

    def __init__(self, server: Any) -> None:
        self.server, self.node, self.port = server, server.endpoint, server.port

    def put(self, key: str, value: str) -> None:
        self.server.put(key, value)

    def reads(self) -> int:  # requests received by the server, every session
        from store_servers import four_letter_word

        for line in four_letter_word(self.port, "srvr").splitlines():
            if line.startswith("Received:"):
                return int(line.split(":")[1])
        return 0


class _Consul(BenchStore):
    backend = "consul"

    def __init__(self, server: Any) -> None:
        self.server, self.node, self.port = server, server.endpoint, server.port

    def put(self, key: str, value: str) -> None:
        self.server.put(key.lstrip("/"), value)

    def reads(self) -> int:
        return sum(1 for r in self.server.requests if r.method == "GET")


@contextlib.contextmanager
def throwaway_store(backend: str, work: Path) -> Iterator[BenchStore]:
    """A running store of kind ``backend``, its data under ``work``."""
    if backend == "etcd":
        with throwaway_etcd(work) as url:
            store = _Etcd(url)
            try:
                yield store
            finally:
                store.client.close()
        return
    if backend == "consul":
        from consul_server import FakeConsul

        consul = FakeConsul().start()
        try:
            yield _Consul(consul)
        finally:
            consul.stop()
        return
    from store_servers import RedisServer, ZooKeeperServer, require_redis, require_zookeeper

    server: Any
    if backend == "redis":
        server = RedisServer(binary=require_redis(), base_dir=work / "redis", notify_keyspace_events="KA")
    elif backend == "zookeeper":
        server = ZooKeeperServer(java=require_zookeeper(), base_dir=work / "zookeeper")
    else:
        raise SystemExit(f"unknown backend {backend!r}: one of {', '.join(BACKENDS)}")
    server.start()
    try:
        yield _Redis(server) if backend == "redis" else _ZooKeeper(server)
    finally:
        server.stop()
