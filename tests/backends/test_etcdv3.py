"""The etcdv3 backend against a real etcd 3.4 (its v3 JSON gateway), plus fault servers.

Test data is written through the gateway with the fixture's own httpx client, never
with the code under test. What the v2 backend does alike (failover, timeouts, clear
errors, restart, TLS) is tested for both in test_http_backends.py.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import make_confdir, run_confpy
from servers import (
    EtcdServer,
    PostFaultServer,
    b64,
    dead_endpoint,
    put_v3,
    require_etcd,
    revision,
    v3,
)
from thread_helpers import in_thread

from confpy.backends import etcdv3
from confpy.backends.base import BackendSettings, StopSignal
from confpy.backends.etcdv3 import COALESCE_KEYS, TXN_OPS, EtcdCompacted, EtcdV3Backend
from confpy.backends.registry import create_backend
from confpy.errors import BackendError, BackendUnavailable

BackendFactory = Callable[..., EtcdV3Backend]

# -- the v3 gateway, for setting up data (put_v3 and v3 itself are in servers.py) ---------


def delete_v3(server: EtcdServer, key: str) -> int:
    return int(v3(server, "kv/deleterange", {"key": b64(key)})["header"]["revision"])


def put_all_v3(server: EtcdServer, values: dict[str, str]) -> int:
    """Set several keys, 100 a transaction (so up to 100 at one revision); the last one's."""
    ops = [{"request_put": {"key": b64(k), "value": b64(v)}} for k, v in values.items()]
    revision = 0
    for start in range(0, len(ops), 100):
        answer = v3(server, "kv/txn", {"success": ops[start : start + 100]})
        revision = int(answer["header"]["revision"])
    return revision


def grpc_calls(server: EtcdServer, method: str) -> float:
    """How many KV ``method`` calls etcd has served (its Prometheus counter)."""
    text = server.http.get("/metrics").text
    pattern = rf'grpc_server_handled_total\{{grpc_code="OK",grpc_method="{method}",grpc_service="etcdserverpb.KV"[^}}]*\}} (\S+)'
    return sum(float(found) for found in re.findall(pattern, text))


# -- fixtures -------------------------------------------------------------------------


@pytest.fixture()
def make_backend(closing: Callable[[Any], Any]) -> BackendFactory:
    """``make_backend(node, ..., timeout=1, basic_auth=True, ...)``; all closed afterwards."""

    def make(*nodes: str, **settings: Any) -> EtcdV3Backend:
        backend: EtcdV3Backend = closing(
            EtcdV3Backend(BackendSettings(backend="etcdv3", nodes=nodes, **settings))
        )
        return backend

    return make


@pytest.fixture()
def backend(etcd: EtcdServer, make_backend: BackendFactory) -> EtcdV3Backend:
    return make_backend(etcd.endpoint)


@pytest.fixture(scope="module")
def etcd_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdServer]:
    """A throw-away etcd with auth on: root/rootpw, and confd/pa:ss reading /auth only."""
    for attempt in range(3):  # a port taken between picking it and etcd binding it
        server = EtcdServer(binary=require_etcd(), base_dir=tmp_path_factory.mktemp("etcd-auth"))
        try:
            server.start()
            break
        except RuntimeError:
            server.stop()
            if attempt == 2:
                raise
    try:
        for path, body in [
            ("auth/user/add", {"name": "root", "password": "rootpw"}),
            ("auth/role/add", {"name": "root"}),
            ("auth/user/grant", {"user": "root", "role": "root"}),
            ("auth/user/add", {"name": "confd", "password": "pa:ss"}),
            ("auth/role/add", {"name": "reader"}),
            (
                "auth/role/grant",
                {
                    "name": "reader",
                    "perm": {"key": b64("/auth"), "range_end": b64("/auti"), "permType": "READ"},
                },
            ),
            ("auth/user/grant", {"user": "confd", "role": "reader"}),
            ("auth/enable", {}),
        ]:
            v3(server, path, body)
        yield server
    finally:
        server.stop()




# -- reading ----------------------------------------------------------------------------


@pytest.mark.timeout(20)
def test_flat_and_nested_keys(etcd: EtcdServer, etcd_prefix: str, backend: EtcdV3Backend) -> None:
    p = etcd_prefix
    put_v3(etcd, f"{p}/a", "1")
    put_v3(etcd, f"{p}/dir/b", "2")
    put_v3(etcd, f"{p}/dir/sub/c", "3")
    put_v3(etcd, f"{p}/dir/empty-value", "")
    put_v3(etcd, f"{p}/dir", "a key that is also a directory")  # v3 has no directories
    assert backend.get_values([p]).values == {
        f"{p}/a": "1",
        f"{p}/dir": "a key that is also a directory",
        f"{p}/dir/b": "2",
        f"{p}/dir/empty-value": "",
        f"{p}/dir/sub/c": "3",
    }
    assert backend.get_values([f"{p}/a"]).values == {f"{p}/a": "1"}
    assert backend.get_values([f"{p}/dir/sub/"]).values == {f"{p}/dir/sub/c": "3"}
    values = backend.get_values([f"{p}/dir/sub", f"{p}/a", f"{p}/a"]).values
    assert list(values) == [f"{p}/a", f"{p}/dir/sub/c"]  # sorted, duplicates harmless


@pytest.mark.timeout(20)
def test_path_boundary(etcd: EtcdServer, etcd_prefix: str, backend: EtcdV3Backend) -> None:
    p = etcd_prefix
    for name in ("app", "app/x", "app/y/z", "apple", "app-1", "app.d/x", "app1", "ap"):
        put_v3(etcd, f"{p}/{name}", name)
    expected = {f"{p}/app": "app", f"{p}/app/x": "app/x", f"{p}/app/y/z": "app/y/z"}
    assert backend.get_values([f"{p}/app"]).values == expected
    assert backend.key_matches("/app", "/app/x") and not backend.key_matches("/app", "/apple")
    assert backend.prefix_ordered


@pytest.mark.timeout(20)
def test_index_is_the_revision_read(
    etcd: EtcdServer, etcd_prefix: str, backend: EtcdV3Backend
) -> None:
    p = etcd_prefix
    put_v3(etcd, f"{p}/a", "1")
    last = put_v3(etcd, f"{p}/b", "2")
    snapshot = backend.get_values([f"{p}/a", f"{p}/b", f"{p}/c"])
    assert snapshot.index == last == revision(etcd)
    later = put_v3(etcd, f"{p}/c", "3")
    assert backend.get_values([f"{p}/a", f"{p}/c"]).index == later


@pytest.mark.timeout(30)
def test_reads_are_pinned_to_one_revision(
    etcd: EtcdServer, etcd_prefix: str, backend: EtcdV3Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request after the first reads the first one's revision, so a snapshot taken
    while a writer changes all keys at once never mixes two writes."""
    keys = [f"{etcd_prefix}/k{i}" for i in range(6)]
    put_all_v3(etcd, {key: "0" for key in keys})
    monkeypatch.setattr(etcdv3, "PAGE_SIZE", 1)  # one request per key...
    backend._txn_ops = 2  # ...and per two keys
    stop = StopSignal()

    def write() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            put_all_v3(etcd, {key: str(n) for key in keys})

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        for _ in range(20):
            snapshot = backend.get_values(keys)
            assert len(set(snapshot.values.values())) == 1, snapshot
            assert sorted(snapshot.values) == keys
            at = v3(
                etcd,
                "kv/range",
                {"key": b64(keys[0]), "revision": snapshot.index},
            )
            assert b64(snapshot.values[keys[0]]) == at["kvs"][0]["value"]
    finally:
        stop.set()
        writer.join(10)


@pytest.mark.timeout(30)
def test_keys_are_read_in_one_transaction(
    etcd: EtcdServer, etcd_prefix: str, backend: EtcdV3Backend
) -> None:
    keys = [f"{etcd_prefix}/svc{i}" for i in range(TXN_OPS)]
    put_all_v3(etcd, {f"{key}/host": key for key in keys})
    before = grpc_calls(etcd, "Txn"), grpc_calls(etcd, "Range")
    snapshot = backend.get_values(keys)
    assert (grpc_calls(etcd, "Txn") - before[0], grpc_calls(etcd, "Range") - before[1]) == (1, 0)
    assert snapshot.values == {f"{key}/host": key for key in keys}


@pytest.mark.timeout(30)
def test_many_keys_are_one_read_of_their_common_ancestor(
    etcd: EtcdServer, etcd_prefix: str, backend: EtcdV3Backend
) -> None:
    p = etcd_prefix
    wanted = [f"{p}/svc{i}-80" for i in range(COALESCE_KEYS + 4)]
    values = {f"{key}/c1": f"{key}-addr" for key in wanted}
    values[f"{p}/svc0-80-other/x"] = "sibling with a shared string prefix"
    values[f"{p}/unrelated/y"] = "not asked for"
    put_all_v3(etcd, values)
    keys = [*wanted, f"{p}/missing"]
    before = grpc_calls(etcd, "Txn"), grpc_calls(etcd, "Range")
    snapshot = backend.get_values(keys)
    assert (grpc_calls(etcd, "Txn") - before[0], grpc_calls(etcd, "Range") - before[1]) == (0, 1)
    expected = {f"{key}/c1": f"{key}-addr" for key in wanted}
    assert snapshot.values == expected
    assert snapshot.index == revision(etcd)
    # The same as reading the keys in transactions.
    per_key: dict[str, str] = {}
    for start in range(0, len(keys), 10):
        per_key.update(backend.get_values(keys[start : start + 10]).values)
    assert per_key == expected


@pytest.mark.timeout(30)
def test_long_ranges_are_read_page_by_page(
    etcd: EtcdServer, etcd_prefix: str, backend: EtcdV3Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = etcd_prefix
    values = {f"{p}/big/k{i:02d}": str(i) for i in range(23)}
    values.update({f"{p}/big-sibling": "x", f"{p}/other/a": "o"})
    put_all_v3(etcd, values)
    monkeypatch.setattr(etcdv3, "PAGE_SIZE", 5)
    before = grpc_calls(etcd, "Range")
    snapshot = backend.get_values([f"{p}/big", f"{p}/other"])
    assert grpc_calls(etcd, "Range") - before == 4  # the pages after the transaction's first
    assert snapshot.values == {k: v for k, v in values.items() if k != f"{p}/big-sibling"}
    # The common-ancestor read pages too.
    monkeypatch.setattr(etcdv3, "COALESCE_KEYS", 1)
    assert backend.get_values([f"{p}/big", f"{p}/other"]).values == snapshot.values


@pytest.mark.timeout(20)
def test_odd_keys_and_values(etcd: EtcdServer, etcd_prefix: str, backend: EtcdV3Backend) -> None:
    p = etcd_prefix
    put_v3(etcd, f"{p}/with space/q?x=1&y#z", "ok")
    put_v3(etcd, f"{p}/ünïcode", "välue ✓")
    put_v3(etcd, f"{p}/binary".encode(), b"\xff\xfe raw")
    put_v3(etcd, f"{p}/bad-key-".encode() + b"\xff", "skipped: not UTF-8")
    put_v3(etcd, f"{p}//double", "kept")
    assert backend.get_values([p]).values == {
        f"{p}//double": "kept",
        f"{p}/binary": b"\xff\xfe raw".decode("utf-8", "surrogateescape"),
        f"{p}/with space/q?x=1&y#z": "ok",
        f"{p}/ünïcode": "välue ✓",
    }


def test_registry_and_defaults() -> None:
    backend = create_backend(BackendSettings(backend="etcdv3", environ={}))
    try:
        assert isinstance(backend, EtcdV3Backend) and backend.name == "etcdv3"
        assert backend.sources() == "http://127.0.0.1:2379"  # confd's default node
    finally:
        backend.close()


# -- failures ---------------------------------------------------------------------------


@pytest.mark.timeout(15)
def test_odd_answers_and_404_are_clear_errors(
    make_backend: BackendFactory, post_fault_server: Callable[..., PostFaultServer]
) -> None:
    """Beyond the cut connection and the garbage of test_http_backends.py: answers that
    are JSON but not etcd's, and a server without the gateway."""
    # JSON, but not the shape of an etcd answer.
    odd = post_fault_server("record", body={"header": {"revision": "1"}, "responses": [{}, 7]})
    with pytest.raises(BackendError, match=r"answered 2 reads for 1 keys"):
        make_backend(odd.endpoint).get_values(["/x"])
    odd.body = {"header": {"revision": "1"}, "responses": [{"response_range": {"kvs": "x"}}]}
    with pytest.raises(BackendError, match="answered something unexpected"):
        make_backend(odd.endpoint).get_values(["/x"])
    odd.body = {"header": {"revision": "one"}}
    with pytest.raises(BackendError, match="answered without a revision"):
        make_backend(odd.endpoint).get_values(["/x"])

    no_gateway = post_fault_server("status", status=404, body={"not": "etcd"})
    with pytest.raises(BackendError, match="does not serve the v3 API") as caught:
        make_backend(no_gateway.endpoint).get_values(["/x"])
    assert no_gateway.url in str(caught.value) and "etcd 3.3 or later" in str(caught.value)
    assert [r.path for r in no_gateway.requests] == ["/v3/kv/txn", "/v3beta/kv/txn"]


# -- etcd user authentication (-basic-auth) ---------------------------------------------


@pytest.mark.timeout(30)
def test_user_authentication(etcd_auth: EtcdServer, make_backend: BackendFactory) -> None:
    server, root = etcd_auth, _root_token(etcd_auth)
    put_v3(server, "/auth/k", "v", root)
    put_v3(server, "/secret/k", "hidden", root)
    backend = make_backend(server.endpoint, basic_auth=True, username="confd", password="pa:ss")
    assert backend.get_values(["/auth"]).values == {"/auth/k": "v"}
    # Beyond the user's permission: etcd's refusal, naming the node.
    with pytest.raises(BackendError, match="permission denied") as caught:
        backend.get_values(["/secret"])
    assert server.url in str(caught.value)

    # Tokens die when auth is switched off and on (and after 5 idle minutes): renewed.
    v3(server, "auth/disable", {}, root)
    v3(server, "auth/enable", {})
    put_v3(server, "/auth/k", "v2", _root_token(server))  # the old root token is gone too
    assert backend.get_values(["/auth"]).values == {"/auth/k": "v2"}

    # Credentials given while auth is off are not used, until auth is turned on.
    v3(server, "auth/disable", {}, _root_token(server))
    later = make_backend(server.endpoint, basic_auth=True, username="confd", password="pa:ss")
    assert later.get_values(["/auth"]).values == {"/auth/k": "v2"}
    v3(server, "auth/enable", {})
    assert later.get_values(["/auth"]).values == {"/auth/k": "v2"}

    wrong = make_backend(server.endpoint, basic_auth=True, username="confd", password="nope-pw")
    with pytest.raises(BackendError, match=r"user 'confd'.*authentication failed") as caught:
        wrong.get_values(["/auth"])
    assert "nope-pw" not in str(caught.value)

    anonymous = make_backend(server.endpoint, username="confd", password="pa:ss")  # no -basic-auth
    with pytest.raises(BackendError, match=r"user name is empty.*-basic-auth"):
        anonymous.get_values(["/auth"])


def _root_token(server: EtcdServer) -> str:
    return str(v3(server, "auth/authenticate", {"name": "root", "password": "rootpw"})["token"])


@pytest.mark.timeout(20)
def test_credentials_with_auth_off_are_ignored(
    etcd: EtcdServer, etcd_prefix: str, make_backend: BackendFactory
) -> None:
    put_v3(etcd, f"{etcd_prefix}/k", "v")  # as clientv3: "authentication is not enabled" is fine
    backend = make_backend(etcd.endpoint, basic_auth=True, username="u", password="p")
    assert backend.get_values([f"{etcd_prefix}/k"]).values == {f"{etcd_prefix}/k": "v"}


@pytest.mark.timeout(30)
def test_watch_with_authentication(etcd_auth: EtcdServer, make_backend: BackendFactory) -> None:
    server = etcd_auth
    backend = make_backend(server.endpoint, basic_auth=True, username="confd", password="pa:ss")
    start = backend.get_values(["/auth"]).index
    assert start is not None
    events: list[object] = []
    stop = StopSignal()
    thread, outcome = in_thread(
        lambda: backend.watch(["/auth"], start, events.append, stop)
    )
    written = put_v3(server, "/auth/w", "1", _root_token(server))
    deadline = time.monotonic() + 5
    while not events and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(5)
    assert outcome == {"result": None} and events == [("/auth/w", "1", written)]
    with pytest.raises(BackendError, match="permission denied"):
        backend.watch(["/secret"], None, ignore, StopSignal())


# -- watch ------------------------------------------------------------------------------


def ignore(item: object) -> None:
    """An emit that drops what it is given."""


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.mark.timeout(20)
def test_watch_reports_changes_in_order(
    etcd: EtcdServer, etcd_prefix: str, backend: EtcdV3Backend
) -> None:
    p = etcd_prefix
    first = put_v3(etcd, f"{p}/a", "1")  # before the watch starts, from its start revision
    events: list[object] = []
    stop = StopSignal()
    thread, outcome = in_thread(
        lambda: backend.watch([p], first - 1, events.append, stop)
    )
    expected = [(f"{p}/a", "1", first)]
    expected.append((f"{p}/sub/b", "2", put_v3(etcd, f"{p}/sub/b", "2")))
    put_v3(etcd, "/t-elsewhere/x", "not watched")
    expected.append((f"{p}/a", None, delete_v3(etcd, f"{p}/a")))
    expected.append((f"{p}/a", "3", put_v3(etcd, f"{p}/a", "3")))
    _wait_for(lambda: len(events) >= len(expected))
    stop.set()
    thread.join(2)
    assert not thread.is_alive() and outcome == {"result": None}
    assert events == expected


@pytest.mark.timeout(20)
def test_watch_from_a_compacted_revision(
    etcd: EtcdServer, etcd_prefix: str, backend: EtcdV3Backend
) -> None:
    old = put_v3(etcd, f"{etcd_prefix}/k", "0")
    latest = put_v3(etcd, f"{etcd_prefix}/k", "1")
    v3(etcd, "kv/compaction", {"revision": latest})
    with pytest.raises(EtcdCompacted, match="compacted") as caught:
        backend.watch([etcd_prefix], old - 1, ignore, StopSignal())
    assert caught.value.revision == latest
    assert isinstance(caught.value, BackendError)
    assert etcd.url in str(caught.value)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("how", ["stop", "close"])
def test_a_blocked_watch_ends_at_once(
    etcd: EtcdServer, etcd_prefix: str, backend: EtcdV3Backend, how: str
) -> None:
    stop = StopSignal()
    thread, outcome = in_thread(lambda: backend.watch([etcd_prefix], None, ignore, stop))
    time.sleep(0.5)
    assert thread.is_alive()
    started = time.monotonic()
    if how == "stop":
        stop.set()
    else:
        backend.close()
    thread.join(5)
    assert not thread.is_alive()
    assert time.monotonic() - started < 3
    assert outcome == {"result": None}
    if how == "close":  # a closed backend: watches end at once, reads fail clearly
        assert backend.watch([etcd_prefix], None, ignore, StopSignal()) is None
        with pytest.raises(BackendError, match="closed"):
            backend.get_values([etcd_prefix])


@pytest.mark.timeout(20)
def test_watch_fails_over_and_reports_dead_nodes(
    etcd: EtcdServer,
    etcd_prefix: str,
    make_backend: BackendFactory,
    post_fault_server: Callable[..., PostFaultServer],
) -> None:
    slow = post_fault_server("slow", delay=30)
    dead = dead_endpoint()
    events: list[object] = []
    stop = StopSignal()
    backend = make_backend(dead, slow.endpoint, etcd.endpoint, timeout=0.5)
    # From the next revision: the write below is seen however long the failover takes.
    now = int(v3(etcd, "kv/range", {"key": b64("/")})["header"]["revision"])
    thread, outcome = in_thread(
        lambda: backend.watch([etcd_prefix], now, events.append, stop)
    )
    written = put_v3(etcd, f"{etcd_prefix}/k", "v")
    _wait_for(lambda: bool(events))
    stop.set()
    thread.join(2)
    assert outcome == {"result": None} and events == [(f"{etcd_prefix}/k", "v", written)]

    alone = make_backend(dead, slow.endpoint, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as caught:
        alone.watch([etcd_prefix], None, ignore, StopSignal())
    assert time.monotonic() - started < 2
    assert f"http://{dead}: connection refused" in str(caught.value)
    assert f"{slow.url}: no answer within 0.5s" in str(caught.value)

    garbage = make_backend(post_fault_server("garbage").endpoint)
    with pytest.raises(BackendError, match="not JSON"):
        garbage.watch([etcd_prefix], None, ignore, StopSignal())


@pytest.mark.timeout(40)
def test_watch_breaks_when_etcd_dies(
    etcd: EtcdServer, etcd_prefix: str, backend: EtcdV3Backend
) -> None:
    thread, outcome = in_thread(
        lambda: backend.watch([etcd_prefix], None, ignore, StopSignal())
    )
    time.sleep(0.5)
    etcd.stop()
    try:
        thread.join(5)
        assert not thread.is_alive()
    finally:
        etcd.start()
    error = outcome["error"]
    assert isinstance(error, BackendUnavailable) and etcd.url in str(error)


# -- end to end ---------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_onetime_renders_from_v3_keys(tmp_path: Path, etcd: EtcdServer, etcd_prefix: str) -> None:
    put_v3(etcd, f"{etcd_prefix}/app/name", "from-v3")
    put_v3(etcd, f"{etcd_prefix}/app/port", "8080")
    put_v3(etcd, f"{etcd_prefix}/apple/name", "not under /app")
    dest = tmp_path / "out" / "app.conf"
    dest.parent.mkdir()
    resource = {"src": "app.tmpl", "dest": str(dest), "prefix": etcd_prefix, "keys": ["/app"]}
    confdir = make_confdir(
        tmp_path / "confd",
        {
            "app.toml": "[template]\n"
            + "".join(f"{k} = {json.dumps(v)}\n" for k, v in resource.items())
        },
        {"app.tmpl": '{{getv "/app/name"}}:{{getv "/app/port"}} {{len (gets "/*/name")}}\n'},
    )
    run = run_confpy(
        "-onetime", "-backend", "etcdv3", "-node", etcd.endpoint, "-confdir", str(confdir)
    )
    assert run.code == 0, run.stderr
    assert dest.read_text() == "from-v3:8080 1\n"
    assert f"Backend source(s) set to {etcd.url}" in run.messages("INFO")


@pytest.mark.timeout(30)
def test_onetime_with_no_etcd_fails_in_one_line(tmp_path: Path) -> None:
    confdir = make_confdir(
        tmp_path / "confd",
        {"a.toml": f'[template]\nsrc = "a.tmpl"\ndest = "{tmp_path / "out"}"\nkeys = ["/k"]\n'},
        {"a.tmpl": '{{getv "/k"}}'},
    )
    dead = dead_endpoint()
    run = run_confpy("-onetime", "-backend", "etcdv3", "-node", dead, "-confdir", str(confdir))
    assert run.code == 1
    assert f"cannot reach etcd at http://{dead}: connection refused" in run.one_error()
