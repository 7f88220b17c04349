"""``confpy -onetime`` and ``-interval`` against redis, zookeeper and consul, through the
command line as users run it: the Registrator walk-through renders the same bytes as with
etcd, missing keys are absent, and every bad node, unreachable server or refused secret
is one clear line, exit 1, the dest untouched, the secret nowhere in the output.

Redis and ZooKeeper are real servers; consul is tests/consul_server.py (see there).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from cli_helpers import Run, make_confdir, run_confpy, stage_files
from conftest import REDIS_PASSWORD
from consul_server import FakeConsul
from daemon_helpers import ConfpyDaemon, read, wait_until
from servers import dead_endpoint
from store_adapters import STORES, Store, store_for
from store_servers import RedisServer

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "registrator-nginx"
CONTAINERS = {"3f1c2b9a7d10": "10.100.194.202:1234", "9e8d7c6b5a40": "10.100.194.203:1234"}
KNOWN = b"# known content, written by the test\n"

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> Store:
    return store_for(request, request.param)


def nginx_site(root: Path, prefix: str, keys: tuple[str, ...] = ("/nginx-80",)) -> tuple[Path, Path]:
    """The example's nginx resource under ``prefix``: (confdir, dest)."""
    dest = root / "out" / "nginx.conf"
    dest.parent.mkdir(parents=True, exist_ok=True)
    resource = "[template]\n" + "".join(
        f"{k} = {json.dumps(v)}\n"
        for k, v in {"src": "nginx.conf.tmpl", "dest": str(dest), "prefix": prefix, "keys": list(keys), "mode": "0644"}.items()
    )
    confdir = make_confdir(
        root / "confd",
        {"nginx.toml": resource},
        {"nginx.conf.tmpl": (EXAMPLE / "templates" / "nginx.conf.tmpl").read_text()},
    )
    return confdir, dest


def onetime(store: Store, confdir: Path, *args: str) -> Run:
    return run_confpy("-onetime", *store.args(), "-confdir", str(confdir), *args)


def test_registrator_walkthrough_renders_the_etcd_bytes(store: Store, tmp_path: Path) -> None:
    for container, address in CONTAINERS.items():
        store.put(f"{store.prefix}/nginx-80/{container}", address)
    confdir, dest = nginx_site(tmp_path, store.prefix)
    run = onetime(store, confdir)
    assert run.code == 0, run.stderr
    assert dest.read_bytes() == (EXAMPLE / "expected" / "nginx.conf").read_bytes()
    assert run.messages("INFO")[:3] == [
        f"Backend set to {store.backend}",
        "Starting confd",
        f"Backend source(s) set to {store.source}",
    ]
    assert run.errors == []
    again = onetime(store, confdir)
    assert again.code == 0 and again.messages("INFO")[3:] == []  # in sync: nothing written


def test_missing_keys_and_directories_are_absent(store: Store, tmp_path: Path) -> None:
    confdir, dest = nginx_site(tmp_path, store.prefix, keys=("/nginx-80", "/nothing/here"))
    run = onetime(store, confdir)
    assert run.code == 0, run.stderr
    assert "server 127.0.0.1:1 down;  # no container registered" in dest.read_text()


@pytest.mark.parametrize(
    ("backend", "node", "message"),
    [
        ("redis", "localhost", "invalid redis node 'localhost': want host:port, host:port/<db> or the path of a unix socket"),
        ("redis", "127.0.0.1:6379/db1", "invalid redis node '127.0.0.1:6379/db1': want host:port, host:port/<db> or the path of a unix socket"),
        ("redis", "127.0.0.1:99999", "invalid redis node '127.0.0.1:99999': want host:port, host:port/<db> or the path of a unix socket"),
        ("zookeeper", "zk1:2181/chroot", "invalid zookeeper node 'zk1:2181/chroot': want host:port"),
        ("zookeeper", "zk1:port", "invalid zookeeper node 'zk1:port': want host:port"),
        ("consul", "127.0.0.1:port", "invalid consul node 'http://127.0.0.1:port': the port is not a number"),
        ("consul", "tcp://127.0.0.1:8500", "invalid consul node 'tcp://127.0.0.1:8500': want http://host:port or https://host:port"),
    ],
)
def test_bad_node_strings(tmp_path: Path, backend: str, node: str, message: str) -> None:
    confdir, dest = nginx_site(tmp_path, "/x")
    dest.write_bytes(KNOWN)
    run = run_confpy("-onetime", "-backend", backend, "-node", node, "-confdir", str(confdir))
    assert run.code == 1
    assert run.one_error() == message
    assert dest.read_bytes() == KNOWN


@pytest.mark.parametrize("backend", STORES)
def test_unreachable_store(tmp_path: Path, backend: str) -> None:
    confdir, dest = nginx_site(tmp_path, "/x")
    dest.write_bytes(KNOWN)
    node = dead_endpoint()
    run = run_confpy("-onetime", "-backend", backend, "-node", node, "-confdir", str(confdir))
    assert run.code == 1
    shown = f"http://{node}" if backend == "consul" else node
    assert run.one_error() == f"cannot reach {backend} at {shown}: connection refused"
    assert dest.read_bytes() == KNOWN and stage_files(str(dest)) == []
    assert run.elapsed < 10


def test_redis_unix_socket_and_database_nodes(redis: RedisServer, redis_prefix: str, tmp_path: Path) -> None:
    with redis.db(5) as db5:
        for container, address in CONTAINERS.items():
            db5.set(f"{redis_prefix}/nginx-80/{container}", address)
    confdir, dest = nginx_site(tmp_path, redis_prefix)
    run = run_confpy("-onetime", "-backend", "redis", "-node", f"{redis.endpoint}/5", "-confdir", str(confdir))
    assert run.code == 0, run.stderr
    assert dest.read_bytes() == (EXAMPLE / "expected" / "nginx.conf").read_bytes()
    for container, address in CONTAINERS.items():
        redis.client.set(f"{redis_prefix}/nginx-80/{container}", address)
    dest.unlink()
    dead = dead_endpoint()
    run = run_confpy("-onetime", "-backend", "redis", "-node", dead, "-node", str(redis.unix_socket), "-confdir", str(confdir))
    assert run.code == 0, run.stderr
    assert dest.read_bytes() == (EXAMPLE / "expected" / "nginx.conf").read_bytes()


def test_redis_separator(redis: RedisServer, redis_prefix: str, tmp_path: Path) -> None:
    p = redis_prefix.lstrip("/")
    for container, address in CONTAINERS.items():
        redis.client.set(f"{p}:nginx-80:{container}", address)
    confdir, dest = nginx_site(tmp_path, redis_prefix)
    run = run_confpy("-onetime", "-backend", "redis", "-node", redis.endpoint, "-separator", ":", "-confdir", str(confdir))
    assert run.code == 0, run.stderr
    assert dest.read_bytes() == (EXAMPLE / "expected" / "nginx.conf").read_bytes()


@pytest.mark.parametrize("flag", ["-client-key", "-password"])
def test_redis_password_never_shows(redis_secured: RedisServer, tmp_path: Path, flag: str) -> None:
    for container, address in CONTAINERS.items():
        redis_secured.client.set(f"/pw/nginx-80/{container}", address)
    confdir, dest = nginx_site(tmp_path, "/pw")
    good = run_confpy(
        "-onetime", "-log-level", "debug", "-backend", "redis", "-node", redis_secured.endpoint, flag, REDIS_PASSWORD,
        "-confdir", str(confdir),
    )  # fmt: skip
    assert good.code == 0, good.stderr
    dest.write_bytes(KNOWN)
    bad = run_confpy(
        "-onetime", "-log-level", "debug", "-backend", "redis", "-node", redis_secured.endpoint, flag, REDIS_PASSWORD + "x",
        "-confdir", str(confdir),
    )  # fmt: skip
    assert bad.code == 1
    assert bad.one_error().startswith(f"redis at {redis_secured.endpoint} refused the password: ")
    assert dest.read_bytes() == KNOWN
    for run in (good, bad):
        assert REDIS_PASSWORD not in run.stderr + run.stdout


def test_consul_token_never_shows(fake_consul: object, tmp_path: Path) -> None:
    token = "b1946ac9-2f2e-4a1a-9c5e-secret-token"
    server: FakeConsul = fake_consul(acl_tokens={token: ("app/",)})  # type: ignore[operator]
    for container, address in CONTAINERS.items():
        server.put(f"app/nginx-80/{container}", address)
    confdir, dest = nginx_site(tmp_path, "/app")
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    good = run_confpy(
        "-onetime", "-log-level", "debug", "-backend", "consul", "-node", server.endpoint, "-confdir", str(confdir),
        env={"CONSUL_HTTP_TOKEN_FILE": str(token_file)},
    )  # fmt: skip
    assert good.code == 0, good.stderr
    assert dest.read_bytes() == (EXAMPLE / "expected" / "nginx.conf").read_bytes()
    dest.write_bytes(KNOWN)
    confdir_secret, _ = nginx_site(tmp_path / "secret", "/secret")
    refused = run_confpy(
        "-onetime", "-log-level", "debug", "-backend", "consul", "-node", server.endpoint, "-auth-token", token,
        "-confdir", str(confdir_secret),
    )  # fmt: skip
    assert refused.code == 1
    assert refused.one_error() == (
        f"consul at {server.url}: 403 Forbidden: Permission denied (the ACL token comes from -auth-token, "
        "CONSUL_HTTP_TOKEN_FILE or CONSUL_HTTP_TOKEN)"
    )
    unknown = run_confpy(
        "-onetime", "-backend", "consul", "-node", server.endpoint, "-confdir", str(confdir),
        env={"CONSUL_HTTP_TOKEN": token + "-revoked"},
    )  # fmt: skip
    assert unknown.code == 1 and "403 Forbidden: ACL not found" in unknown.one_error()
    assert dest.read_bytes() == KNOWN
    for run in (good, refused, unknown):
        assert token not in run.stderr + run.stdout


@pytest.mark.timeout(40)
def test_interval_mode_follows_each_tick(store: Store, tmp_path: Path) -> None:
    store.put(f"{store.prefix}/nginx-80/a", "10.0.0.1:80")
    confdir, dest = nginx_site(tmp_path, store.prefix)
    daemon = ConfpyDaemon(["-interval", "1", *store.args(), "-confdir", str(confdir)], tmp_path / "confpy.log").start()
    try:
        wait_until(lambda: "server 10.0.0.1:80;" in (read(dest) or ""), 15, "the first tick")
        store.put(f"{store.prefix}/nginx-80/b", "10.0.0.2:80")
        wait_until(lambda: "server 10.0.0.2:80;" in (read(dest) or ""), 5, "the next tick")
        store.delete(f"{store.prefix}/nginx-80/a")
        wait_until(lambda: "10.0.0.1:80" not in (read(dest) or "x"), 5, "a deletion at a tick")
        assert daemon.stop() == 0
    finally:
        daemon.kill()


def test_a_store_down_at_an_interval_tick_keeps_the_file(store: Store, tmp_path: Path) -> None:
    store.put(f"{store.prefix}/nginx-80/a", "10.0.0.1:80")
    confdir, dest = nginx_site(tmp_path, store.prefix)
    daemon = ConfpyDaemon(
        ["-interval", "1", *store.args("-backend-timeout", "1s"), "-confdir", str(confdir)], tmp_path / "confpy.log"
    ).start()
    try:
        wait_until(lambda: "server 10.0.0.1:80;" in (read(dest) or ""), 15, "the first tick")
        written = dest.read_bytes()
        store.stop()
        try:
            time.sleep(2.5)
            assert dest.read_bytes() == written and stage_files(str(dest)) == []
        finally:
            store.start()
        store.put(f"{store.prefix}/nginx-80/b", "10.0.0.2:80")
        wait_until(lambda: "server 10.0.0.2:80;" in (read(dest) or ""), 20, "a tick after the outage")
        assert len(daemon.log_lines("Reading the store failed")) == 1, daemon.log()
        assert daemon.stop() == 0
        assert "Traceback" not in daemon.log()
    finally:
        daemon.kill()

