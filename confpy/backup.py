"""``backup``: the content a dest had before it is replaced, kept as ``<dest>.bak``.

One copy, the latest, as consul-template keeps it; written as any dest is (a stage file
beside it, 0600 until complete, fsync, rename) with the old file's mode and owner. A
backup that cannot be made fails the resource before its dest is touched.
"""

from __future__ import annotations

import logging

from .errors import SyncError
from .staging import Previous, write_atomically

__all__ = ["backup_path", "write_backup"]

log = logging.getLogger("confpy.sync")


def backup_path(dest: str) -> str:
    return dest + ".bak"


def write_backup(dest: str, previous: Previous) -> None:
    """Keep ``previous`` (what ``dest`` holds now) as ``<dest>.bak``; nothing for a new dest."""
    if previous.content is None:
        return
    path = backup_path(dest)
    try:
        write_atomically(path, previous.content, previous.mode, previous.uid, previous.gid)
    except SyncError as exc:
        raise SyncError(f"cannot back up {dest} to {path}: {exc}") from None
    log.debug("Kept the previous %s as %s", dest, path)
