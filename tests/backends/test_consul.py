"""The consul backend against tests/consul_server.py, an in-process implementation of
Consul's documented KV HTTP API (no Consul can be installed here): confd's reads, nodes,
ACL tokens, TLS, blocking-query watch and its index rules.

Data is written straight into the fake server's state, never through the backend.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from consul_server import FakeConsul
from servers import FaultServer, dead_endpoint, make_tls_files
from watch_helpers import WatchRun

from confpy.backends.base import BackendSettings, Snapshot
from confpy.backends.consul import ConsulBackend, acl_token
from confpy.backends.registry import create_backend
from confpy.errors import BackendError, BackendUnavailable, ConfigError

pytestmark = pytest.mark.timeout(30)

Factory = Callable[..., ConsulBackend]
TOKEN = "5e3f0d1c-secret-acl-token"


@pytest.fixture()
def make_backend(closing: Callable[[Any], Any]) -> Factory:
    def make(*nodes: str, **settings: Any) -> ConsulBackend:
        settings.setdefault("environ", {})
        backend: ConsulBackend = closing(ConsulBackend(BackendSettings(backend="consul", nodes=nodes, **settings)))
        return backend

    return make


@pytest.fixture()
def backend(consul: FakeConsul, make_backend: Factory) -> ConsulBackend:
    return make_backend(consul.endpoint)


# -- nodes ----------------------------------------------------------------------------------


def test_node_forms_and_default(make_backend: Factory) -> None:
    assert make_backend("127.0.0.1:8500").sources() == "http://127.0.0.1:8500"
    assert make_backend("consul.example:8501", scheme="https").sources() == "https://consul.example:8501"
    assert make_backend("http://a:1", "https://b:2").sources() == "http://a:1, https://b:2"
    backend = create_backend(BackendSettings(backend="consul", environ={}))
    try:
        assert isinstance(backend, ConsulBackend) and backend.sources() == "http://127.0.0.1:8500"
    finally:
        backend.close()


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ("h:port", r"^invalid consul node 'http://h:port': the port is not a number$"),
        ("ftp://h:1", r"^invalid consul node 'ftp://h:1': want http://host:port or https://host:port$"),
        ("http://user:hunter2@h:1", r"^consul node http://h: give credentials with -basic-auth -username -password, not in the node URL$"),
    ],
)
def test_bad_node_strings(make_backend: Factory, node: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_backend(node)


# -- reads as confd's GetValues -----------------------------------------------------------


def test_prefix_listings_as_confd(consul: FakeConsul, consul_prefix: str, backend: ConsulBackend) -> None:
    p = consul_prefix
    consul.put(f"{p}/nginx-80/c1", "10.0.0.1:80")
    consul.put(f"{p}/nginx-80/c2", "10.0.0.2:80", flags=42)
    consul.put(f"{p}/nginx-8080/c3", "a string prefix: listed with /nginx-80, as confd")
    consul.put(f"{p}/folder/", None)  # a folder entry, as the UI makes: /folder = ""
    consul.put(f"{p}/folder/x", "in the folder")
    consul.put(f"{p}/bytes", b"\xff\xfeno utf-8")
    snapshot = backend.get_values([f"/{p}/nginx-80", f"/{p}/folder", f"/{p}/bytes", f"/{p}/missing"])
    assert snapshot.values == {
        f"/{p}/bytes": "\ufffd\ufffdno utf-8",
        f"/{p}/folder": "",
        f"/{p}/folder/x": "in the folder",
        f"/{p}/nginx-80/c1": "10.0.0.1:80",
        f"/{p}/nginx-80/c2": "10.0.0.2:80",
        f"/{p}/nginx-8080/c3": "a string prefix: listed with /nginx-80, as confd",
    }
    assert snapshot.index is not None and 0 < snapshot.index <= consul.index
    assert backend.key_matches(f"/{p}/nginx-80", f"/{p}/nginx-8080/c3")
    assert not backend.key_matches(f"/{p}/nginx-80", f"/{p}/other")


def test_requests_are_recursive_listings_with_no_leading_slash(consul: FakeConsul, consul_prefix: str, backend: ConsulBackend) -> None:
    consul.requests.clear()
    backend.get_values([f"/{consul_prefix}/a b", f"/{consul_prefix}/c"])
    assert [(r.path, r.query) for r in consul.requests] == [
        (f"/v1/kv/{consul_prefix}/a b", {"recurse": [""]}),
        (f"/v1/kv/{consul_prefix}/c", {"recurse": [""]}),
    ]


def test_many_keys_are_one_listing(consul: FakeConsul, consul_prefix: str, backend: ConsulBackend) -> None:
    p = consul_prefix
    expected = {}
    for i in range(200):
        consul.put(f"{p}/svc{i}-80/c", f"10.0.0.{i}:80")
        expected[f"/{p}/svc{i}-80/c"] = f"10.0.0.{i}:80"
    consul.put(f"{p}/unrelated", "x")
    consul.requests.clear()
    snapshot = backend.get_values([f"/{p}/svc{i}-80" for i in range(200)])
    assert snapshot.values == expected
    assert [r.path for r in consul.requests] == [f"/v1/kv/{p}/svc"]


def test_first_node_dead_or_failing_then_one_answers(
    consul: FakeConsul, consul_prefix: str, make_backend: Factory, fault_server: Callable[..., FaultServer]
) -> None:
    consul.put(f"{consul_prefix}/k", "v")
    failing = fault_server("status", status=500, body={"error": "No cluster leader"})
    dead = dead_endpoint()
    backend = make_backend(dead, failing.endpoint, consul.endpoint)
    assert backend.get_values([f"/{consul_prefix}"]).values == {f"/{consul_prefix}/k": "v"}


def test_no_node_answers(make_backend: Factory, fault_server: Callable[..., FaultServer]) -> None:
    one = dead_endpoint()
    with pytest.raises(BackendUnavailable, match=rf"^cannot reach consul at http://{one}: connection refused$"):
        make_backend(one).get_values(["/x"])
    failing = fault_server("status", status=500, body={"error": "No cluster leader"})
    with pytest.raises(
        BackendUnavailable,
        match=rf"^cannot reach consul at any node: http://{one}: connection refused; {failing.url}: 500 Internal Server Error: ",
    ):
        make_backend(one, failing.endpoint).get_values(["/x"])


def test_an_answer_that_is_not_consul(make_backend: Factory, fault_server: Callable[..., FaultServer]) -> None:
    server = fault_server("garbage")
    with pytest.raises(BackendError, match=rf"^consul at {server.url} answered with something not JSON: "):
        make_backend(server.endpoint).get_values(["/x"])


# -- ACL tokens, basic auth, TLS ------------------------------------------------------------


def test_token_order_flag_then_file_then_variable(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(f"  {TOKEN}-file\n")
    both = {"CONSUL_HTTP_TOKEN": f"{TOKEN}-env", "CONSUL_HTTP_TOKEN_FILE": str(token_file)}
    assert acl_token(BackendSettings(auth_token=f"{TOKEN}-flag", environ=both)) == f"{TOKEN}-flag"
    assert acl_token(BackendSettings(environ=both)) == f"{TOKEN}-file"
    assert acl_token(BackendSettings(environ={"CONSUL_HTTP_TOKEN": f"{TOKEN}-env"})) == f"{TOKEN}-env"
    token_file.write_text("\n")  # empty: the variable, as the Go client does
    assert acl_token(BackendSettings(environ=both)) == f"{TOKEN}-env"
    assert acl_token(BackendSettings(environ={})) == ""
    missing = {"CONSUL_HTTP_TOKEN_FILE": str(tmp_path / "none")}
    with pytest.raises(ConfigError, match=r"^cannot read the consul ACL token file .*/none \(CONSUL_HTTP_TOKEN_FILE\): No such file or directory$"):
        acl_token(BackendSettings(environ=missing))


@pytest.mark.parametrize("source", ["flag", "variable", "file"])
def test_acl_token_is_sent_in_the_header(
    fake_consul: Callable[..., FakeConsul], make_backend: Factory, tmp_path: Path, source: str
) -> None:
    server = fake_consul(acl_tokens={TOKEN: ("app/",)})
    server.put("app/k", "v")
    server.put("secret/k", "hidden")
    if source == "flag":
        backend = make_backend(server.endpoint, auth_token=TOKEN)
    elif source == "variable":
        backend = make_backend(server.endpoint, environ={"CONSUL_HTTP_TOKEN": TOKEN})
    else:
        (tmp_path / "token").write_text(TOKEN + "\n")
        backend = make_backend(server.endpoint, environ={"CONSUL_HTTP_TOKEN_FILE": str(tmp_path / "token")})
    assert backend.get_values(["/app", "/"]).values == {"/app/k": "v"}
    assert all(r.headers.get("x-consul-token") == TOKEN for r in server.requests)
    assert all(TOKEN not in r.path and "token" not in r.query for r in server.requests)


def test_acl_refusals_are_clear_and_hide_the_token(fake_consul: Callable[..., FakeConsul], make_backend: Factory) -> None:
    server = fake_consul(acl_tokens={TOKEN: ("app/",)})
    server.put("secret/k", "hidden")
    for token, answer in (("wrong-" + TOKEN, "ACL not found"), (TOKEN, "Permission denied")):
        backend = make_backend(server.endpoint, auth_token=token)
        with pytest.raises(BackendError) as caught:
            backend.get_values(["/secret"])
        assert str(caught.value) == (
            f"consul at {server.url}: 403 Forbidden: {answer} (the ACL token comes from -auth-token, "
            "CONSUL_HTTP_TOKEN_FILE or CONSUL_HTTP_TOKEN)"
        )
        assert not isinstance(caught.value, BackendUnavailable)


def test_basic_auth(fake_consul: Callable[..., FakeConsul], make_backend: Factory) -> None:
    server = fake_consul(basic_auth=("confd", "pa:ss"))
    server.put("k", "v")
    assert make_backend(server.endpoint, basic_auth=True, username="confd", password="pa:ss").get_values(["/k"]).values == {"/k": "v"}
    with pytest.raises(BackendError, match=r"401 Unauthorized"):
        make_backend(server.endpoint).get_values(["/k"])


def test_tls_with_client_certificates(fake_consul: Callable[..., FakeConsul], make_backend: Factory, tmp_path: Path) -> None:
    tls = make_tls_files(tmp_path / "tls")
    server = fake_consul(tls=tls)
    server.put("k", "over tls")
    files = {"client_cert": str(tls.client_cert), "client_key": str(tls.client_key), "client_cakeys": str(tls.ca)}
    assert make_backend(server.endpoint, scheme="https", **files).get_values(["/k"]).values == {"/k": "over tls"}
    assert make_backend(server.url, **files).get_values(["/k"]).values == {"/k": "over tls"}
    with pytest.raises(BackendUnavailable, match=rf"^cannot reach consul at {server.url}: "):
        make_backend(server.url, client_cakeys=str(tls.ca)).get_values(["/k"])  # no client certificate
    with pytest.raises(BackendUnavailable, match="certificate verify failed"):
        make_backend(server.url, client_cert=files["client_cert"], client_key=files["client_key"]).get_values(["/k"])


# -- watch ----------------------------------------------------------------------------------


def test_watch_blocks_on_the_common_prefix_and_emits_changes(
    consul: FakeConsul, consul_prefix: str, backend: ConsulBackend
) -> None:
    p = consul_prefix
    consul.put(f"{p}/nginx-80/a", "1")
    start = backend.get_values([f"/{p}/nginx-80", f"/{p}/nginx-81"])
    consul.requests.clear()
    run = WatchRun(backend, [f"/{p}/nginx-80", f"/{p}/nginx-81"], start.index)
    time.sleep(0.2)
    assert run.events == []  # nothing changed since the caller's read: nothing to say
    consul.put(f"{p}/nginx-80/b", "2")
    run.wait_mirror({f"/{p}/nginx-80/a": "1", f"/{p}/nginx-80/b": "2"})
    consul.put(f"{p}/nginx-9/x", "under the common prefix, not a watched key")
    consul.put(f"{p}/nginx-81/c", "3")
    run.wait_mirror({f"/{p}/nginx-80/a": "1", f"/{p}/nginx-80/b": "2", f"/{p}/nginx-81/c": "3"})
    consul.delete(f"{p}/nginx-80", recurse=True)
    run.wait_mirror({f"/{p}/nginx-81/c": "3"})
    assert run.stop() < 0.5
    assert run.outcome == {"result": None}
    assert all(isinstance(e, Snapshot) for e in run.events) and len(run.events) == 3
    queries = consul.blocking_requests()
    assert {r.path for r in queries} == {f"/v1/kv/{p}/nginx-8"}
    assert all(r.query["wait"] == ["60s"] and int(r.query["index"][0]) >= 1 for r in queries)
    assert int(queries[0].query["index"][0]) == start.index


def test_an_index_going_backwards_starts_over_from_zero(
    consul: FakeConsul, consul_prefix: str, backend: ConsulBackend
) -> None:
    p = consul_prefix
    consul.put(f"{p}/k", "old")
    older = consul.snapshot()
    consul.put(f"{p}/k", "new")
    run = WatchRun(backend, [f"/{p}"], backend.get_values([f"/{p}"]).index)
    time.sleep(0.2)
    consul.requests.clear()
    consul.restore(older)  # a raft snapshot restored: the index goes backwards
    run.wait_mirror({f"/{p}/k": "old"})
    deadline = time.monotonic() + 5
    while len(consul.blocking_requests()) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    # The query blocked on the newer index returned at the restore, with an older one:
    # the next query starts from 0, and the one after waits on the restored index.
    indexes = [int(r.query["index"][0]) for r in consul.blocking_requests()]
    assert indexes[0] == 0 and indexes[1:] and set(indexes[1:]) == {older.index}, indexes
    consul.put(f"{p}/k", "after the restore")
    run.wait_mirror({f"/{p}/k": "after the restore"})
    run.stop()


def test_an_index_of_zero_is_never_waited_on(consul: FakeConsul, consul_prefix: str, backend: ConsulBackend) -> None:
    """Consul bugs answered X-Consul-Index: 0, and a client waiting on 0 busy-loops."""
    consul.put(f"{consul_prefix}/k", "v")
    consul.index_override = 0
    consul.requests.clear()
    run = WatchRun(backend, [f"/{consul_prefix}"], None)
    run.wait_mirror({f"/{consul_prefix}/k": "v"})
    time.sleep(1.0)
    queries = consul.blocking_requests()
    assert [r.query["index"] for r in queries[:2]] == [["0"], ["1"]]
    assert len(queries) <= 3, len(queries)  # blocked on 1, not looping
    consul.index_override = None
    run.stop()


def test_an_index_that_is_not_a_number_is_paced_by_the_rate_limit(
    consul: FakeConsul, consul_prefix: str, backend: ConsulBackend
) -> None:
    consul.put(f"{consul_prefix}/k", "v")
    consul.index_override = "not-a-number"
    consul.requests.clear()
    run = WatchRun(backend, [f"/{consul_prefix}"], None)
    run.wait_mirror({f"/{consul_prefix}/k": "v"})
    consul.put(f"{consul_prefix}/k", "w")
    run.wait_mirror({f"/{consul_prefix}/k": "w"})
    time.sleep(1.0)
    queries = consul.blocking_requests()
    assert [r.query["index"] for r in queries[:2]] == [["0"], ["1"]]
    assert len(queries) <= 4 + 5, len(queries)  # the burst, then four a second
    consul.index_override = None
    run.stop()


def test_churn_is_rate_limited(consul: FakeConsul, consul_prefix: str, backend: ConsulBackend) -> None:
    run = WatchRun(backend, [f"/{consul_prefix}"], backend.get_values([f"/{consul_prefix}"]).index)
    consul.requests.clear()
    deadline = time.monotonic() + 2.0
    i = 0
    while time.monotonic() < deadline:
        consul.put(f"{consul_prefix}/k", str(i))
        i += 1
        time.sleep(0.005)
    queries = len(consul.blocking_requests())
    run.wait_mirror({f"/{consul_prefix}/k": str(i - 1)}, timeout=5)
    run.stop()
    # A burst of four, then four a second: a dozen over two seconds, not hundreds.
    assert 4 <= queries <= 13, (queries, i)


def test_server_gone_during_watch_is_unavailable(consul: FakeConsul, consul_prefix: str, backend: ConsulBackend) -> None:
    run = WatchRun(backend, [f"/{consul_prefix}"], backend.get_values([f"/{consul_prefix}"]).index)
    time.sleep(0.2)
    consul.stop()
    try:
        outcome = run.finished(5)
        error = outcome.get("error")
        assert isinstance(error, BackendUnavailable), outcome
        assert str(error).startswith(f"cannot reach consul at {consul.url}: ")
    finally:
        consul.start()
    consul.put(f"{consul_prefix}/k", "after the restart")
    again = WatchRun(backend, [f"/{consul_prefix}"], None)
    again.wait_mirror({f"/{consul_prefix}/k": "after the restart"})
    again.stop()


def test_close_ends_a_blocked_watch(consul: FakeConsul, consul_prefix: str, make_backend: Factory) -> None:
    backend = make_backend(consul.endpoint)
    run = WatchRun(backend, [f"/{consul_prefix}"], backend.get_values([f"/{consul_prefix}"]).index)
    time.sleep(0.2)
    started = time.monotonic()
    run.stop_signal.set()
    backend.close()
    run.thread.join(5)
    assert not run.thread.is_alive() and time.monotonic() - started < 3
    assert run.outcome == {"result": None}
