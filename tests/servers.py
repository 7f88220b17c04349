"""Server processes for the tests: a real etcd member, and a tiny fault-injection server.

The etcd helpers talk to the v2 HTTP API and the v3 JSON gateway directly (with httpx),
independently of the code under test, so a bug in a backend cannot hide a bug in the fixture.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import http.server
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import httpx

__all__ = [
    "ETCD_BINARY",
    "EtcdServer",
    "FaultServer",
    "PostFaultServer",
    "RecordedRequest",
    "TlsFiles",
    "b64",
    "dead_endpoint",
    "free_port",
    "kill_group",
    "log_tail",
    "make_tls_files",
    "put_v3",
    "require_etcd",
    "revision",
    "spawn",
    "v3",
]

ETCD_BINARY = "/usr/bin/etcd"
_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A loopback port nothing listens on right now (the kernel picked it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dead_endpoint() -> str:
    """``127.0.0.1:port`` where a connection is refused at once."""
    return f"127.0.0.1:{free_port()}"


def require_etcd() -> str:
    """The etcd binary's path; a clear failure (not a skip) when it is not installed."""
    binary = ETCD_BINARY if os.access(ETCD_BINARY, os.X_OK) else shutil.which("etcd")
    if not binary:
        import pytest

        pytest.fail(
            "etcd is not installed (Debian package etcd-server); run `make test`, "
            "which installs it before running the tests",
            pytrace=False,
        )
    return binary


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: ask the kernel to SIGKILL etcd when the
    # test process dies, so even a hard-killed pytest run leaves no etcd behind.
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(argv: list[str], log_path: Path, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """A server process in its own session, its output appended to ``log_path``, killed
    with the test process."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )


def kill_group(process: subprocess.Popen[bytes] | None, sig: int) -> None:
    """Send ``sig`` to the process's group and wait until it is gone (SIGKILL if it
    ignores a gentler signal for 10 s)."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def log_tail(path: Path, lines: int = 20) -> str:
    """The last lines of a server's log, for a failure message."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass(frozen=True)
class TlsFiles:
    """A throw-away CA, a server certificate for 127.0.0.1 and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca))
        context.load_cert_chain(str(self.client_cert), str(self.client_key))
        return context


def make_tls_files(directory: Path) -> TlsFiles:
    """Create the certificates with the openssl command (EC keys: fast to make)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        import pytest

        pytest.skip("openssl is not installed")
    directory.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=directory, check=True, capture_output=True)

    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=confpy test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-addext", "subjectKeyIdentifier=hash")  # fmt: skip
    for name, usage in (("server", "serverAuth,clientAuth"), ("client", "clientAuth")):
        (directory / f"{name}.ext").write_text(
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature\n"
            f"extendedKeyUsage={usage}\n"
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
            "subjectKeyIdentifier=hash\n"
            "authorityKeyIdentifier=keyid,issuer\n"
        )
        run("req", *key, "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", f"/CN=confpy-{name}")  # fmt: skip
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", f"{name}.crt",
            "-extfile", f"{name}.ext")  # fmt: skip
    return TlsFiles(
        ca=directory / "ca.crt",
        server_cert=directory / "server.crt",
        server_key=directory / "server.key",
        client_cert=directory / "client.crt",
        client_key=directory / "client.key",
    )


@dataclass
class EtcdServer:
    """One single-member etcd cluster on loopback ports, data kept in ``data_dir``.

    ``stop()`` kills the member and ``start()`` brings it back on the same ports with the
    same data, for tests of outages and reconnection.
    """

    binary: str
    base_dir: Path
    enable_v2: bool = True
    tls: TlsFiles | None = None  # clients must then present tls.client_cert
    name: str = "confpy-test"
    client_port: int = field(default_factory=free_port)
    peer_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _http: httpx.Client | None = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.endpoint}"

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "etcd.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 20.0) -> None:
        """Start the member (a no-op when it runs) and wait until it answers."""
        if self.running:
            return
        self.base_dir.mkdir(parents=True, exist_ok=True)
        peer = f"http://127.0.0.1:{self.peer_port}"
        argv = [
            self.binary,
            f"--name={self.name}",
            f"--data-dir={self.data_dir}",
            f"--listen-client-urls={self.url}",
            f"--advertise-client-urls={self.url}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster={self.name}={peer}",
            "--initial-cluster-state=new",
            f"--enable-v2={'true' if self.enable_v2 else 'false'}",
            "--logger=zap",
            "--log-level=warn",
        ]
        if self.tls is not None:
            argv += [
                f"--cert-file={self.tls.server_cert}",
                f"--key-file={self.tls.server_key}",
                f"--trusted-ca-file={self.tls.ca}",
                "--client-cert-auth",
            ]
        self.process = spawn(argv, self.log_path)
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"etcd exited with status {self.process.returncode}:\n{log_tail(self.log_path)}"
                )
            try:
                answer = self.http.get("/health", timeout=1.0)
                if answer.status_code == 200 and answer.json().get("health") == "true":
                    return
                last = f"{answer.status_code} {answer.text.strip()}"
            except (httpx.HTTPError, ValueError) as exc:
                last = repr(exc)
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"etcd at {self.url} not ready after {timeout}s ({last}):\n{log_tail(self.log_path)}"
        )

    def stop(self, sig: int = signal.SIGKILL) -> None:
        """Kill the member (SIGKILL by default, as a crash would) and wait until it is gone."""
        if self._http is not None:
            self._http.close()
            self._http = None
        kill_group(self.process, sig)
        self.process = None

    # -- the v2 HTTP API, for setting up data ------------------------------------------

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            verify: ssl.SSLContext | bool = self.tls.client_context() if self.tls else True
            self._http = httpx.Client(
                base_url=self.url, timeout=10.0, trust_env=False, verify=verify
            )
        return self._http

    def _v2(self, method: str, key: str, **kwargs: Any) -> httpx.Response:
        answer = self.http.request(method, f"/v2/keys{key}", **kwargs)
        if answer.status_code >= 300:
            raise RuntimeError(f"{method} {key}: {answer.status_code} {answer.text.strip()}")
        return answer

    def put(self, key: str, value: str) -> int:
        """Set ``key`` to ``value``; returns the write's modifiedIndex."""
        answer = self._v2("PUT", key, data={"value": value})
        return int(answer.json()["node"]["modifiedIndex"])

    def mkdir(self, key: str) -> int:
        answer = self._v2("PUT", key, params={"dir": "true"})
        return int(answer.json()["node"]["modifiedIndex"])

    def delete(self, key: str, recursive: bool = False) -> int:
        params = {"recursive": "true"} if recursive else {}
        answer = self._v2("DELETE", key, params=params)
        return int(answer.json()["node"]["modifiedIndex"])

    def get_index(self) -> int:
        """The store's current X-Etcd-Index."""
        return int(self._v2("GET", "/").headers["X-Etcd-Index"])


# -- the v3 JSON gateway, for setting up data -----------------------------------------------


def b64(data: str | bytes) -> str:
    """The gateway's encoding of keys and values."""
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def revision(server: EtcdServer, token: str = "") -> int:
    """etcd's current revision (a range read's header)."""
    return int(v3(server, "kv/range", {"key": b64("/")}, token)["header"]["revision"])


def v3(server: EtcdServer, path: str, body: dict[str, Any], token: str = "") -> dict[str, Any]:
    """POST ``body`` to ``/v3/<path>``; the answer's JSON, or RuntimeError when not 200."""
    headers = {"Authorization": token} if token else {}
    answer = server.http.post(f"/v3/{path}", json=body, headers=headers)
    if answer.status_code != 200:
        raise RuntimeError(f"{path}: {answer.status_code} {answer.text.strip()}")
    result: dict[str, Any] = answer.json()
    return result


def put_v3(server: EtcdServer, key: str | bytes, value: str | bytes, token: str = "") -> int:
    """Set ``key``; returns the revision of the write (its mod_revision)."""
    answer = v3(server, "kv/put", {"key": b64(key), "value": b64(value)}, token)
    return int(answer["header"]["revision"])


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]

    @property
    def basic_auth(self) -> tuple[str, str] | None:
        """The (username, password) of an ``Authorization: Basic`` header, if any."""
        value = self.headers.get("authorization", "")
        if not value.lower().startswith("basic "):
            return None
        user, _, password = base64.b64decode(value[6:]).decode().partition(":")
        return user, password


class _FaultHandler(http.server.BaseHTTPRequestHandler):
    server: _FaultHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        owner.requests.append(
            RecordedRequest(
                self.command, self.path, {k.lower(): v for k, v in self.headers.items()}
            )
        )
        if owner.mode == "close":
            # Accept the request, then hang up without a status line.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if owner.mode == "slow" and owner.stopping.wait(owner.delay):
            return
        if owner.mode == "status":
            body = json.dumps(owner.body).encode()
            self._answer(owner.status, body, "application/json", {"X-Etcd-Index": str(owner.index)})
            return
        if owner.mode == "garbage":
            self._answer(200, b"\x00\xffthis is not json", "application/json")
            return
        body = json.dumps(owner.body).encode()
        self._answer(200, body, "application/json", {"X-Etcd-Index": str(owner.index)})

    def _answer(
        self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)


class _PostFaultHandler(_FaultHandler):
    """The fault server's behaviours for POST too (the v3 gateway is all POSTs)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))  # keep-alive stays sane
        self.do_GET()


class _FaultHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    owner: FaultServer


@dataclass
class FaultServer:
    """An HTTP server on loopback that misbehaves on purpose (faults etcd cannot produce).

    Modes: ``record`` answers like etcd with ``body`` and records each request; ``slow``
    answers the same but only after ``delay`` seconds; ``close`` hangs up without an
    answer; ``garbage`` answers 200 with a body that is not JSON; ``status`` answers
    ``status`` with ``body`` (e.g. a 500 "no leader").
    """

    handler: ClassVar[type[_FaultHandler]] = _FaultHandler
    mode: str = "record"
    delay: float = 30.0
    status: int = 500
    index: int = 7
    body: dict[str, Any] = field(
        default_factory=lambda: {
            "action": "get",
            "node": {"key": "/x", "value": "1", "modifiedIndex": 7, "createdIndex": 7},
        }
    )
    requests: list[RecordedRequest] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    _server: _FaultHTTPServer | None = None
    _thread: threading.Thread | None = None

    def start(self) -> FaultServer:
        server = _FaultHTTPServer(("127.0.0.1", 0), self.handler)
        server.owner = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def stop(self) -> None:
        self.stopping.set()  # releases handlers sleeping in "slow" mode
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@dataclass
class PostFaultServer(FaultServer):
    """The fault server answering POSTs as well, as the v3 gateway does; no etcd v2 body."""

    handler: ClassVar[type[_FaultHandler]] = _PostFaultHandler
    body: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def running_fault_server(**kwargs: Any) -> Iterator[FaultServer]:
    server = FaultServer(**kwargs).start()
    try:
        yield server
    finally:
        server.stop()
