"""The etcd v2 backend against a real etcd 3.4 (``--enable-v2``), plus a fault server.

What the v3 backend does alike (failover, timeouts, clear errors, restart, TLS) is tested
for both in test_http_backends.py; here is what only v2 does (directories, wait, index).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from servers import EtcdServer, FaultServer, dead_endpoint
from thread_helpers import in_thread

from confpy.backends.base import BackendSettings
from confpy.backends.etcd import COALESCE_KEYS, EtcdIndexCleared, EtcdV2Backend, WatchResult
from confpy.errors import BackendError, BackendUnavailable

BackendFactory = Callable[..., EtcdV2Backend]


@pytest.fixture()
def make_backend(closing: Callable[[Any], Any]) -> BackendFactory:
    """``make_backend(node, ..., max_workers=1, timeout=1, ...)``; all closed afterwards."""

    def make(*nodes: str, max_workers: int | None = None, **settings: Any) -> EtcdV2Backend:
        options = {} if max_workers is None else {"max_workers": max_workers}
        backend: EtcdV2Backend = closing(
            EtcdV2Backend(BackendSettings(nodes=nodes, **settings), **options)
        )
        return backend

    return make


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


# -- failures ---------------------------------------------------------------------------


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


# -- wait (long-poll) -------------------------------------------------------------------




@pytest.mark.timeout(20)
def test_wait_returns_the_next_change(etcd: EtcdServer, etcd_prefix: str, backend: Any) -> None:
    etcd.put(f"{etcd_prefix}/a", "1")
    index = backend.get_values([etcd_prefix]).index
    thread, outcome = in_thread(lambda: backend.wait(etcd_prefix, index + 1, 10))
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
    thread, outcome = in_thread(lambda: backend.wait(etcd_prefix, etcd.get_index() + 1, None))
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
