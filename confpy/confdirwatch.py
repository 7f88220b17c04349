"""Watch mode's eye on the confdir: an edit to conf.d or the templates asks the daemon
to read its configuration again, as a SIGHUP would."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from .settings import Settings

__all__ = ["ConfdirWatcher"]


class ConfdirWatcher:
    """A thread that calls ``reconfigure(reason)`` after each burst of edits.

    ``read_at()`` is the ``time.time()`` conf.d was last read: an edit made after that
    but before the watch was up is caught once the watch starts.
    """

    def __init__(self, settings: Settings, reconfigure: Callable[[str], None], read_at: Callable[[], float]) -> None:
        self._candidates = (settings.conf_d, settings.template_dir)
        self._reconfigure = reconfigure
        self._read_at = read_at
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="confpy-confdir", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        import watchfiles

        # Until conf.d or the templates directory exists, look for it every few seconds
        # (a recursive watch of whatever directory exists above it would cost far more).
        paths = self._existing()
        if not paths:
            while not paths and not self._stop.wait(self.APPEAR_POLL):
                paths = self._existing()
            if not paths:
                return
            self._reconfigure("appeared: " + ", ".join(p.name for p in paths))
        started = False
        for changes in watchfiles.watch(
            *paths, stop_event=self._stop, debounce=100, rust_timeout=1000, yield_on_timeout=True
        ):
            if not started:
                # The watch is up now: an edit made since conf.d was read, before it was
                # watching, would otherwise go unnoticed.
                started = True
                if not changes and _modified_since(paths, self._read_at()):
                    self._reconfigure("changed while starting")
            if changes:
                names = sorted({Path(p).name for _, p in changes})
                self._reconfigure("changed: " + ", ".join(names))

    APPEAR_POLL = 2.0

    def _existing(self) -> list[Path]:
        return [p for p in self._candidates if p.is_dir()]


def _modified_since(paths: Sequence[Path], since: float) -> bool:
    """Whether a file under ``paths`` changed at or after ``since`` (a time.time())."""
    for root in paths:
        for path in root.rglob("*"):
            try:
                if path.stat().st_mtime >= since - 0.01:  # mtimes are coarser than time()
                    return True
            except OSError:
                continue
    return False
