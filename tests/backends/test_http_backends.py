"""The contract the two etcd backends share, written once and run for both.

``etcd`` (the v2 API) and ``etcdv3`` (the v3 JSON gateway) read the same way for confpy:
node forms, failover, bounded timeouts, clear errors, secrets kept out of messages,
surviving a member restart, TLS. Each test runs against a real etcd 3.4 (plus the fault
server for what etcd cannot do on purpose); what differs between the backends (how test
data is written, the fault server speaking the protocol, etcd's error bodies) is in
``HttpBackendKind``. What only one backend does stays in test_etcd.py / test_etcdv3.py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from servers import EtcdServer, FaultServer, dead_endpoint, put_v3

from confpy.backends.base import BackendSettings
from confpy.backends.etcd import EtcdV2Backend
from confpy.backends.etcdv3 import EtcdV3Backend
from confpy.errors import BackendError, BackendUnavailable, ConfigError

HttpBackend = EtcdV2Backend | EtcdV3Backend
BackendFactory = Callable[..., HttpBackend]


@dataclass(frozen=True)
class FaultAnswer:
    """An error answer in a backend's protocol, and the text of it the backend reports."""

    status: int
    body: dict[str, Any]
    text: str


@dataclass(frozen=True)
class HttpBackendKind:
    """One etcd backend: what the shared tests need to know that differs between them."""

    name: str  # -backend, and the test id
    backend_class: Callable[[BackendSettings], HttpBackend]
    # Writes test data past the code under test; returns the write's index or revision.
    put: Callable[[EtcdServer, str, str], int]
    # The fault-server fixture answering its requests: v2 reads are GETs, v3 reads POSTs.
    fault_fixture: str
    no_leader: FaultAnswer  # a server error: the next node is tried, else Unavailable
    refusal: FaultAnswer  # an error that is etcd's answer: reported, not failed over
    # confd's v3 client speaks https to a host:port node when given TLS files; v2 does not.
    tls_files_make_host_port_https: bool


ETCD_V2 = HttpBackendKind(
    name="etcd",
    backend_class=EtcdV2Backend,
    put=EtcdServer.put,
    fault_fixture="fault_server",
    no_leader=FaultAnswer(
        500, {"errorCode": 300, "message": "Raft Internal Error"}, "300: Raft Internal Error"
    ),
    refusal=FaultAnswer(
        400,
        {"errorCode": 209, "message": "Invalid field", "cause": "bad", "index": 9},
        "209: Invalid field (bad) [9]",
    ),
    tls_files_make_host_port_https=False,
)

ETCD_V3 = HttpBackendKind(
    name="etcdv3",
    backend_class=EtcdV3Backend,
    put=put_v3,
    fault_fixture="post_fault_server",
    no_leader=FaultAnswer(
        503,
        {"error": "etcdserver: no leader", "message": "etcdserver: no leader", "code": 14},
        "etcdserver: no leader",
    ),
    refusal=FaultAnswer(
        403,
        {"error": "x", "message": "etcdserver: permission denied", "code": 7},
        "etcdserver: permission denied",
    ),
    tls_files_make_host_port_https=True,
)


@pytest.fixture(params=[ETCD_V2, ETCD_V3], ids=lambda kind: kind.name)
def kind(request: pytest.FixtureRequest) -> HttpBackendKind:
    kind: HttpBackendKind = request.param
    return kind


@pytest.fixture()
def make_backend(kind: HttpBackendKind, closing: Callable[[Any], Any]) -> BackendFactory:
    """``make_backend(node, ..., timeout=1, basic_auth=True, ...)`` of ``kind``; closed after."""

    def make(*nodes: str, **settings: Any) -> HttpBackend:
        chosen = BackendSettings(backend=kind.name, nodes=nodes, **settings)
        backend: HttpBackend = closing(kind.backend_class(chosen))
        return backend

    return make


@pytest.fixture()
def faults(kind: HttpBackendKind, request: pytest.FixtureRequest) -> Callable[..., FaultServer]:
    """``faults("slow", delay=30)``: the fault server speaking ``kind``'s protocol."""
    factory: Callable[..., FaultServer] = request.getfixturevalue(kind.fault_fixture)
    return factory


# -- settings and nodes -----------------------------------------------------------------


def test_bad_settings_are_config_errors(kind: HttpBackendKind, tmp_path: Path) -> None:
    new = kind.backend_class
    with pytest.raises(ConfigError, match="no nodes"):
        new(BackendSettings(nodes=()))
    with pytest.raises(ConfigError, match="ftp://x"):
        new(BackendSettings(nodes=("ftp://x:1",)))
    with pytest.raises(ConfigError, match="-basic-auth") as caught:
        new(BackendSettings(nodes=("http://u:pw-in-url@h:1",)))
    assert "pw-in-url" not in str(caught.value)  # a password in a node URL stays secret
    with pytest.raises(ConfigError, match="together"):
        new(BackendSettings(nodes=("x:1",), client_cert="c.pem"))
    with pytest.raises(ConfigError, match=r"nope\.pem"):
        new(BackendSettings(nodes=("x:1",), client_cakeys=str(tmp_path / "nope.pem")))


@pytest.mark.timeout(20)
def test_node_forms_and_sources(
    kind: HttpBackendKind, etcd: EtcdServer, etcd_prefix: str, make_backend: BackendFactory
) -> None:
    kind.put(etcd, f"{etcd_prefix}/k", "v")
    for node in (etcd.endpoint, etcd.url, etcd.url + "/"):
        backend = make_backend(node)
        assert backend.get_values([f"{etcd_prefix}/k"]).values == {f"{etcd_prefix}/k": "v"}
        assert backend.sources() == etcd.url
    both = make_backend("127.0.0.1:1", "https://10.0.0.1:2379")
    assert both.sources() == "http://127.0.0.1:1, https://10.0.0.1:2379"


@pytest.mark.timeout(20)
def test_missing_keys_are_absent_not_errors(
    kind: HttpBackendKind, etcd: EtcdServer, etcd_prefix: str, make_backend: BackendFactory
) -> None:
    backend = make_backend(etcd.endpoint)
    written = kind.put(etcd, f"{etcd_prefix}/there", "yes")
    snapshot = backend.get_values([f"{etcd_prefix}/nope"])
    assert snapshot.values == {}
    assert isinstance(snapshot.index, int) and snapshot.index >= written
    snapshot = backend.get_values([f"{etcd_prefix}/nope", f"{etcd_prefix}/there", "/t-none/x"])
    assert snapshot.values == {f"{etcd_prefix}/there": "yes"}
    assert backend.get_values([]).values == {}


@pytest.mark.timeout(10)
def test_closed_backend_fails_clearly(make_backend: BackendFactory) -> None:
    backend = make_backend("127.0.0.1:1")
    backend.close()
    backend.close()  # twice is harmless
    with pytest.raises(BackendError, match="closed"):
        backend.get_values(["/x"])


# -- failures ---------------------------------------------------------------------------


@pytest.mark.timeout(20)
def test_failover_to_the_next_node_and_remember_it(
    kind: HttpBackendKind,
    etcd: EtcdServer,
    etcd_prefix: str,
    make_backend: BackendFactory,
    faults: Callable[..., FaultServer],
) -> None:
    kind.put(etcd, f"{etcd_prefix}/k", "v")
    backend = make_backend(dead_endpoint(), etcd.endpoint)
    assert backend.get_values([f"{etcd_prefix}/k"]).values == {f"{etcd_prefix}/k": "v"}

    hangs_up = faults("close")
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
    assert message.startswith("cannot reach etcd at any node: ")
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
def test_slow_nodes_time_out_within_the_bound(
    make_backend: BackendFactory, faults: Callable[..., FaultServer]
) -> None:
    slow, slower = faults("slow", delay=30), faults("slow", delay=30)
    backend = make_backend(slow.endpoint, slower.endpoint, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match=r"no answer within 0\.5s") as caught:
        backend.get_values([f"/k{i}" for i in range(50)])  # many keys: still one bound
    assert time.monotonic() - started < 3
    assert slow.url in str(caught.value) and slower.url in str(caught.value)


@pytest.mark.timeout(15)
def test_cut_connection_and_garbage_are_clear_errors(
    make_backend: BackendFactory, faults: Callable[..., FaultServer]
) -> None:
    cut = make_backend(faults("close").endpoint, timeout=1)
    with pytest.raises(BackendUnavailable, match="connection closed without an answer"):
        cut.get_values(["/x"])
    garbage = make_backend(faults("garbage").endpoint, timeout=1)
    with pytest.raises(BackendError, match="not JSON") as caught:
        garbage.get_values(["/x"])
    assert not isinstance(caught.value, BackendUnavailable)  # a broken etcd, not a dead one


@pytest.mark.timeout(15)
def test_server_errors_fail_over_then_report_etcds_message(
    kind: HttpBackendKind,
    etcd: EtcdServer,
    etcd_prefix: str,
    make_backend: BackendFactory,
    faults: Callable[..., FaultServer],
) -> None:
    no_leader = faults("status", status=kind.no_leader.status, body=kind.no_leader.body)
    kind.put(etcd, f"{etcd_prefix}/k", "v")
    backend = make_backend(no_leader.endpoint, etcd.endpoint)
    assert backend.get_values([f"{etcd_prefix}/k"]).values == {f"{etcd_prefix}/k": "v"}
    with pytest.raises(BackendUnavailable, match=re.escape(kind.no_leader.text)):
        make_backend(no_leader.endpoint).get_values(["/k"])

    refusal = faults("status", status=kind.refusal.status, body=kind.refusal.body)
    with pytest.raises(
        BackendError, match=rf"^etcd at {re.escape(refusal.url)}: {re.escape(kind.refusal.text)}$"
    ):
        make_backend(refusal.endpoint).get_values(["/k"])


@pytest.mark.timeout(20)
def test_environment_proxy_is_not_used_for_loopback(
    kind: HttpBackendKind,
    etcd: EtcdServer,
    etcd_prefix: str,
    make_backend: BackendFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dead_proxy = f"http://{dead_endpoint()}"
    monkeypatch.setenv("HTTP_PROXY", dead_proxy)
    monkeypatch.setenv("http_proxy", dead_proxy)
    kind.put(etcd, f"{etcd_prefix}/k", "v")
    backend = make_backend(etcd.endpoint)
    assert backend.get_values([f"{etcd_prefix}/k"]).values == {f"{etcd_prefix}/k": "v"}


@pytest.mark.timeout(40)
def test_member_restart_is_survived(
    kind: HttpBackendKind, etcd: EtcdServer, etcd_prefix: str, make_backend: BackendFactory
) -> None:
    kind.put(etcd, f"{etcd_prefix}/k", "before")
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
def test_tls_with_client_certificate(
    kind: HttpBackendKind, etcd_tls: EtcdServer, make_backend: BackendFactory
) -> None:
    assert etcd_tls.tls is not None
    prefix = f"/tls-{kind.name}"
    kind.put(etcd_tls, f"{prefix}/k", "secret-ish")
    files = {
        "client_cert": str(etcd_tls.tls.client_cert),
        "client_key": str(etcd_tls.tls.client_key),
        "client_cakeys": str(etcd_tls.tls.ca),
    }
    nodes = [etcd_tls.url]
    if kind.tls_files_make_host_port_https:
        nodes.append(etcd_tls.endpoint)
    for node in nodes:
        backend = make_backend(node, **files)
        assert backend.get_values([prefix]).values == {f"{prefix}/k": "secret-ish"}
    # Without the CA file the server's certificate is not trusted.
    untrusted = make_backend(etcd_tls.url, timeout=2)
    with pytest.raises(BackendUnavailable, match="certificate"):
        untrusted.get_values([prefix])
