"""``rollback``: when reload_cmd fails, the previous file goes back and reload_cmd runs again.

confd leaves the rejected file in place: the service keeps running its old configuration
while the file says otherwise, and the next reload (a restart, a reboot) fails. With
``rollback = true`` (or ``-rollback``), a resource whose reload_cmd fails after its dest
was replaced gets its previous file back (content, mode and owner, written as any dest;
a dest that did not exist is removed, a symlink is made again) and reload_cmd runs once
more, so that the service and the file agree again. The resource still fails (exit 1 in
``-onetime``).

What is owed afterwards (retried by the daemon, or by the next run through the state
file): nothing when the second reload works; a reload of the file now in place when it
fails too (the previous file stays: the service may be down, and reloading what it ran
before is the best next attempt) or when the previous file could not be put back.

A daemon remembers the content it rolled back (``Rejected``) and does not write it again,
tick after tick, until the rendered content or the resource changes, or SIGHUP.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from .errors import ReloadFailed, SyncError
from .log import log_fields
from .resources import TemplateResource
from .staging import Previous, symlink_atomically, sync_directory, write_atomically
from .sync import reload, where

__all__ = ["Rejected", "RollbackResult", "Undo", "restore", "roll_back"]

log = logging.getLogger("confpy.rollback")


class Undo(NamedTuple):
    """A dest replaced in this cycle, and what it held before."""

    resource: TemplateResource
    previous: Previous
    content: bytes  # what replaced it


class RollbackResult(NamedTuple):
    restored: list[Undo]
    unrestored: list[tuple[Undo, SyncError]]  # the new file stayed
    again: ReloadFailed | None  # reload_cmd failed with the previous files too
    reloaded: bool  # reload_cmd ran again and worked: the service runs the previous files


def restore(dest: str, previous: Previous) -> None:
    """Put ``previous`` back at ``dest``, atomically. Raises SyncError."""
    if previous.link is not None:
        symlink_atomically(dest, previous.link)  # its target was never written
    elif previous.content is None:
        try:
            os.unlink(dest)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise SyncError(f"cannot remove {dest}: {exc.strerror}") from None
    else:
        write_atomically(dest, previous.content, previous.mode, previous.uid, previous.gid)
    sync_directory(dest)


def roll_back(undo: Sequence[Undo]) -> RollbackResult:
    """Restore each dest of ``undo`` (resources sharing one reload_cmd that just failed),
    then run that reload_cmd again once; every step is logged."""
    restored: list[Undo] = []
    unrestored: list[tuple[Undo, SyncError]] = []
    for item in undo:
        resource = item.resource
        try:
            restore(resource.dest, item.previous)
        except SyncError as exc:
            error = SyncError(f"Cannot roll back {resource.dest}, the new file stays: {exc} {_where(resource)}")
            log.error("%s", error, extra=log_fields(resource=resource.label, dest=resource.dest, error=error))
            unrestored.append((item, error))
        else:
            restored.append(item)
    if not restored:
        return RollbackResult(restored, unrestored, None, False)
    first = restored[0].resource
    try:
        reload(first)
    except ReloadFailed as exc:
        dests = ", ".join(item.resource.dest for item in restored)
        again = ReloadFailed(f"Rolled back {dests} to the previous file, but reload_cmd failed again: {exc}", exc.output)
        log.error("%s", again, extra=log_fields(resource=first.label, dest=first.dest, error=again))
        return RollbackResult(restored, unrestored, again, False)
    for item in restored:
        resource = item.resource
        if item.previous.content is None and item.previous.link is None:
            done = f"Rolled back {resource.dest}: removed it (there was no file before) and ran reload_cmd again"
        else:
            done = f"Rolled back {resource.dest} to the previous file and ran reload_cmd again"
        log.warning("%s (resource %s)", done, resource.label, extra=log_fields(resource=resource.label, dest=resource.dest))
    return RollbackResult(restored, unrestored, None, True)


def _where(resource: TemplateResource) -> str:
    return where(resource, "reload_cmd", resource.reload_cmd)


class Rejected:
    """Content rolled back after a failed reload, by resource (conf.d path): a daemon
    does not write it again until what it would write changes (content, or the
    resource's dest, mode, owner or commands), or ``clear`` (SIGHUP)."""

    def __init__(self) -> None:
        self._by_path: dict[Path, tuple[object, ...]] = {}

    @staticmethod
    def _key(resource: TemplateResource, content: bytes) -> tuple[object, ...]:
        return (content, resource.dest, resource.mode, resource.uid, resource.gid, resource.check_cmd, resource.reload_cmd)

    def add(self, resource: TemplateResource, content: bytes) -> None:
        self._by_path[resource.path] = self._key(resource, content)

    def holds(self, resource: TemplateResource, content: bytes) -> bool:
        if not self._by_path:  # nothing was ever rolled back: the usual case
            return False
        return self._by_path.get(resource.path) == self._key(resource, content)

    def clear(self) -> None:
        self._by_path.clear()

    def forget(self, keep: Iterable[Path]) -> None:
        """Drop resources that are no longer loaded."""
        kept = set(keep)
        for path in [p for p in self._by_path if p not in kept]:
            del self._by_path[path]
