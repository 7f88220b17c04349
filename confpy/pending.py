"""Reloads still owed, remembered across runs in a small state file.

A reload_cmd that fails leaves the new file in place: the next run (a cron job's next
minute, a restarted daemon) finds the file in sync and would never reload, while the
service keeps its old configuration and every run looks green. confd has that hole. The
state file records, per resource (its conf.d file), a reload still owed; the next run
runs it even when the file is in sync, and the entry goes once a reload works.

The file is JSON, replaced atomically (a stage file, fsync, rename) under an exclusive
lock, so runs over different confdirs can share it. It is read at each start and
written only when its content changes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .fileio import read_file
from .resources import TemplateResource

__all__ = ["PendingReloads", "default_state_file"]

log = logging.getLogger("confpy.pending")


def default_state_file(environ: Mapping[str, str] | None = None) -> Path:
    """``$CONFPY_STATE_FILE``; else ``/var/lib/confpy/state.json`` for root, and
    ``$XDG_STATE_HOME/confpy/state.json`` (``~/.local/state/...``) for other users."""
    environ = os.environ if environ is None else environ
    if environ.get("CONFPY_STATE_FILE"):
        return Path(environ["CONFPY_STATE_FILE"])
    if os.geteuid() == 0:
        return Path("/var/lib/confpy/state.json")
    base = environ.get("XDG_STATE_HOME") or os.path.join(environ.get("HOME") or "/", ".local", "state")
    return Path(base) / "confpy" / "state.json"


class PendingReloads:
    """The owed reloads recorded in ``path``, keyed by conf.d file path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._warned = False
        self._known: set[str] | None = None  # what the file held when last read or written

    def owed(self, resources: Iterable[TemplateResource]) -> list[TemplateResource]:
        """Those of ``resources`` whose reload is owed."""
        entries = self._read()
        self._known = set(entries)
        if not entries:  # the usual case: nothing owed, no resource to look at
            return []
        return [r for r in resources if str(r.path) in entries]

    def update(self, failed: Iterable[TemplateResource], reloaded: Iterable[TemplateResource]) -> None:
        """Record ``failed`` as owed and ``reloaded`` as done; writes only on a change.

        A reload that worked for a resource the file does not list changes nothing: the
        file is not even read for it (a daemon reloads after each change)."""
        failed = list(failed)
        known = self._known
        reloaded = [r for r in reloaded if known is None or str(r.path) in known]
        if not failed and not reloaded:
            return
        try:
            with self._locked():
                entries = self._read()
                before = dict(entries)
                for resource in reloaded:
                    entries.pop(str(resource.path), None)
                for resource in failed:
                    entries.setdefault(str(resource.path), {"dest": resource.dest, "since": int(time.time())})
                if entries != before:
                    self._write(entries)
                self._known = set(entries)
        except OSError as exc:
            if failed and not self._warned:
                self._warned = True
                names = ", ".join(r.label for r in failed)
                log.warning(
                    "Cannot record the failed reload of %s in %s (%s): the next run will not run it again",
                    names, self.path, exc.strerror or exc,
                )  # fmt: skip

    def _read(self) -> dict[str, Any]:
        try:
            document = json.loads(read_file(self.path))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            if not self._warned:
                self._warned = True
                log.warning("Ignoring the state file %s: %s", self.path, getattr(exc, "strerror", None) or exc)
            return {}
        pending = document.get("pending") if isinstance(document, dict) else None
        return dict(pending) if isinstance(pending, dict) else {}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _write(self, entries: dict[str, Any]) -> None:
        data = json.dumps({"version": 1, "pending": entries}, indent=1, sort_keys=True).encode() + b"\n"
        stage = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        fd = os.open(stage, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(stage, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(stage)
            raise
