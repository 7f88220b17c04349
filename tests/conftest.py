"""Shared fixtures: a real etcd (started once per session), key prefixes, fault servers.

``etcd``            session-scoped running etcd 3.4 member with the v2 API on; tests share
                    it and keep apart with ``etcd_prefix``.
``etcd_prefix``     a fresh key prefix per test, ``/t-<8 hex>``.
``etcd_v2_off``     a second etcd without ``--enable-v2`` (started on first use).
``etcd_tls``        an etcd serving https and requiring a client certificate (``.tls``
                    holds the CA and certificate files; started on first use).
``fault_server``    factory: ``fault_server(mode, **options)`` -> a running FaultServer.
``post_fault_server`` the same, answering POSTs too (the v3 gateway): a PostFaultServer.
``redis``           session-scoped redis-server (TCP port and unix socket, keyspace
                    notifications off as redis ships); ``redis_prefix`` a fresh key prefix
                    per test, with the notifications reset to off.
``redis_secured``   a redis-server requiring a password whose CONFIG SET is refused (ACL).
``redis_noconfig``  a redis-server refusing every CONFIG command (ACL), notifications off.
``zookeeper``       session-scoped ZooKeeper 3.8 (starting one takes seconds);
                    ``zk_prefix`` a fresh znode prefix per test.
``consul``          session-scoped in-process implementation of Consul's KV HTTP API
                    (no Consul can be installed here; see consul_server.py);
                    ``consul_prefix`` a fresh key prefix per test (no leading slash,
                    as Consul keys are written).
``daemons``         the confpy daemons a test starts (``daemon_helpers.start`` appends
                    to it), killed after the test.
``fake_consul``     factory: ``fake_consul(tls=..., acl_tokens=...)`` -> a started
                    FakeConsul, stopped after the test.

Every confpy the tests run (in-process or as a child) keeps its state file (failed
reloads owed to the next run) in the session's temporary directory, never in
/var/lib/confpy: ``CONFPY_STATE_FILE`` is set for the whole session.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from consul_server import FakeConsul
from daemon_helpers import ConfpyDaemon
from servers import EtcdServer, FaultServer, PostFaultServer, make_tls_files, require_etcd
from store_servers import RedisServer, ZooKeeperServer, require_redis, require_zookeeper


@pytest.fixture(scope="session", autouse=True)
def _state_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("state") / "state.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CONFPY_STATE_FILE", str(path))
        yield path


@pytest.fixture()
def daemons() -> Iterator[list[ConfpyDaemon]]:
    """The confpy daemons a test starts (``daemon_helpers.start``), killed after it."""
    started: list[ConfpyDaemon] = []
    yield started
    for daemon in started:
        daemon.kill()


def _start_with_retries(make: Callable[[], Any]) -> Any:
    for attempt in range(3):
        server = make()
        try:
            server.start()
            return server
        except RuntimeError:
            # Most likely a port taken between picking it and the server binding it.
            server.stop()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _start_etcd(tmp_path_factory: pytest.TempPathFactory, name: str, **options: Any) -> EtcdServer:
    binary = require_etcd()
    server: EtcdServer = _start_with_retries(
        lambda: EtcdServer(binary=binary, base_dir=tmp_path_factory.mktemp(name), **options)
    )
    return server


@pytest.fixture(scope="session")
def etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdServer]:
    """A running etcd member with the v2 API: ``.url``, ``.endpoint``, ``put``, ``delete``,
    ``mkdir``, ``get_index``, and ``stop()``/``start()`` to kill and revive it with its data.

    A test that stops it must start it again (in a ``finally``) for the tests after it.
    """
    server = _start_etcd(tmp_path_factory, "etcd")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def etcd_prefix(etcd: EtcdServer) -> str:
    """A key prefix no other test uses; tests share one etcd this way."""
    if not etcd.running:  # an earlier test stopped it and failed before restarting
        etcd.start()
    return f"/t-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def etcd_v2_off(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdServer]:
    """An etcd 3.4 member started without ``--enable-v2``: ``/v2/keys`` answers 404."""
    server = _start_etcd(tmp_path_factory, "etcd-v2off", enable_v2=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def etcd_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdServer]:
    """An etcd with the v2 API over https, requiring client certificates."""
    require_etcd()
    tls = make_tls_files(tmp_path_factory.mktemp("tls"))
    server = _start_etcd(tmp_path_factory, "etcd-tls", tls=tls)
    try:
        yield server
    finally:
        server.stop()


REDIS_PASSWORD = "s3cret-redis-Pw"  # tests grep the output for it: it must never show


def _redis(tmp_path_factory: pytest.TempPathFactory, name: str, **options: Any) -> Iterator[RedisServer]:
    binary = require_redis()
    server: RedisServer = _start_with_retries(
        lambda: RedisServer(binary=binary, base_dir=tmp_path_factory.mktemp(name), **options)
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A running redis-server: ``.endpoint``, ``.unix_socket``, ``.client`` (redis-py),
    ``stop()``/``start()`` to kill and revive it with its data. A test that stops it
    starts it again in a ``finally``."""
    yield from _redis(tmp_path_factory, "redis")


@pytest.fixture()
def redis_prefix(redis: RedisServer) -> str:
    """A key prefix no other test uses; keyspace notifications are off again."""
    if not redis.running:  # an earlier test stopped it and failed before restarting
        redis.start()
    redis.config_set("notify-keyspace-events", redis.notify_keyspace_events)
    return f"/t-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def redis_secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """AUTH required (``REDIS_PASSWORD``); CONFIG GET allowed, CONFIG SET refused."""
    yield from _redis(tmp_path_factory, "redis-secured", password=REDIS_PASSWORD, acl=("-config|set",))


@pytest.fixture(scope="session")
def redis_noconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """Every CONFIG command refused, as managed services do."""
    yield from _redis(tmp_path_factory, "redis-noconfig", acl=("-config",))


@pytest.fixture(scope="session")
def zookeeper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZooKeeperServer]:
    """A running ZooKeeper: ``.endpoint``, ``put``/``delete``, ``.client`` (kazoo),
    ``watches()`` (server-side count), ``stop()``/``start()``."""
    java = require_zookeeper()
    server: ZooKeeperServer = _start_with_retries(
        lambda: ZooKeeperServer(java=java, base_dir=tmp_path_factory.mktemp("zookeeper"))
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def zk_prefix(zookeeper: ZooKeeperServer) -> Iterator[str]:
    """A znode prefix no other test uses. The fixture's own kazoo client is closed after
    the test: kazoo's connection thread draws from the global ``random`` all the time,
    which hypothesis, in the tests after, takes for a strategy misusing it."""
    if not zookeeper.running:
        zookeeper.start()
    try:
        yield f"/t-{uuid.uuid4().hex[:8]}"
    finally:
        zookeeper.close_client()


@pytest.fixture(scope="session")
def consul() -> Iterator[FakeConsul]:
    server = FakeConsul().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def consul_prefix(consul: FakeConsul) -> str:
    consul.start()  # an earlier test stopped it and failed before restarting
    consul.index_override = None
    return f"t-{uuid.uuid4().hex[:8]}"


@pytest.fixture()
def fake_consul() -> Iterator[Callable[..., FakeConsul]]:
    made: list[FakeConsul] = []

    def make(**options: Any) -> FakeConsul:
        server = FakeConsul(**options).start()
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()


_Fault = TypeVar("_Fault", bound=FaultServer)


def _fault_servers(kind: type[_Fault]) -> Iterator[Callable[..., _Fault]]:
    made: list[_Fault] = []

    def make(mode: str = "record", **options: Any) -> _Fault:
        server = kind(mode=mode, **options)
        server.start()
        made.append(server)
        return server

    try:
        yield make
    finally:
        for server in made:
            server.stop()


@pytest.fixture()
def fault_server() -> Iterator[Callable[..., FaultServer]]:
    """``fault_server("slow", delay=10)`` etc.; every server made is stopped afterwards."""
    yield from _fault_servers(FaultServer)


@pytest.fixture()
def post_fault_server() -> Iterator[Callable[..., PostFaultServer]]:
    """``post_fault_server("slow", delay=10)``: the fault server, answering POSTs."""
    yield from _fault_servers(PostFaultServer)
