"""systemd notification: a fake ``NOTIFY_SOCKET`` (a unix datagram socket bound here)
receives what confpy sends, in order: READY=1 after the first cycle, watchdog pings,
RELOADING=1 and READY=1 again on SIGHUP, STOPPING=1 on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import make_confdir
from daemon_helpers import ConfpyDaemon, read

from confpy.sdnotify import SystemdNotifier, notify

pytestmark = pytest.mark.timeout(30)


class NotifySocket:
    """What systemd listens on: datagrams collected in order."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + address[1:] if address.startswith("@") else address)
        self.messages: list[str] = []

    def receive(self, timeout: float) -> str | None:
        self.sock.settimeout(timeout)
        try:
            message = self.sock.recv(4096).decode()
        except TimeoutError:
            return None
        self.messages.append(message)
        return message

    def wait_for(self, field: str, timeout: float = 10.0) -> str:
        """Receive until a datagram holds ``field`` as one of its lines; returns it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.receive(max(0.01, deadline - time.monotonic()))
            if message is not None and field in message.split("\n"):
                return message
        raise AssertionError(f"no {field} within {timeout}s; got {self.messages}")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture()
def notify_socket(tmp_path: Path) -> Iterator[NotifySocket]:
    listener = NotifySocket(str(tmp_path / "notify.sock"))
    yield listener
    listener.close()


def test_ready_watchdog_reloading_and_stopping_in_order(tmp_path: Path, notify_socket: NotifySocket) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("app:\n  a: 1\n")
    dest, seen = tmp_path / "out.conf", tmp_path / "seen"
    resource = (
        f'[template]\nsrc = "app.tmpl"\ndest = "{dest}"\nkeys = ["/app"]\n'
        f"reload_cmd = 'echo \"[$NOTIFY_SOCKET][$WATCHDOG_USEC]\" > {seen}'\n"
    )
    root = make_confdir(tmp_path / "confdir", {"app.toml": resource}, {"app.tmpl": '{{getv "/app/a"}}\n'})
    daemon = ConfpyDaemon(
        ["-watch", "-backend", "file", "-file", str(data), "-confdir", str(root)],
        tmp_path / "confpy.log",
        env={"NOTIFY_SOCKET": notify_socket.address, "WATCHDOG_USEC": "400000"},
    ).start()
    try:
        ready = notify_socket.wait_for("READY=1")
        assert "STATUS=1 resource(s), in sync" in ready.split("\n")
        assert read(dest) == "1\n"
        notify_socket.wait_for("WATCHDOG=1", timeout=2)  # every 0.2 s: half of WATCHDOG_USEC
        notify_socket.wait_for("WATCHDOG=1", timeout=2)
        daemon.send(signal.SIGHUP)
        reloading = notify_socket.wait_for("RELOADING=1")
        fields = dict(line.split("=", 1) for line in reloading.split("\n"))
        now_usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        assert 0 < now_usec - int(fields["MONOTONIC_USEC"]) < 10_000_000
        assert fields["STATUS"] == "Reloading configuration (SIGHUP)"
        again = notify_socket.wait_for("READY=1")
        assert "STATUS=1 resource(s), configuration reloaded" in again.split("\n")
        notify_socket.wait_for("WATCHDOG=1", timeout=2)
        daemon.send(signal.SIGTERM)
        stopping = notify_socket.wait_for("STOPPING=1")
        assert "STATUS=Stopping (terminated)" in stopping.split("\n")
        assert daemon.stop() == 0
    finally:
        daemon.kill()
    order = [m.split("\n")[0] for m in notify_socket.messages if not m.startswith("STATUS=")]
    first = {field: order.index(field) for field in ("READY=1", "RELOADING=1", "STOPPING=1")}
    assert first["READY=1"] < order.index("WATCHDOG=1") < first["RELOADING=1"] < first["STOPPING=1"]
    assert notify_socket.messages[0].startswith("STATUS=Starting: watch mode")
    # The commands confpy runs do not inherit the socket: they cannot speak for it.
    assert read(seen) == "[][]\n"


def test_nothing_is_sent_without_notify_socket(tmp_path: Path) -> None:
    assert SystemdNotifier.from_environment({"WATCHDOG_USEC": "1000"}) is None


def test_the_watchdog_is_for_this_process_only() -> None:
    other = SystemdNotifier.from_environment({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"})
    mine = SystemdNotifier.from_environment(
        {"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "1000", "WATCHDOG_PID": str(os.getpid())}
    )
    assert other is not None and other.watchdog_seconds is None
    assert mine is not None and mine.watchdog_seconds == 0.001


def test_an_abstract_socket_name_starts_with_an_at_sign() -> None:
    listener = NotifySocket(f"@confpy-test-{uuid.uuid4().hex}")
    try:
        assert notify(listener.address, "READY=1\nSTATUS=hello")
        assert listener.receive(2) == "READY=1\nSTATUS=hello"
    finally:
        listener.close()


def test_an_unreachable_socket_is_not_an_error(tmp_path: Path) -> None:
    assert notify(str(tmp_path / "nobody"), "READY=1") is False


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_watchdog_stops_pinging_while_a_cycle_is_stuck(notify_socket: NotifySocket) -> None:
    clock = Clock()
    notifier = SystemdNotifier(notify_socket.address, 0.1, clock=clock)
    try:
        notifier.loop_started("watch")
        notify_socket.wait_for("WATCHDOG=1", timeout=2)
        notifier.cycle_started()
        clock.now += 0.5  # the cycle has run for longer than the watchdog timeout
        time.sleep(0.1)
        while notify_socket.receive(0.01) is not None:  # a ping sent before may be queued
            pass
        assert notify_socket.receive(0.4) is None  # systemd would restart the service now
        notifier.cycle_done(False, [])
        notify_socket.wait_for("WATCHDOG=1", timeout=2)
    finally:
        notifier.close()
