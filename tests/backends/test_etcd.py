"""The etcd v2 backend against a real etcd 3.4 (``--enable-v2``), plus a fault server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from servers import EtcdServer, FaultServer, dead_endpoint

from confpy.backends.base import BackendSettings
from confpy.backends.etcd import COALESCE_KEYS, EtcdIndexCleared, EtcdV2Backend, WatchResult
from confpy.errors import BackendError, BackendUnavailable, ConfigError

BackendFactory = Callable[..., EtcdV2Backend]


@pytest.fixture()
def make_backend() -> Iterator[BackendFactory]:
    """``make_backend(node, ..., timeout=1, basic_auth=True, ...)``; all closed afterwards."""
    made: list[EtcdV2Backend] = []

    def make(*nodes: str, max_workers: int | None = None, **settings: Any) -> EtcdV2Backend:
        options = {} if max_workers is None else {"max_workers": max_workers}
        backend = EtcdV2Backend(BackendSettings(nodes=nodes, **settings), **options)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


@pytest.fixture()
def backend(etcd: EtcdServer, make_backend: BackendFactory) -> EtcdV2Backend:
    return make_backend(etcd.endpoint)


# -- reading ----------------------------------------------------------------------------


@pytest.mark.timeout(20)
def test_flat_and_nested_directories(etcd: EtcdServer, etcd_prefix: str, backend: Any) -> None:
    p = etcd_prefix
    etcd.put(f"{p}/a", "1")
    etcd.put(f"{p}/dir/b", "2")
    etcd.put(f"{p}/dir/sub/c", "3")
    etcd.put(f"{p}/dir/empty-value", "")
    etcd.mkdir(f"{p}/emptydir")
    snapshot = backend.get_values([p])
    assert snapshot.values == {
        f"{p}/a": "1",
        f"{p}/dir/b": "2",
        f"{p}/dir/empty-value": "",
        f"{p}/dir/sub/c": "3",
    }
    # A leaf asked for directly, and a sub-directory.
    assert backend.get_values([f"{p}/a"]).values == {f"{p}/a": "1"}
    assert backend.get_values([f"{p}/dir/sub"]).values == {f"{p}/dir/sub/c": "3"}
    # An empty directory gives nothing (directories themselves are not stored).
    assert backend.get_values([f"{p}/emptydir"]).values == {}


@pytest.mark.timeout(20)
def test_output_is_sorted_by_key(etcd: EtcdServer, etcd_prefix: str, backend: Any) -> None:
    names = ["zeta", "alpha", "mid/b", "mid/a", "beta", "a-b", "a/z"]
    for name in names:
        etcd.put(f"{etcd_prefix}/{name}", name)
    values = backend.get_values([f"{etcd_prefix}/zeta", etcd_prefix]).values
    assert list(values) == sorted(values)
    assert len(values) == len(names)


@pytest.mark.timeout(20)
def test_missing_keys_are_absent_not_errors(
    etcd: EtcdServer, etcd_prefix: str, backend: Any
) -> None:
    etcd.put(f"{etcd_prefix}/there", "yes")
    snapshot = backend.get_values([f"{etcd_prefix}/nope"])
    assert snapshot.values == {}
    assert isinstance(snapshot.index, int)
    snapshot = backend.get_values([f"{etcd_prefix}/nope", f"{etcd_prefix}/there", "/t-none/x"])
    assert snapshot.values == {f"{etcd_prefix}/there": "yes"}


@pytest.mark.timeout(20)
@pytest.mark.parametrize("workers", [1, 4])
def test_several_keys_at_once(
    etcd: EtcdServer, etcd_prefix: str, make_backend: BackendFactory, workers: int
) -> None:
    expected = {}
    for i in range(30):
        etcd.put(f"{etcd_prefix}/svc{i}/host", f"10.0.0.{i}")
        expected[f"{etcd_prefix}/svc{i}/host"] = f"10.0.0.{i}"
    keys = [f"{etcd_prefix}/svc{i}" for i in range(30)] + [f"{etcd_prefix}/missing"]
    keys += keys[:5]  # duplicates are harmless, as in confd
    backend = make_backend(etcd.endpoint, max_workers=workers)
    assert backend.get_values(keys).values == expected


@pytest.mark.timeout(20)
def test_index_is_the_stores_index(etcd: EtcdServer, etcd_prefix: str, backend: Any) -> None:
    written = etcd.put(f"{etcd_prefix}/a", "1")
    first = backend.get_values([f"{etcd_prefix}/a", f"{etcd_prefix}/b", f"{etcd_prefix}/c"])
    assert isinstance(first.index, int)
    assert written <= first.index <= etcd.get_index()
    later = etcd.put(f"{etcd_prefix}/b", "2")
    second = backend.get_values([f"{etcd_prefix}/a", f"{etcd_prefix}/b"])
    assert second.index is not None and second.index >= later > first.index
    assert backend.get_values([]).values == {}


@pytest.mark.timeout(20)
def test_node_forms_and_sources(
    etcd: EtcdServer, etcd_prefix: str, make_backend: BackendFactory
) -> None:
    etcd.put(f"{etcd_prefix}/k", "v")
    for node in (etcd.endpoint, etcd.url, etcd.url + "/"):
        backend = make_backend(node)
        assert backend.get_values([f"{etcd_prefix}/k"]).values == {f"{etcd_prefix}/k": "v"}
        assert backend.sources() == etcd.url
    both = make_backend("127.0.0.1:1", "https://10.0.0.1:2379")
    assert both.sources() == "http://127.0.0.1:1, https://10.0.0.1:2379"


def test_key_matches_is_a_path_boundary(backend: Any) -> None:
    assert backend.key_matches("/app", "/app")
    assert backend.key_matches("/app", "/app/x/y")
    assert not backend.key_matches("/app", "/apple")
    assert backend.key_matches("/", "/anything")


@pytest.mark.timeout(20)
def test_keys_with_odd_characters(etcd: EtcdServer, etcd_prefix: str, backend: Any) -> None:
    key = f"{etcd_prefix}/with space/q?x=1&y#z"
    etcd.put(
        key.replace(" ", "%20").replace("?", "%3F").replace("&", "%26").replace("#", "%23"), "ok"
    )
    assert backend.get_values([f"{etcd_prefix}/with space"]).values == {key: "ok"}


def test_bad_settings_are_config_errors(tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="no nodes"):
        EtcdV2Backend(BackendSettings(nodes=()))
    with pytest.raises(ConfigError, match="ftp://x"):
        EtcdV2Backend(BackendSettings(nodes=("ftp://x:1",)))
    with pytest.raises(ConfigError, match="-basic-auth") as caught:
        EtcdV2Backend(BackendSettings(nodes=("http://u:pw-in-url@h:1",)))
    assert "pw-in-url" not in str(caught.value)
    with pytest.raises(ConfigError, match="together"):
        EtcdV2Backend(BackendSettings(nodes=("x:1",), client_cert="c.pem"))
    missing = str(tmp_path / "nope.pem")
    with pytest.raises(ConfigError, match=r"nope\.pem"):
        EtcdV2Backend(BackendSettings(nodes=("x:1",), client_cakeys=missing))


# -- failures ---------------------------------------------------------------------------


@pytest.mark.timeout(20)
def test_failover_to_the_next_node_and_remember_it(
    etcd: EtcdServer,
    etcd_prefix: str,
    make_backend: BackendFactory,
    fault_server: Callable[..., FaultServer],
) -> None:
    etcd.put(f"{etcd_prefix}/k", "v")
    backend = make_backend(dead_endpoint(), etcd.endpoint)
    assert backend.get_values([f"{etcd_prefix}/k"]).values == {f"{etcd_prefix}/k": "v"}

    hangs_up = fault_server("close")
    backend = make_backend(hangs_up.endpoint, etcd.endpoint)
    for _ in range(3):
        assert backend.get_values([f"{etcd_prefix}/k"]).values == {f"{etcd_prefix}/k": "v"}
    assert len(hangs_up.requests) == 1  # once etcd answered, it is asked first


@pytest.mark.timeout(20)
def test_all_nodes_dead_is_unavailable_and_names_them(make_backend: BackendFactory) -> None:
    first, second = dead_endpoint(), dead_endpoint()
    backend = make_backend(first, second, basic_auth=True, username="u", password="s3cret-pw")
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as caught:
        backend.get_values(["/a", "/b", "/c"])
    assert time.monotonic() - started < 3
    message = str(caught.value)
    assert f"http://{first}: connection refused" in message
    assert f"http://{second}: connection refused" in message
    assert "s3cret-pw" not in message

    single = make_backend("127.0.0.1:1")
    with pytest.raises(
        BackendUnavailable,
        match=r"^cannot reach etcd at http://127\.0\.0\.1:1: connection refused$",
    ):
        single.get_values(["/a"])


@pytest.mark.timeout(15)
def test_slow_node_times_out_within_the_bound(
    make_backend: BackendFactory, fault_server: Callable[..., FaultServer]
) -> None:
    slow, slower = fault_server("slow", delay=30), fault_server("slow", delay=30)
    backend = make_backend(slow.endpoint, slower.endpoint, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match=r"no answer within 0\.5s") as caught:
        backend.get_values([f"/k{i}" for i in range(50)])  # many keys: still one bound
    assert time.monotonic() - started < 3
    assert slow.url in str(caught.value) and slower.url in str(caught.value)


@pytest.mark.timeout(15)
def test_cut_connection_and_garbage_are_clear_errors(
    make_backend: BackendFactory, fault_server: Callable[..., FaultServer]
) -> None:
    cut = make_backend(fault_server("close").endpoint, timeout=1)
    with pytest.raises(BackendUnavailable, match="connection closed without an answer"):
        cut.get_values(["/x"])
    garbage = make_backend(fault_server("garbage").endpoint, timeout=1)
    with pytest.raises(BackendError, match="not JSON") as caught:
        garbage.get_values(["/x"])
    assert not isinstance(caught.value, BackendUnavailable)


@pytest.mark.timeout(15)
def test_server_errors_fail_over_then_report_etcds_message(
    etcd: EtcdServer,
    etcd_prefix: str,
    make_backend: BackendFactory,
    fault_server: Callable[..., FaultServer],
) -> None:
    no_leader = fault_server(
        "status", status=500, body={"errorCode": 300, "message": "Raft Internal Error"}
    )
    etcd.put(f"{etcd_prefix}/k", "v")
    backend = make_backend(no_leader.endpoint, etcd.endpoint)
    assert backend.get_values([f"{etcd_prefix}/k"]).values == {f"{etcd_prefix}/k": "v"}
    alone = make_backend(no_leader.endpoint)
    with pytest.raises(BackendUnavailable, match="300: Raft Internal Error"):
        alone.get_values(["/k"])

    bad_request = fault_server(
        "status",
        status=400,
        body={"errorCode": 209, "message": "Invalid field", "cause": "bad", "index": 9},
    )
    with pytest.raises(BackendError, match=r"209: Invalid field \(bad\) \[9\]"):
        make_backend(bad_request.endpoint).get_values(["/k"])


@pytest.mark.timeout(30)
def test_v2_api_disabled_says_what_to_do(
    etcd_v2_off: EtcdServer, make_backend: BackendFactory
) -> None:
    backend = make_backend(etcd_v2_off.endpoint)
    with pytest.raises(BackendError) as caught:
        backend.get_values(["/app"])
    message = str(caught.value)
    assert etcd_v2_off.url in message
    assert "--enable-v2=true" in message and "etcdv3" in message


@pytest.mark.timeout(15)
def test_basic_auth_credentials_are_sent(
    make_backend: BackendFactory, fault_server: Callable[..., FaultServer]
) -> None:
    recorder = fault_server("record")
    with_auth = make_backend(recorder.endpoint, basic_auth=True, username="confd", password="pa:ss")
    assert with_auth.get_values(["/x"]).values == {"/x": "1"}
    request = recorder.requests[-1]
    assert request.basic_auth == ("confd", "pa:ss")
    assert request.path == "/v2/keys/x?recursive=true&sorted=true&quorum=true"

    # Without -basic-auth, username and password are not sent (as in confd).
    without = make_backend(recorder.endpoint, username="confd", password="pa:ss")
    without.get_values(["/x"])
    assert recorder.requests[-1].basic_auth is None


@pytest.mark.timeout(20)
def test_environment_proxy_is_not_used_for_loopback(
    etcd: EtcdServer, etcd_prefix: str, make_backend: BackendFactory, monkeypatch: Any
) -> None:
    dead_proxy = f"http://{dead_endpoint()}"
    monkeypatch.setenv("HTTP_PROXY", dead_proxy)
    monkeypatch.setenv("http_proxy", dead_proxy)
    etcd.put(f"{etcd_prefix}/k", "v")
    backend = make_backend(etcd.endpoint)
    assert backend.get_values([f"{etcd_prefix}/k"]).values == {f"{etcd_prefix}/k": "v"}


@pytest.mark.timeout(40)
def test_member_restart_is_survived(
    etcd: EtcdServer, etcd_prefix: str, make_backend: BackendFactory
) -> None:
    etcd.put(f"{etcd_prefix}/k", "before")
    backend = make_backend(etcd.endpoint, timeout=1)
    assert backend.get_values([f"{etcd_prefix}/k"]).values == {f"{etcd_prefix}/k": "before"}
    etcd.stop()
    try:
        with pytest.raises(BackendUnavailable, match="connection refused"):
            backend.get_values([f"{etcd_prefix}/k"])
    finally:
        etcd.start()
    # Same backend, pooled connections gone stale: it reconnects; the data survived.
    assert backend.get_values([f"{etcd_prefix}/k"]).values == {f"{etcd_prefix}/k": "before"}


@pytest.mark.timeout(40)
def test_tls_with_client_certificate(etcd_tls: EtcdServer, make_backend: BackendFactory) -> None:
    assert etcd_tls.tls is not None
    etcd_tls.put("/tls/k", "secret-ish")
    backend = make_backend(
        etcd_tls.url,
        client_cert=str(etcd_tls.tls.client_cert),
        client_key=str(etcd_tls.tls.client_key),
        client_cakeys=str(etcd_tls.tls.ca),
    )
    assert backend.get_values(["/tls"]).values == {"/tls/k": "secret-ish"}
    # Without the CA file the server's certificate is not trusted.
    untrusted = make_backend(etcd_tls.url, timeout=2)
    with pytest.raises(BackendUnavailable, match="certificate"):
        untrusted.get_values(["/tls"])


# -- wait (long-poll) -------------------------------------------------------------------


def _in_thread(function: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = function()
        except Exception as exc:  # handed to the test thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


@pytest.mark.timeout(20)
def test_wait_returns_the_next_change(etcd: EtcdServer, etcd_prefix: str, backend: Any) -> None:
    etcd.put(f"{etcd_prefix}/a", "1")
    index = backend.get_values([etcd_prefix]).index
    thread, outcome = _in_thread(lambda: backend.wait(etcd_prefix, index + 1, 10))
    time.sleep(0.2)
    written = etcd.put(f"{etcd_prefix}/sub/b", "2")
    thread.join(10)
    result = outcome["result"]
    assert isinstance(result, WatchResult)
    assert (result.action, result.key, result.value) == ("set", f"{etcd_prefix}/sub/b", "2")
    assert result.modified_index == written
    assert isinstance(result.etcd_index, int)

    # A past change is returned at once; a deletion has no value.
    deleted = etcd.delete(f"{etcd_prefix}/a")
    event = backend.wait(etcd_prefix, deleted, 5)
    assert (event.action, event.key, event.value) == ("delete", f"{etcd_prefix}/a", None)
    # Changes elsewhere do not count.
    etcd.put("/t-elsewhere/x", "1")
    assert backend.wait(etcd_prefix, etcd.get_index() + 1, 0.3) is None


@pytest.mark.timeout(10)
def test_wait_timeout_returns_none(etcd: EtcdServer, etcd_prefix: str, backend: Any) -> None:
    started = time.monotonic()
    assert backend.wait(etcd_prefix, etcd.get_index() + 1, 0.5) is None
    assert 0.4 < time.monotonic() - started < 3


@pytest.mark.timeout(60)
def test_wait_from_a_cleared_index(etcd: EtcdServer, etcd_prefix: str, backend: Any) -> None:
    old = etcd.put(f"{etcd_prefix}/k", "0")
    # v2 keeps the last 1000 events: push the old one out (4 writers to be quick).
    with httpx.Client(base_url=etcd.url, timeout=10) as client, ThreadPoolExecutor(4) as pool:
        list(
            pool.map(
                lambda i: client.put(f"/v2/keys{etcd_prefix}/k", data={"value": i}), range(1010)
            )
        )
    with pytest.raises(EtcdIndexCleared, match="outdated and cleared") as caught:
        backend.wait(etcd_prefix, old, 5)
    assert caught.value.index is not None and caught.value.index >= old + 1010
    assert isinstance(caught.value, BackendError)


@pytest.mark.timeout(15)
def test_close_interrupts_a_blocked_wait(etcd: EtcdServer, etcd_prefix: str, backend: Any) -> None:
    thread, outcome = _in_thread(lambda: backend.wait(etcd_prefix, etcd.get_index() + 1, None))
    time.sleep(0.3)
    assert thread.is_alive()
    started = time.monotonic()
    backend.close()
    thread.join(5)
    assert not thread.is_alive()
    assert time.monotonic() - started < 2
    assert outcome == {"result": None}
    # A closed backend: waits end at once, reads fail clearly.
    assert backend.wait(etcd_prefix, 1, None) is None
    with pytest.raises(BackendError, match="closed"):
        backend.get_values([etcd_prefix])


@pytest.mark.timeout(15)
def test_wait_with_no_node_is_unavailable(make_backend: BackendFactory) -> None:
    backend = make_backend(dead_endpoint())
    with pytest.raises(BackendUnavailable, match="connection refused"):
        backend.wait("/x", 1, None)


@pytest.mark.timeout(20)
def test_many_keys_are_read_in_one_request_of_their_common_ancestor(
    etcd: EtcdServer, etcd_prefix: str
) -> None:
    p = etcd_prefix
    wanted = [f"{p}/svc{i}-80" for i in range(COALESCE_KEYS + 4)]
    for key in wanted:
        etcd.put(f"{key}/c1", f"{key}-addr")
    etcd.put(f"{p}/svc0-80-other/x", "sibling with a shared string prefix")
    etcd.put(f"{p}/unrelated/y", "not asked for")
    # etcd's v2 store statistics count every read it served.
    before = etcd.http.get(f"{etcd.url}/v2/stats/store").json()["getsSuccess"]
    backend = EtcdV2Backend(BackendSettings(nodes=(etcd.endpoint,)))
    try:
        snapshot = backend.get_values([*wanted, f"{p}/missing"])
    finally:
        backend.close()
    after = etcd.http.get(f"{etcd.url}/v2/stats/store").json()["getsSuccess"]
    assert after - before == 1
    assert snapshot.values == {f"{key}/c1": f"{key}-addr" for key in wanted}
    assert snapshot.index is not None and snapshot.index >= etcd.get_index() - 1
