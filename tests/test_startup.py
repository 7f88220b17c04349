"""What a one-shot run loads: start-up time is a feature, so the modules a run does not
use must stay out of it. Each test runs confpy in a fresh interpreter and lists
``sys.modules`` once it is done."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import make_confdir
from consul_server import FakeConsul
from servers import EtcdServer
from store_servers import RedisServer, ZooKeeperServer

pytestmark = pytest.mark.timeout(60)

TEMPLATE = '{{range gets "/app/*"}}{{.Key}}={{.Value}}\n{{end}}'

# Never needed by -onetime: the second engine, the daemon's pieces, diffing, DNS, clocks
# and zones, durations (parsed only when a duration flag is given), decimal numbers, the
# extended functions (opt-in), and what operates a daemon (metrics, health, systemd, the
# HTTP server: -metrics-addr).
NEVER = {
    "prometheus_client",
    "confpy.metrics",
    "confpy.health",
    "confpy.opsserver",
    "confpy.sdnotify",
    "http.server",
    "jinja2",
    "confpy.jinja",
    "confpy.extfuncs",
    "watchfiles",
    "confpy.daemon",
    "confpy.watch",
    "confpy.dnslookup",
    "confpy.golang.time",
    "confpy.golang.duration",
    "zoneinfo",
    "decimal",
    "difflib",
    "concurrent.futures",
}


def loaded_modules(tmp_path: Path, *args: str) -> set[str]:
    """The modules loaded by ``confpy <args>`` (which must succeed), after it has run."""
    script = (
        "import json, sys\n"
        "from confpy.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print(json.dumps([code, sorted(sys.modules)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=50,
        cwd=tmp_path,
        check=False,
    )
    code, modules = json.loads(done.stdout.splitlines()[-1])  # after what confpy printed
    assert code == 0, done.stderr
    return set(modules)


def confdir(tmp_path: Path, prefix: str = "/") -> Path:
    resource = f'[template]\nsrc = "app.tmpl"\ndest = "{tmp_path / "app.conf"}"\nprefix = "{prefix}"\nkeys = ["/app"]\n'
    return make_confdir(tmp_path / "confdir", {"app.toml": resource}, {"app.tmpl": TEMPLATE})


def test_etcd_one_shot_loads_neither_daemon_nor_yaml_nor_tomllib(
    tmp_path: Path, etcd: EtcdServer, etcd_prefix: str
) -> None:
    etcd.put(f"{etcd_prefix}/app/a", "1")
    root = confdir(tmp_path, etcd_prefix)
    modules = loaded_modules(tmp_path, "-onetime", "-backend", "etcd", "-node", etcd.url, "-confdir", str(root))
    assert (tmp_path / "app.conf").read_text() == "/app/a=1\n"
    assert "httpx" in modules  # the test is looking at the right thing
    # conf.d files in the usual shapes never reach tomllib; one key is one read, without
    # a thread pool (concurrent.futures, in NEVER).
    assert not modules & (NEVER | {"yaml", "tomllib", "tomli"})


def test_env_one_shot_loads_no_http_client(tmp_path: Path) -> None:
    root = confdir(tmp_path)
    modules = loaded_modules(tmp_path, "-onetime", "-backend", "env", "-confdir", str(root))
    assert "confpy.backends.env" in modules
    assert not modules & (NEVER | {"httpx", "httpcore", "yaml", "ssl"})


def test_file_one_shot_loads_no_http_client(tmp_path: Path) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("app:\n  a: 1\n")
    root = confdir(tmp_path)
    modules = loaded_modules(tmp_path, "-onetime", "-backend", "file", "-file", str(data), "-confdir", str(root))
    assert (tmp_path / "app.conf").read_text() == "/app/a=1\n"
    assert "yaml" in modules
    assert not modules & (NEVER | {"httpx", "httpcore"})


def test_jinja_resource_loads_jinja2_and_a_go_one_does_not(tmp_path: Path) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("app:\n  a: 1\n")
    jinja_dest, go_dest = tmp_path / "j.conf", tmp_path / "g.conf"
    root = make_confdir(
        tmp_path / "confdir",
        {
            "j.toml": f'[template]\nsrc = "app.j2"\ndest = "{jinja_dest}"\nkeys = ["/app"]\n',
            "g.toml": f'[template]\nsrc = "app.tmpl"\ndest = "{go_dest}"\nkeys = ["/app"]\n',
        },
        {"app.j2": '{% for p in gets("/app/*") %}{{ p.Key }}={{ p.Value }}\n{% endfor %}', "app.tmpl": TEMPLATE},
    )
    modules = loaded_modules(tmp_path, "-onetime", "-backend", "file", "-file", str(data), "-confdir", str(root))
    assert jinja_dest.read_text() == go_dest.read_text() == "/app/a=1\n"
    assert {"jinja2", "confpy.jinja"} <= modules
    assert not modules & {"confpy.extfuncs", "confpy.daemon", "watchfiles"}
    # The same confdir without the Jinja2 resource: no jinja2.
    (root / "conf.d" / "j.toml").unlink()
    modules = loaded_modules(tmp_path, "-onetime", "-backend", "file", "-file", str(data), "-confdir", str(root))
    assert not modules & NEVER


def test_redis_one_shot_loads_no_http_client(tmp_path: Path, redis: RedisServer, redis_prefix: str) -> None:
    redis.client.set(f"{redis_prefix}/app/a", "1")
    root = confdir(tmp_path, redis_prefix)
    modules = loaded_modules(tmp_path, "-onetime", "-backend", "redis", "-node", redis.endpoint, "-confdir", str(root))
    assert (tmp_path / "app.conf").read_text() == "/app/a=1\n"
    assert "redis" in modules
    # redis-py itself imports concurrent.futures (and asyncio): nothing confpy can keep out.
    assert not modules & ((NEVER - {"concurrent.futures"}) | {"httpx", "kazoo", "yaml", "tomllib", "tomli"})


def test_zookeeper_one_shot_loads_no_http_client(tmp_path: Path, zookeeper: ZooKeeperServer, zk_prefix: str) -> None:
    zookeeper.put(f"{zk_prefix}/app/a", "1")
    root = confdir(tmp_path, zk_prefix)
    modules = loaded_modules(tmp_path, "-onetime", "-backend", "zookeeper", "-node", zookeeper.endpoint, "-confdir", str(root))
    assert (tmp_path / "app.conf").read_text() == "/app/a=1\n"
    assert "kazoo.client" in modules
    assert not modules & (NEVER | {"httpx", "redis", "yaml", "tomllib", "tomli"})


def test_consul_one_shot_loads_neither_redis_nor_kazoo(tmp_path: Path, consul: FakeConsul, consul_prefix: str) -> None:
    consul.put(f"{consul_prefix}/app/a", "1")
    root = confdir(tmp_path, "/" + consul_prefix)
    modules = loaded_modules(tmp_path, "-onetime", "-backend", "consul", "-node", consul.endpoint, "-confdir", str(root))
    assert (tmp_path / "app.conf").read_text() == "/app/a=1\n"
    assert "httpx" in modules
    assert not modules & (NEVER | {"redis", "kazoo", "yaml", "tomllib", "tomli"})


# What an env one-shot run of a Go template loads of confpy, exactly. A module joining it
# costs every cron run; add it here only when it must be there.
ONE_SHOT_MODULES = {
    "confpy", "confpy.backends", "confpy.backends.base", "confpy.backends.env",
    "confpy.backends.registry", "confpy.cli", "confpy.commands", "confpy.errors",
    "confpy.fileio", "confpy.funcs", "confpy.goflag", "confpy.golang", "confpy.golang.arith",
    "confpy.golang.path", "confpy.golang.strconv", "confpy.golang.strings", "confpy.gotemplate",
    "confpy.gotemplate.builtins", "confpy.gotemplate.compiler", "confpy.gotemplate.errors",
    "confpy.gotemplate.expressions", "confpy.gotemplate.fmtvalue", "confpy.gotemplate.gofmt",
    "confpy.gotemplate.gotypes", "confpy.gotemplate.lexer", "confpy.gotemplate.nodes",
    "confpy.gotemplate.numbers",  # the parser's number literals, split out of parser.py
    "confpy.gotemplate.parser", "confpy.gotemplate.runtime", "confpy.gotemplate.template",
    "confpy.gotemplate.values", "confpy.log", "confpy.observe", "confpy.partials", "confpy.pending", "confpy.plan",
    "confpy.problems",  # conf.d problems as records (unknown fields warned about); no import of its own
    "confpy.processor", "confpy.render", "confpy.resources", "confpy.settings", "confpy.staging", "confpy.store",
    "confpy.sync", "confpy.tomlread",
}  # fmt: skip
# Every module of the run, confpy's and Python's, at most (measured: 152 on Python 3.11).
ONE_SHOT_MODULE_COUNT = 160


def test_the_one_shot_import_set_does_not_grow(tmp_path: Path) -> None:
    root = confdir(tmp_path)
    modules = loaded_modules(tmp_path, "-onetime", "-backend", "env", "-confdir", str(root))
    assert {m for m in modules if m.split(".")[0] == "confpy"} == ONE_SHOT_MODULES
    assert len(modules) <= ONE_SHOT_MODULE_COUNT, sorted(modules)


def test_diff_loads_difflib_only_when_a_diff_is_shown(tmp_path: Path) -> None:
    root = confdir(tmp_path)
    args = ("-onetime", "-backend", "env", "-confdir", str(root))
    # -diff without -noop diffs at debug level only; at info nothing is diffed.
    modules = loaded_modules(tmp_path, *args, "-diff")
    assert (tmp_path / "app.conf").exists()
    assert not modules & NEVER
    (tmp_path / "app.conf").write_text("other\n")
    modules = loaded_modules(tmp_path, *args, "-diff", "-noop")
    assert {"difflib", "confpy.diff"} <= modules
