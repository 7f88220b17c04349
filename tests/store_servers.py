"""Real redis-server and ZooKeeper processes for the tests, on free loopback ports.

Like ``servers.EtcdServer``: each is killed with the test process (PR_SET_PDEATHSIG),
``stop()`` kills it as a crash would and ``start()`` brings it back on the same port with
the same data. Test data is written with the servers' own clients (redis-py, kazoo) or
the raw protocol, never through confpy, so a bug in a backend cannot hide one here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servers import free_port, kill_group, log_tail, spawn

__all__ = [
    "REDIS_BINARY",
    "ZOOKEEPER_JAR",
    "RedisServer",
    "ZooKeeperServer",
    "four_letter_word",
    "require_redis",
    "require_zookeeper",
]

REDIS_BINARY = "/usr/bin/redis-server"
ZOOKEEPER_JAR = "/usr/share/java/zookeeper.jar"  # Debian's zookeeper package
# The jar's manifest lists its dependencies; slf4j-simple only makes its log readable.
_SLF4J_BINDING = "/usr/share/java/slf4j-simple.jar"


def _missing(what: str, package: str) -> None:
    import pytest

    pytest.fail(
        f"{what} is not installed (Debian package {package}); run `make test`, which "
        "installs it before running the tests",
        pytrace=False,
    )


def require_redis() -> str:
    binary = REDIS_BINARY if os.access(REDIS_BINARY, os.X_OK) else shutil.which("redis-server")
    if not binary:
        _missing("redis-server", "redis-server")
    return str(binary)


def require_zookeeper() -> str:
    java = shutil.which("java")
    if not java or not os.path.exists(ZOOKEEPER_JAR):
        _missing("ZooKeeper", "zookeeper")
    return str(java)


@dataclass
class RedisServer:
    """A redis-server on a loopback port and a unix socket, its data in ``base_dir``.

    Writes go to an append-only file synced at each write, so a server killed with
    SIGKILL and started again still has its keys. ``notify_keyspace_events`` is the
    server's setting at start ("" is redis' default: off); ``password`` makes it require
    AUTH; ``acl`` lines are applied to the default user at start (e.g. ``-config`` to
    refuse CONFIG).
    """

    binary: str
    base_dir: Path
    notify_keyspace_events: str = ""
    password: str = ""
    acl: tuple[str, ...] = ()
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _client: Any = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def unix_socket(self) -> Path:
        return self.base_dir / "redis.sock"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "redis.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 20.0) -> None:
        if self.running:
            return
        data = self.base_dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        argv = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--unixsocket", str(self.unix_socket),
            "--unixsocketperm", "700",
            "--dir", str(data),
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--notify-keyspace-events", self.notify_keyspace_events,
            "--daemonize", "no",
            "--loglevel", "warning",
            "--logfile", "",
        ]  # fmt: skip
        if self.password:
            argv += ["--requirepass", self.password]
        self.process = spawn(argv, self.log_path, self.base_dir)
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}:\n{log_tail(self.log_path)}")
            try:
                self.client.ping()
                break
            except Exception as exc:  # loading the AOF, not listening yet...
                last = repr(exc)
                self._close_client()
            time.sleep(0.02)
        else:
            self.stop()
            raise RuntimeError(f"redis-server on {self.endpoint} not ready after {timeout}s ({last})")
        for rule in self.acl:
            self.client.execute_command("ACL", "SETUSER", "default", *rule.split())

    def stop(self, sig: int = signal.SIGKILL) -> None:
        self._close_client()
        kill_group(self.process, sig)
        self.process = None

    def _close_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def client(self) -> Any:
        """A redis-py client on the server's db 0 (``.client.set(k, v)``...)."""
        if self._client is None:
            import redis

            self._client = redis.Redis(
                host="127.0.0.1", port=self.port, password=self.password or None,
                socket_timeout=10, decode_responses=True,
            )  # fmt: skip
        return self._client

    def db(self, number: int) -> Any:
        """A client on database ``number``; the caller closes it."""
        import redis

        return redis.Redis(
            host="127.0.0.1", port=self.port, db=number, password=self.password or None,
            socket_timeout=10, decode_responses=True,
        )  # fmt: skip

    def config_set(self, name: str, value: str) -> None:
        self.client.config_set(name, value)

    def config_get(self, name: str) -> str:
        return str(self.client.config_get(name)[name])

    def clients(self, kind: str = "") -> list[dict[str, Any]]:
        """CLIENT LIST (of ``kind``: normal, pubsub...), our own connection left out."""
        me = self.client.client_id()
        listed = self.client.client_list(_type=kind) if kind else self.client.client_list()
        return [c for c in listed if int(c["id"]) != me]


def four_letter_word(port: int, word: str, timeout: float = 5.0) -> str:
    """ZooKeeper's answer to a four-letter command (``ruok``, ``wchs``, ``wchc``...)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(word.encode())
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


@dataclass
class ZooKeeperServer:
    """A standalone ZooKeeper (Debian's 3.8) on a loopback port, data in ``base_dir``.

    ``tick_ms`` is ZooKeeper's tickTime: sessions last between 2 and 20 ticks, so the
    500 ms used here lets tests expire a session within seconds. Every four-letter word
    is allowed (``watches()`` counts the server-side watches with ``wchs``).
    """

    java: str
    base_dir: Path
    tick_ms: int = 500
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _client: Any = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "zookeeper.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 60.0) -> None:
        if self.running:
            return
        data = self.base_dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.base_dir / "zoo.cfg"
        config.write_text(
            f"tickTime={self.tick_ms}\n"
            f"dataDir={data}\n"
            f"clientPort={self.port}\n"
            "clientPortAddress=127.0.0.1\n"
            "maxClientCnxns=0\n"
            "admin.enableServer=false\n"
            "4lw.commands.whitelist=*\n"
        )
        argv = [
            self.java,
            "-Xmx256m",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-cp", f"{ZOOKEEPER_JAR}:{_SLF4J_BINDING}",
            "org.apache.zookeeper.server.ZooKeeperServerMain",
            str(config),
        ]  # fmt: skip
        self.process = spawn(argv, self.log_path, self.base_dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ZooKeeper exited with {self.process.returncode}:\n{log_tail(self.log_path)}")
            with contextlib.suppress(OSError):
                if four_letter_word(self.port, "ruok", timeout=1.0) == "imok":
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"ZooKeeper on {self.endpoint} not ready after {timeout}s:\n{log_tail(self.log_path)}")

    def stop(self, sig: int = signal.SIGKILL) -> None:
        self.close_client()
        kill_group(self.process, sig)
        self.process = None

    def close_client(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.stop()
                self._client.close()
            self._client = None

    @property
    def client(self) -> Any:
        """A connected kazoo client for setting up data (``.client.create(...)``)."""
        if self._client is None:
            from kazoo.client import KazooClient

            client = KazooClient(hosts=self.endpoint, timeout=10.0)
            client.start(timeout=15)
            self._client = client
        return self._client

    def put(self, path: str, value: str) -> None:
        """Set ``path`` (making its parents) to ``value``."""
        client = self.client
        if client.exists(path):
            client.set(path, value.encode())
        else:
            client.create(path, value.encode(), makepath=True)

    def delete(self, path: str, recursive: bool = False) -> None:
        self.client.delete(path, recursive=recursive)

    def watches(self) -> int:
        """Server-side watches of every session (``wchs``' "Total watches")."""
        for line in four_letter_word(self.port, "wchs").splitlines():
            if line.startswith("Total watches:"):
                return int(line.split(":", 1)[1])
        raise AssertionError("wchs answered without a total")

    def watched_paths(self) -> dict[str, list[str]]:
        """``wchc``: session id (hex) -> the paths it watches."""
        sessions: dict[str, list[str]] = {}
        current: list[str] | None = None
        for line in four_letter_word(self.port, "wchc").splitlines():
            if line.startswith("0x"):
                current = sessions.setdefault(line.strip(), [])
            elif line.strip().startswith("/") and current is not None:
                current.append(line.strip())
        return sessions
