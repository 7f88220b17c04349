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
        self._paths = [p for p in (settings.conf_d, settings.template_dir) if p.is_dir()]
        self._reconfigure = reconfigure
        self._read_at = read_at
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self._paths:
            return
        self._thread = threading.Thread(target=self._run, name="confpy-confdir", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        import watchfiles

        started = False
        for changes in watchfiles.watch(
            *self._paths, stop_event=self._stop, debounce=100, rust_timeout=1000, yield_on_timeout=True
        ):
            if not started:
                started = True
                if not changes and _modified_since(self._paths, self._read_at()):
                    self._reconfigure("changed while starting")
            if changes:
                names = sorted({Path(p).name for _, p in changes})
                self._reconfigure("changed: " + ", ".join(names))


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
