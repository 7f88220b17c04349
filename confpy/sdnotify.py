"""systemd's notification protocol (sd_notify(3)): a few datagrams to ``$NOTIFY_SOCKET``.

``READY=1`` after the first full cycle, ``RELOADING=1`` (with ``MONOTONIC_USEC``, as
Type=notify-reload wants) when the configuration is read again and ``READY=1`` when that
is done, ``STATUS=`` lines saying what the daemon is doing, ``STOPPING=1`` on the way out,
and ``WATCHDOG=1`` every half ``$WATCHDOG_USEC`` when the unit sets WatchdogSec=.

The watchdog pings come from a thread of their own, but only while the loop is not
stuck: once one cycle has run for longer than the watchdog timeout (a reload_cmd that
never returns, a hung file system) they stop, and systemd restarts the service.

Nothing is sent when ``NOTIFY_SOCKET`` is unset. The socket is a path, or an abstract
name written with a leading ``@``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, MutableMapping, Sequence

from .observe import Observer

__all__ = ["SystemdNotifier", "notify"]

log = logging.getLogger("confpy.sdnotify")


def notify(address: str, message: str) -> bool:
    """Send ``message`` to the notification socket at ``address``; False if it failed."""
    target = "\0" + address[1:] if address.startswith("@") else address
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(message.encode(), target)
    except OSError as exc:
        log.debug("Cannot notify systemd at %s: %s", address, exc)
        return False
    return True


class SystemdNotifier(Observer):
    def __init__(
        self, address: str, watchdog_seconds: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.address = address
        self.watchdog_seconds = watchdog_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._ready = False
        self._loaded = 0
        self._busy_since: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_environment(cls, environ: MutableMapping[str, str]) -> SystemdNotifier | None:
        """A notifier for ``$NOTIFY_SOCKET`` (None when unset). The variables are taken
        out of ``environ``, as sd_notify's unset_environment does: the check and reload
        commands confpy runs must not talk to systemd in its name."""
        address = environ.pop("NOTIFY_SOCKET", "")
        usec = environ.pop("WATCHDOG_USEC", "")
        pid = environ.pop("WATCHDOG_PID", "")
        if not address:
            return None
        watchdog = None
        if usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid())):
            watchdog = int(usec) / 1e6
        return cls(address, watchdog)

    def send(self, *fields: str) -> None:
        notify(self.address, "\n".join(fields))

    # -- hooks --------------------------------------------------------------------------

    def loop_started(self, mode: str) -> None:
        self.send(f"STATUS=Starting: {mode} mode, first cycle under way")
        if self.watchdog_seconds and self._thread is None:
            self._thread = threading.Thread(target=self._watchdog, name="confpy-watchdog", daemon=True)
            self._thread.start()

    def resources_loaded(self, labels: Sequence[str]) -> None:
        self._loaded = len(labels)

    def cycle_started(self) -> None:
        with self._lock:
            self._busy_since = self._clock()

    def cycle_done(self, full: bool, failed: Sequence[str]) -> None:
        with self._lock:
            self._busy_since = None
            first = full and not self._ready
            self._ready = self._ready or full
        status = f"STATUS={self._loaded} resource(s)" + (f", {len(failed)} failed: {', '.join(failed)}" if failed else ", in sync")
        if first:
            self.send("READY=1", status)
        elif full or failed:
            self.send(status)

    def watch_state(self, backend: str, connected: bool) -> None:
        if not connected:
            self.send(f"STATUS=The store ({backend}) does not answer; the files stay as they are")
        elif self._ready:
            self.send(f"STATUS={self._loaded} resource(s), watching {backend}")

    def reconfiguring(self, reason: str) -> None:
        if self._ready:
            usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
            self.send("RELOADING=1", f"MONOTONIC_USEC={usec}", f"STATUS=Reloading configuration ({reason})")

    def reconfigured(self, ok: bool) -> None:
        if self._ready:
            what = "configuration reloaded" if ok else "reload failed: kept the resources loaded before"
            self.send("READY=1", f"STATUS={self._loaded} resource(s), {what}")

    def stopping(self, reason: str) -> None:
        self.send("STOPPING=1", f"STATUS=Stopping ({reason})")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)

    # -- the watchdog -------------------------------------------------------------------

    def _watchdog(self) -> None:
        assert self.watchdog_seconds
        while not self._stop.wait(self.watchdog_seconds / 2):
            with self._lock:
                stuck = self._busy_since is not None and self._clock() - self._busy_since > self.watchdog_seconds
            if not stuck:
                self.send("WATCHDOG=1")
