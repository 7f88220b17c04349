"""Helpers for daemon tests: a confpy daemon in a subprocess, a three-member etcd cluster,
counting a process's TCP connections, and waiting for conditions with a deadline."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from servers import _die_with_parent, free_port, kill_group, require_etcd, spawn

ROOT = Path(__file__).resolve().parents[1]
# An nginx upstream of the Registrator layout's /nginx-80 keys, one server line each.
TEMPLATE = '{{range gets "/nginx-80/*"}}server {{.Value}};\n{{end}}'


def write_resource(confdir: Path, name: str, prefix: str, *, dest: Path, keys: str = '["/nginx-80"]', extra: str = "") -> None:
    (confdir / "conf.d").mkdir(parents=True, exist_ok=True)
    (confdir / "templates").mkdir(parents=True, exist_ok=True)
    (confdir / "templates" / "upstream.tmpl").write_text(TEMPLATE)
    (confdir / "conf.d" / f"{name}.toml").write_text(
        f'[template]\nsrc = "upstream.tmpl"\ndest = "{dest}"\nprefix = "{prefix}"\nkeys = {keys}\n{extra}'
    )


def start(daemons: list[ConfpyDaemon], tmp_path: Path, *args: str) -> ConfpyDaemon:
    """A confpy daemon with ``args``, logging to its own file, killed after the test
    (``daemons`` is conftest's fixture)."""
    daemon = ConfpyDaemon(list(args), tmp_path / f"confpy-{len(daemons)}.log").start()
    daemons.append(daemon)
    return daemon


def reloads(counter: Path) -> int:
    """How many times a ``reload_cmd = "echo reload >> counter"`` ran."""
    text = read(counter)
    return len(text.splitlines()) if text else 0


def upstream(*addresses: str) -> str:
    return "".join(f"server {a};\n" for a in addresses)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.02) -> None:
    """Poll ``predicate`` until it holds; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


@dataclass
class ConfpyDaemon:
    """``python -m confpy <args>`` in the background, its log in ``log_path``."""

    args: Sequence[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> ConfpyDaemon:
        env = {**os.environ, "TZ": "UTC", "PYTHONUNBUFFERED": "1", **self.env}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "confpy", *self.args],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_lines(self, needle: str) -> list[str]:
        return [line for line in self.log().splitlines() if needle in line]

    def send(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Send ``signum`` and wait for the exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"confpy did not exit within {timeout}s of signal {signum}:\n{self.log()}") from None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def connections_to(self, port: int) -> int:
        """Established TCP connections of this process to ``port`` on loopback."""
        return count_connections(self.pid, port)


def count_connections(pid: int, port: int) -> int:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    count = 0
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                established = fields[3] == "01"
                if established and remote_port == port and fields[9] in inodes:
                    count += 1
    return count


@dataclass
class EtcdCluster:
    """A three-member etcd cluster on loopback (v2 API on), for failover tests."""

    base_dir: Path
    size: int = 3
    client_ports: list[int] = field(default_factory=list)
    peer_ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes] | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client_ports = [free_port() for _ in range(self.size)]
        self.peer_ports = [free_port() for _ in range(self.size)]
        self.processes = [None] * self.size

    def endpoint(self, i: int) -> str:
        return f"127.0.0.1:{self.client_ports[i]}"

    def start(self, timeout: float = 30.0) -> None:
        binary = require_etcd()
        cluster = ",".join(f"m{i}=http://127.0.0.1:{p}" for i, p in enumerate(self.peer_ports))
        for i in range(self.size):
            self.start_member(i, binary, cluster)
        for i in range(self.size):
            self.wait_healthy(i, timeout)

    def start_member(self, i: int, binary: str | None = None, cluster: str | None = None) -> None:
        binary = binary or require_etcd()
        cluster = cluster or ",".join(f"m{j}=http://127.0.0.1:{p}" for j, p in enumerate(self.peer_ports))
        member_dir = self.base_dir / f"m{i}"
        member_dir.mkdir(parents=True, exist_ok=True)
        state = "existing" if (member_dir / "data").exists() else "new"
        argv = [
            binary,
            f"--name=m{i}",
            f"--data-dir={member_dir / 'data'}",
            f"--listen-client-urls=http://{self.endpoint(i)}",
            f"--advertise-client-urls=http://{self.endpoint(i)}",
            f"--listen-peer-urls=http://127.0.0.1:{self.peer_ports[i]}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{self.peer_ports[i]}",
            f"--initial-cluster={cluster}",
            f"--initial-cluster-state={state}",
            "--initial-cluster-token=confpy-test",
            "--enable-v2=true",
            "--logger=zap",
            "--log-level=warn",
        ]
        self.processes[i] = spawn(argv, member_dir / "etcd.log")

    def wait_healthy(self, i: int, timeout: float) -> None:
        def healthy() -> bool:
            try:
                answer = httpx.get(f"http://{self.endpoint(i)}/health", timeout=1.0)
                return answer.status_code == 200 and answer.json().get("health") == "true"
            except (httpx.HTTPError, ValueError):
                return False

        wait_until(healthy, timeout, f"etcd member m{i} to be healthy", interval=0.1)

    def kill(self, i: int) -> None:
        kill_group(self.processes[i], signal.SIGKILL)
        self.processes[i] = None

    def stop(self) -> None:
        for i in range(self.size):
            self.kill(i)

    def put(self, key: str, value: str, member: int, timeout: float = 15.0) -> None:
        """Write through ``member``; retried while the cluster elects a new leader (5xx)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                answer = httpx.put(f"http://{self.endpoint(member)}/v2/keys{key}", data={"value": value}, timeout=5)
                if answer.status_code < 500:
                    answer.raise_for_status()
                    return
                problem = f"{answer.status_code} {answer.text.strip()}"
            except httpx.TransportError as exc:
                problem = repr(exc)
            if time.monotonic() > deadline:
                raise AssertionError(f"cannot write {key} through m{member}: {problem}")
            time.sleep(0.2)
