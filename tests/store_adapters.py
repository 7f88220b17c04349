"""One face for the redis, zookeeper and consul test servers, so the command-line tests
run the same scenarios against each store: write a key, delete one, kill and revive the
server, the node arguments to give confpy, the port to count connections to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

__all__ = ["STORES", "Store", "store_for"]

STORES = ("redis", "zookeeper", "consul")


@dataclass
class Store:
    backend: str
    server: Any
    prefix: str  # a fresh confd key prefix, "/t-<hex>"

    @property
    def port(self) -> int:
        return int(self.server.port)

    @property
    def endpoint(self) -> str:
        return str(self.server.endpoint)

    @property
    def source(self) -> str:
        """What confpy logs as the backend's source."""
        return f"http://{self.endpoint}" if self.backend == "consul" else self.endpoint

    def args(self, *extra: str) -> list[str]:
        """``-backend <name> -node <endpoint>`` and ``extra``."""
        return ["-backend", self.backend, "-node", self.endpoint, *extra]

    def put(self, key: str, value: str) -> None:
        """Set the confd key ``key`` (leading ``/``) as the store holds it."""
        if self.backend == "redis":
            self.server.client.set(key, value)
        elif self.backend == "zookeeper":
            self.server.put(key, value)
        else:
            self.server.put(key.lstrip("/"), value)

    def delete(self, key: str) -> None:
        if self.backend == "redis":
            self.server.client.delete(key)
        elif self.backend == "zookeeper":
            self.server.delete(key)
        else:
            self.server.delete(key.lstrip("/"))

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()


def store_for(request: pytest.FixtureRequest, backend: str) -> Store:
    """The session's server of ``backend`` with a fresh prefix (the fixtures by name)."""
    server_fixture, prefix_fixture = {
        "redis": ("redis", "redis_prefix"),
        "zookeeper": ("zookeeper", "zk_prefix"),
        "consul": ("consul", "consul_prefix"),
    }[backend]
    server = request.getfixturevalue(server_fixture)
    prefix = request.getfixturevalue(prefix_fixture)
    return Store(backend, server, prefix if prefix.startswith("/") else "/" + prefix)
