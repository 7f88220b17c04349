"""Backend name -> implementation, imported only when that backend is used.

Importing this module pulls in no HTTP or YAML library: each backend module is imported
by name in ``create_backend``, so ``-backend env`` never loads httpx, and redis-py or
kazoo (optional extras) are needed only by the backend that uses them.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from confpy.backends.base import Backend, BackendSettings
from confpy.errors import ConfigError

__all__ = ["backend_names", "canonical_name", "create_backend", "default_nodes"]

# "module:Class" for each -backend name confd accepts that confpy implements.
_BACKENDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "etcd": "confpy.backends.etcd:EtcdV2Backend",
        "etcdv3": "confpy.backends.etcdv3:EtcdV3Backend",
        "file": "confpy.backends.file:FileBackend",
        "env": "confpy.backends.env:EnvBackend",
        "redis": "confpy.backends.redis:RedisBackend",
        "zookeeper": "confpy.backends.zookeeper:ZooKeeperBackend",
        "consul": "confpy.backends.consul:ConsulBackend",
    }
)

# Backends whose client library is an optional extra: name -> (top-level module, extra).
_EXTRAS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {"redis": ("redis", "redis"), "zookeeper": ("kazoo", "zookeeper")}
)

# confd's default nodes when none are configured; etcd's come from
# ETCDCTL_PEERS first.
_DEFAULT_NODES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "etcd": ("http://127.0.0.1:4001",),
        "etcdv3": ("127.0.0.1:2379",),
        "consul": ("127.0.0.1:8500",),
        "redis": ("127.0.0.1:6379",),
        "zookeeper": ("127.0.0.1:2181",),
    }
)


def backend_names() -> tuple[str, ...]:
    """The names ``-backend`` accepts, sorted."""
    return tuple(sorted(_BACKENDS))


def canonical_name(name: str) -> str:
    """The backend ``name`` stands for ("" is etcd); ConfigError for an unknown one."""
    name = name or "etcd"  # confd: an empty backend name means etcd
    if name not in _BACKENDS:
        raise ConfigError(
            f"Invalid backend {name!r}: valid backends are {', '.join(backend_names())}"
        )
    return name


def default_nodes(backend: str, environ: Mapping[str, str]) -> tuple[str, ...]:
    """The nodes confd uses for ``backend`` when no ``-node`` is given (may be empty)."""
    backend = backend or "etcd"
    if backend == "etcd":
        peers = environ.get("ETCDCTL_PEERS", "")
        if peers:
            return tuple(peers.split(","))
    return _DEFAULT_NODES.get(backend, ())


def create_backend(settings: BackendSettings) -> Backend:
    """A ready backend for ``settings.backend``; ``ConfigError`` for an unknown name.

    A backend that needs nodes and has none gets confd's defaults (read from
    ``settings.environ``, else the process environment).
    """
    name = canonical_name(settings.backend)
    if not settings.nodes:
        nodes = default_nodes(name, os.environ if settings.environ is None else settings.environ)
        if nodes:
            settings = settings._replace(nodes=nodes)
    module_name, _, class_name = _BACKENDS[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        package, extra = _EXTRAS.get(name, ("", ""))
        if package and (exc.name or "").partition(".")[0] == package:
            raise ConfigError(
                f"-backend {name} needs the Python package {package!r}, which is not "
                f"installed: pip install 'confpy[{extra}]'"
            ) from None
        raise
    backend_class = getattr(module, class_name)
    backend: Backend = backend_class(settings)
    return backend
