"""The redis backend against a real redis-server: confd's reads, node forms, failover,
passwords, and watch through keyspace notifications.

Data is written with the fixture's own redis-py client, never through the backend.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from cli_helpers import capture_logs
from conftest import REDIS_PASSWORD
from servers import dead_endpoint
from store_servers import RedisServer
from watch_helpers import WatchRun

from confpy.backends.base import BackendSettings, Change, Snapshot
from confpy.backends.redis import RedisBackend, RedisNode, parse_node
from confpy.backends.registry import create_backend
from confpy.errors import BackendError, BackendUnavailable, ConfigError

pytestmark = pytest.mark.timeout(30)

Factory = Callable[..., RedisBackend]


@pytest.fixture()
def make_backend(closing: Callable[[Any], Any]) -> Factory:
    def make(*nodes: str, **settings: Any) -> RedisBackend:
        backend: RedisBackend = closing(RedisBackend(BackendSettings(backend="redis", nodes=nodes, **settings)))
        return backend

    return make


@pytest.fixture()
def backend(redis: RedisServer, make_backend: Factory) -> RedisBackend:
    return make_backend(redis.endpoint)


# -- node forms ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("127.0.0.1:6379", RedisNode("127.0.0.1:6379", "127.0.0.1", 6379, 0)),
        ("redis.example:7000/3", RedisNode("redis.example:7000/3", "redis.example", 7000, 3)),
        ("[::1]:6379", RedisNode("[::1]:6379", "::1", 6379, 0)),
        ("/run/redis/redis.sock", RedisNode("/run/redis/redis.sock", path="/run/redis/redis.sock")),
    ],
)
def test_node_forms(text: str, node: RedisNode) -> None:
    assert parse_node(text) == node


@pytest.mark.parametrize("text", ["localhost", "127.0.0.1:", ":6379", "h:0", "h:65536", "h:6379/x", "h:port", ""])
def test_bad_node_strings(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^invalid redis node .*: want host:port, host:port/<db> or the path of a unix socket$"):
        parse_node(text)


def test_default_node_and_registry() -> None:
    backend = create_backend(BackendSettings(backend="redis", environ={}))
    try:
        assert isinstance(backend, RedisBackend) and backend.sources() == "127.0.0.1:6379"
    finally:
        backend.close()


# -- reads as confd's GetValues -----------------------------------------------------------


def test_strings_hashes_and_prefixes(redis: RedisServer, redis_prefix: str, backend: RedisBackend) -> None:
    p, r = redis_prefix, redis.client
    r.set(f"{p}/nginx-80/c1", "10.0.0.1:80")
    r.set(f"{p}/nginx-80/c2", "10.0.0.2:80")
    r.set(f"{p}/nginx-8080/c3", "not under /nginx-80")
    r.rpush(f"{p}/nginx-80/list", "a list is skipped, as confd skips it")
    r.hset(f"{p}/nginx-80/nested", mapping={"f": "a hash under a prefix is skipped too"})
    r.set(f"{p}/app", "a string key")
    r.set(f"{p}/app/under", "confd reads only the string itself")
    r.hset(f"{p}/db", mapping={"host": "db1", "port": "5432"})
    snapshot = backend.get_values([f"{p}/nginx-80", f"{p}/app", f"{p}/db", f"{p}/missing", f"{p}/gone/*"])
    assert snapshot == Snapshot(
        {
            f"{p}/app": "a string key",
            f"{p}/db/host": "db1",
            f"{p}/db/port": "5432",
            f"{p}/nginx-80/c1": "10.0.0.1:80",
            f"{p}/nginx-80/c2": "10.0.0.2:80",
        },
        None,
    )


def test_one_key_and_its_star_form(redis: RedisServer, redis_prefix: str, backend: RedisBackend) -> None:
    p = redis_prefix
    redis.client.set(f"{p}/svc/a", "1")
    assert backend.get_values([f"{p}/svc/*"]).values == {f"{p}/svc/a": "1"}
    assert backend.get_values([f"{p}/svc"]).values == {f"{p}/svc/a": "1"}
    assert backend.key_matches(f"{p}/svc/*", f"{p}/svc/a")
    assert not backend.key_matches(f"{p}/svc", f"{p}/svcx/a")


def test_keys_with_glob_characters_are_literal(redis: RedisServer, redis_prefix: str, backend: RedisBackend) -> None:
    p = redis_prefix
    redis.client.set(f"{p}/a*b/x", "1")
    redis.client.set(f"{p}/aXb/x", "must not match a*b")
    redis.client.set(f"{p}/q?[1]/x", "2")
    assert backend.get_values([f"{p}/a*b", f"{p}/q?[1]"]).values == {f"{p}/a*b/x": "1", f"{p}/q?[1]/x": "2"}


def test_separator_maps_keys_as_confd(redis: RedisServer, redis_prefix: str, make_backend: Factory) -> None:
    p = redis_prefix.lstrip("/")
    redis.client.set(f"{p}:nginx-80:c1", "10.0.0.1:80")
    redis.client.hset(f"{p}:db", mapping={"host": "db1"})
    redis.client.set(f"{p}:single", "v")
    backend = make_backend(redis.endpoint, separator=":")
    snapshot = backend.get_values([f"/{p}/nginx-80", f"/{p}/db", f"/{p}/single"])
    assert snapshot.values == {f"/{p}/nginx-80/c1": "10.0.0.1:80", f"/{p}/db/host": "db1", f"/{p}/single": "v"}


def test_root_key_reads_everything(redis: RedisServer, make_backend: Factory) -> None:
    with redis.db(9) as db9:
        db9.flushdb()
        db9.set("/a/b", "1")
        db9.set("plain", "2")  # confd maps it to /plain
        backend = make_backend(f"{redis.endpoint}/9")
        assert backend.get_values(["/"]).values == {"/a/b": "1", "/plain": "2"}


def test_many_prefixes_in_one_scan(redis: RedisServer, redis_prefix: str, backend: RedisBackend) -> None:
    p = redis_prefix
    expected = {}
    pipe = redis.client.pipeline()
    for i in range(300):
        pipe.set(f"{p}/svc{i}-80/c", f"10.0.{i // 250}.{i % 250}:80")
        expected[f"{p}/svc{i}-80/c"] = f"10.0.{i // 250}.{i % 250}:80"
    pipe.set(f"{p}/svc1-8080/c", "not asked for")
    pipe.execute()
    assert backend.get_values([f"{p}/svc{i}-80" for i in range(300)]).values == expected


def test_database_and_unix_socket_nodes(redis: RedisServer, redis_prefix: str, make_backend: Factory) -> None:
    p = redis_prefix
    with redis.db(3) as db3:
        db3.set(f"{p}/k", "in db 3")
    redis.client.set(f"{p}/k", "in db 0")
    assert make_backend(f"{redis.endpoint}/3").get_values([p]).values == {f"{p}/k": "in db 3"}
    assert make_backend(str(redis.unix_socket)).get_values([p]).values == {f"{p}/k": "in db 0"}


# -- nodes, failures, passwords ------------------------------------------------------------


def test_first_reachable_node_wins(redis: RedisServer, redis_prefix: str, make_backend: Factory) -> None:
    redis.client.set(f"{redis_prefix}/k", "v")
    dead = dead_endpoint()
    backend = make_backend(dead, redis.endpoint)
    assert backend.sources() == f"{dead}, {redis.endpoint}"
    assert backend.get_values([redis_prefix]).values == {f"{redis_prefix}/k": "v"}


def test_no_node_answers(make_backend: Factory, tmp_path: Any) -> None:
    one, two = dead_endpoint(), dead_endpoint()
    with pytest.raises(BackendUnavailable, match=rf"^cannot reach redis at {one}: connection refused$"):
        make_backend(one).get_values(["/x"])
    socket_path = tmp_path / "none.sock"
    with pytest.raises(
        BackendUnavailable,
        match=rf"^cannot reach redis at any node: {one}: connection refused; {two}: connection refused; "
        rf"{socket_path}: no such file or directory$",
    ):
        make_backend(one, two, str(socket_path)).get_values(["/x"])


@pytest.mark.parametrize("flag", ["client_key", "password"])
def test_password_from_client_key_or_password(redis_secured: RedisServer, make_backend: Factory, flag: str) -> None:
    redis_secured.client.set("/pw/k", "v")
    backend = make_backend(redis_secured.endpoint, **{flag: REDIS_PASSWORD})
    assert backend.get_values(["/pw"]).values == {"/pw/k": "v"}


@pytest.mark.parametrize("password", ["", "wrong-secret-value"])
def test_refused_password_is_one_clear_error_without_the_secret(
    redis_secured: RedisServer, make_backend: Factory, password: str
) -> None:
    backend = make_backend(redis_secured.endpoint, password=password)
    with pytest.raises(BackendError) as caught:
        backend.get_values(["/pw"])
    message = str(caught.value)
    assert message.startswith(f"redis at {redis_secured.endpoint} refused the password: ")
    assert "\n" not in message and not isinstance(caught.value, BackendUnavailable)
    assert "wrong-secret-value" not in message and REDIS_PASSWORD not in message


def test_server_restart_between_reads(redis: RedisServer, redis_prefix: str, backend: RedisBackend) -> None:
    redis.client.set(f"{redis_prefix}/k", "v")
    assert backend.get_values([redis_prefix]).values == {f"{redis_prefix}/k": "v"}
    redis.stop()
    try:
        with pytest.raises(BackendUnavailable, match="cannot reach redis at"):
            backend.get_values([redis_prefix])
    finally:
        redis.start()
    assert backend.get_values([redis_prefix]).values == {f"{redis_prefix}/k": "v"}


# -- watch ----------------------------------------------------------------------------------


def test_watch_turns_notifications_on_and_follows_changes(
    redis: RedisServer, redis_prefix: str, backend: RedisBackend
) -> None:
    p, r = redis_prefix, redis.client
    r.set(f"{p}/nginx-80/a", "1")
    assert redis.config_get("notify-keyspace-events") == ""
    with capture_logs(logging.INFO) as logs:
        run = WatchRun(backend, [f"{p}/nginx-80", f"{p}/db"])
        run.wait_mirror({f"{p}/nginx-80/a": "1"})
    assert set(redis.config_get("notify-keyspace-events")) >= set("K$ghxe")
    assert any("Turned on keyspace notifications on redis at" in m for m in logs.messages(logging.INFO))
    assert isinstance(run.events[0], Snapshot)

    r.set(f"{p}/nginx-80/b", "2")
    run.wait_mirror({f"{p}/nginx-80/a": "1", f"{p}/nginx-80/b": "2"})
    r.delete(f"{p}/nginx-80/a")
    run.wait_mirror({f"{p}/nginx-80/b": "2"})
    r.set(f"{p}/nginx-80/c", "3", px=50)  # expires: a deletion
    run.wait_for(lambda: f"{p}/nginx-80/c" in run.mirror, "the expiring key")
    run.wait_mirror({f"{p}/nginx-80/b": "2"})
    r.set(f"{p}/elsewhere/x", "not watched")
    r.set(f"{p}/nginx-8080/x", "not under the prefix")
    r.append(f"{p}/nginx-80/b", "0")
    run.wait_mirror({f"{p}/nginx-80/b": "20"})
    r.rename(f"{p}/nginx-80/b", f"{p}/nginx-80/d")
    run.wait_mirror({f"{p}/nginx-80/d": "20"})
    assert run.snapshots() == 1
    assert run.changes() == [
        Change(f"{p}/nginx-80/b", "2"),
        Change(f"{p}/nginx-80/a", None),
        Change(f"{p}/nginx-80/c", "3"),
        Change(f"{p}/nginx-80/c", None),
        Change(f"{p}/nginx-80/b", "20"),
        Change(f"{p}/nginx-80/b", None),
        Change(f"{p}/nginx-80/d", "20"),
    ]
    assert run.stop() < 0.5
    assert run.outcome == {"result": None}


def test_watch_hashes_and_string_roots(redis: RedisServer, redis_prefix: str, backend: RedisBackend) -> None:
    p, r = redis_prefix, redis.client
    r.hset(f"{p}/db", mapping={"host": "db1", "port": "5432"})
    r.set(f"{p}/flag", "on")
    run = WatchRun(backend, [f"{p}/db", f"{p}/flag"])
    run.wait_mirror({f"{p}/db/host": "db1", f"{p}/db/port": "5432", f"{p}/flag": "on"})
    r.hset(f"{p}/db", "host", "db2")
    run.wait_mirror({f"{p}/db/host": "db2", f"{p}/db/port": "5432", f"{p}/flag": "on"})
    r.hdel(f"{p}/db", "port")
    run.wait_mirror({f"{p}/db/host": "db2", f"{p}/flag": "on"})
    r.set(f"{p}/flag", "off")
    run.wait_mirror({f"{p}/db/host": "db2", f"{p}/flag": "off"})
    assert run.snapshots() == 1  # all of these were exact changes
    r.delete(f"{p}/db")  # a hash gone: read again
    run.wait_mirror({f"{p}/flag": "off"})
    r.delete(f"{p}/flag")
    r.set(f"{p}/flag/sub", "a value turned into a prefix")
    run.wait_mirror({f"{p}/flag/sub": "a value turned into a prefix"})
    run.stop()


def test_a_deleted_key_that_is_also_a_prefix_is_read_again(
    redis: RedisServer, redis_prefix: str, backend: RedisBackend
) -> None:
    p, r = redis_prefix, redis.client
    r.set(f"{p}/svc/a", "value")
    r.set(f"{p}/svc/a/b", "under it")
    run = WatchRun(backend, [f"{p}/svc"])
    run.wait_mirror({f"{p}/svc/a": "value", f"{p}/svc/a/b": "under it"})
    r.delete(f"{p}/svc/a")  # a Change(/svc/a, None) would take /svc/a/b with it
    run.wait_mirror({f"{p}/svc/a/b": "under it"})
    assert run.snapshots() == 2
    run.stop()


def test_watch_of_many_prefixes_uses_one_pubsub_connection(
    redis: RedisServer, redis_prefix: str, backend: RedisBackend
) -> None:
    p = redis_prefix
    keys = [f"{p}/svc{i}-80" for i in range(200)]
    run = WatchRun(backend, keys)
    run.wait_started()
    pubsub = [c for c in redis.clients("pubsub")]
    assert len(pubsub) == 1 and int(pubsub[0]["psub"]) == 400, pubsub
    redis.client.set(f"{p}/svc150-80/c", "x")
    redis.client.set(f"{p}/svc7-80/c", "y")
    run.wait_mirror({f"{p}/svc150-80/c": "x", f"{p}/svc7-80/c": "y"})
    run.stop()
    time.sleep(0.1)
    assert redis.clients("pubsub") == []


def test_config_set_refused_is_a_clear_error(redis_secured: RedisServer, make_backend: Factory) -> None:
    backend = make_backend(redis_secured.endpoint, password=REDIS_PASSWORD)
    run = WatchRun(backend, ["/x"])
    error = run.finished()["error"]
    assert isinstance(error, BackendError) and not isinstance(error, BackendUnavailable)
    assert str(error).startswith(
        f"redis at {redis_secured.endpoint} sends no keyspace notifications (notify-keyspace-events is '') "
        "and refused to turn them on ("
    )
    assert str(error).endswith("set notify-keyspace-events to 'K$ghxe' in redis.conf (or with CONFIG SET) for watch mode")
    assert REDIS_PASSWORD not in str(error)


def test_config_refused_entirely_warns_and_watches(redis_noconfig: RedisServer, make_backend: Factory) -> None:
    backend = make_backend(redis_noconfig.endpoint)
    with capture_logs(logging.INFO) as logs:
        run = WatchRun(backend, ["/nc"])
        run.wait_started()
    warnings = logs.messages(logging.WARNING)
    assert len(warnings) == 1 and warnings[0].startswith(f"Cannot read notify-keyspace-events on redis at {redis_noconfig.endpoint}")
    assert "K$ghxe" in warnings[0]
    run.stop()


def test_watch_with_notifications_already_on_changes_nothing(
    redis: RedisServer, redis_prefix: str, backend: RedisBackend
) -> None:
    redis.config_set("notify-keyspace-events", "KA")
    with capture_logs(logging.INFO) as logs:
        run = WatchRun(backend, [redis_prefix])
        run.wait_started()
    assert redis.config_get("notify-keyspace-events") == "AK"
    assert logs.messages(logging.INFO) == []
    run.stop()


def test_server_killed_during_watch_is_unavailable(redis: RedisServer, redis_prefix: str, backend: RedisBackend) -> None:
    run = WatchRun(backend, [redis_prefix])
    run.wait_started()
    redis.stop()
    try:
        outcome = run.finished(5)
        assert isinstance(outcome.get("error"), BackendUnavailable), outcome
        assert str(outcome["error"]).startswith(f"lost the watch on redis at {redis.endpoint}: ")
    finally:
        redis.start()
    # The caller's loop then reads again and watches anew; notifications are off again
    # (CONFIG SET does not survive a restart) and get turned on again.
    redis.client.set(f"{redis_prefix}/k", "after the restart")
    again = WatchRun(backend, [redis_prefix])
    again.wait_mirror({f"{redis_prefix}/k": "after the restart"})
    redis.client.set(f"{redis_prefix}/k", "followed")
    again.wait_mirror({f"{redis_prefix}/k": "followed"})
    again.stop()


def test_close_ends_a_blocked_watch(redis: RedisServer, redis_prefix: str, make_backend: Factory) -> None:
    backend = make_backend(redis.endpoint)
    run = WatchRun(backend, [redis_prefix])
    run.wait_started()
    started = time.monotonic()
    run.stop_signal.set()
    backend.close()
    run.thread.join(5)
    assert not run.thread.is_alive() and time.monotonic() - started < 3
    assert run.outcome == {"result": None}


def test_watch_with_no_node_reachable(make_backend: Factory) -> None:
    dead = dead_endpoint()
    run = WatchRun(make_backend(dead), ["/x"])
    error = run.finished()["error"]
    assert isinstance(error, BackendUnavailable) and str(error) == f"cannot reach redis at {dead}: connection refused"
