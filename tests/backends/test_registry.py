"""Backend lookup by name, confd's default nodes, and lazy imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from confpy.backends.base import BackendSettings
from confpy.backends.env import EnvBackend
from confpy.backends.file import FileBackend
from confpy.backends.registry import backend_names, create_backend, default_nodes
from confpy.errors import ConfigError


def test_importing_the_registry_loads_no_http_or_yaml_library() -> None:
    code = (
        "import sys, confpy.backends.registry as r\n"
        "assert 'httpx' not in sys.modules and 'yaml' not in sys.modules, sorted(sys.modules)\n"
        "r.create_backend(r.BackendSettings(backend='env'))\n"
        "assert 'httpx' not in sys.modules and 'yaml' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


def test_names() -> None:
    assert backend_names() == ("consul", "env", "etcd", "etcdv3", "file", "redis", "zookeeper")


def test_unknown_backend_lists_the_valid_ones() -> None:
    with pytest.raises(
        ConfigError, match=r"^Invalid backend 'etcd2': valid backends are consul, env, etcd, etcdv3, file, redis, zookeeper$"
    ):
        create_backend(BackendSettings(backend="etcd2"))


def test_create_each_backend() -> None:
    env = create_backend(BackendSettings(backend="env", environ={}))
    assert isinstance(env, EnvBackend) and env.name == "env"
    file = create_backend(BackendSettings(backend="file", files=("x.yaml",)))
    assert isinstance(file, FileBackend) and file.sources() == "x.yaml"
    etcd = create_backend(BackendSettings(backend="", nodes=("127.0.0.1:1",)))
    try:
        assert etcd.name == "etcd" and etcd.sources() == "http://127.0.0.1:1"
    finally:
        etcd.close()


def test_default_nodes() -> None:
    assert default_nodes("etcd", {}) == ("http://127.0.0.1:4001",)
    assert default_nodes("", {}) == ("http://127.0.0.1:4001",)
    assert default_nodes("etcd", {"ETCDCTL_PEERS": "http://a:1,http://b:2"}) == (
        "http://a:1",
        "http://b:2",
    )
    assert default_nodes("env", {"ETCDCTL_PEERS": "x"}) == ()
    assert default_nodes("redis", {}) == ("127.0.0.1:6379",)
    assert default_nodes("zookeeper", {}) == ("127.0.0.1:2181",)
    assert default_nodes("consul", {}) == ("127.0.0.1:8500",)
    assert default_nodes("file", {}) == ()


def test_etcd_without_nodes_gets_the_defaults() -> None:
    backend = create_backend(
        BackendSettings(backend="etcd", environ={"ETCDCTL_PEERS": "10.1.1.1:2379,https://h:2379"})
    )
    try:
        assert backend.sources() == "http://10.1.1.1:2379, https://h:2379"
    finally:
        backend.close()
    backend = create_backend(BackendSettings(backend="etcd", environ={}))
    try:
        assert backend.sources() == "http://127.0.0.1:4001"
    finally:
        backend.close()


@pytest.mark.parametrize(
    ("backend", "package", "extra"), [("redis", "redis", "redis"), ("zookeeper", "kazoo", "zookeeper")]
)
def test_a_missing_optional_package_names_the_pip_command(backend: str, package: str, extra: str) -> None:
    """As if the extra were not installed: one FATAL line with the command, exit 1."""
    code = (
        f"import sys; sys.modules[{package!r}] = None\n"
        "from confpy.cli import main\n"
        f"sys.exit(main(['-onetime', '-backend', {backend!r}, '-confdir', '/nonexistent']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1, done.stderr
    fatal = [line for line in done.stderr.splitlines() if " FATAL " in line]
    assert len(fatal) == 1 and "Traceback" not in done.stderr, done.stderr
    assert fatal[0].endswith(
        f"FATAL -backend {backend} needs the Python package {package!r}, which is not installed: "
        f"pip install 'confpy[{extra}]'"
    )
