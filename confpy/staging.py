"""Putting bytes at a path atomically, and reading back what a path held.

A stage file is created beside its target (so the rename is atomic) as ``.<base><digits>``,
exclusively, mode 0600 until it is complete; it gets its final owner and mode, is
``fdatasync``ed, then renamed over the target. sync.py stages rendered content this way;
backups and rollbacks write with ``write_atomically``, the same steps in one call.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from typing import NamedTuple

from .errors import SyncError
from .fileio import read_file

__all__ = [
    "Previous",
    "create_stage_file",
    "datasync",
    "fsync_directory",
    "read_previous",
    "replace",
    "set_owner_and_mode",
    "symlink_atomically",
    "sync_directory",
    "write_atomically",
]

log = logging.getLogger("confpy.sync")


class Previous(NamedTuple):
    """What a path held before it was replaced: enough to show, keep or put it back."""

    content: bytes | None  # None: nothing was there (or a symlink to nothing)
    st_mode: int = 0  # the file's whole st_mode (through a symlink)
    uid: int = -1
    gid: int = -1
    link: str | None = None  # the path was a symlink to this

    @property
    def mode(self) -> int:
        return stat.S_IMODE(self.st_mode)


def read_previous(path: str) -> Previous:
    """The file at ``path`` as it is now. Raises SyncError if it cannot be read."""
    try:
        link = os.readlink(path)
    except FileNotFoundError:
        return Previous(None)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # EINVAL: not a symlink
            raise SyncError(f"cannot read {path}: {exc.strerror}") from None
        link = None
    try:
        st = os.stat(path)
        content = read_file(path)
    except FileNotFoundError:  # a dangling symlink
        return Previous(None, link=link)
    except OSError as exc:
        raise SyncError(f"cannot read {path}: {exc.strerror}") from None
    return Previous(content, st.st_mode, st.st_uid, st.st_gid, link)


def create_stage_file(dest: str, content: bytes) -> tuple[str, int]:
    """``.<base><digits>`` beside dest, created 0600, holding content: (path, open fd)."""
    directory = os.path.dirname(dest) or "."
    base = os.path.basename(dest)
    for _ in range(100):
        path = _stage_name(directory, base)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            continue
        except FileNotFoundError:
            raise SyncError(f"cannot stage {dest}: directory {directory} does not exist") from None
        except OSError as exc:
            raise SyncError(f"cannot stage {dest}: {exc.strerror} ({directory})") from None
        try:
            _write_all(fd, content)
        except OSError as exc:
            os.close(fd)
            os.unlink(path)
            raise SyncError(f"cannot write stage file {path}: {exc.strerror}") from None
        return path, fd
    raise SyncError(f"cannot stage {dest}: no free stage file name in {directory}")


def _stage_name(directory: str, base: str) -> str:
    # Random decimal digits, as Go's ioutil.TempFile (os.urandom: no import cost).
    return os.path.join(directory, f".{base}{int.from_bytes(os.urandom(5), 'big') % 10**10}")


def _write_all(fd: int, content: bytes) -> None:
    view = memoryview(content)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def set_owner_and_mode(fd: int, path: str, mode: int, uid: int, gid: int) -> None:
    st = os.fstat(fd)
    if (st.st_uid, st.st_gid) != (uid, gid):
        try:
            os.fchown(fd, uid, gid)
        except OSError as exc:
            raise SyncError(f"cannot give {path} owner {uid}:{gid}: {exc.strerror}") from None
    try:
        os.fchmod(fd, mode)
    except OSError as exc:
        raise SyncError(f"cannot set mode {mode:04o} on {path}: {exc.strerror}") from None


def datasync(fd: int, path: str) -> None:
    """On disk before it replaces anything: a crash never leaves the target empty."""
    try:
        os.fdatasync(fd)
    except OSError as exc:
        raise SyncError(f"cannot write stage file {path}: {exc.strerror}") from None


def replace(stage: str, dest: str, content: bytes, mode: int, uid: int, gid: int) -> bool:
    """Rename the stage file over dest; True if renamed, False if written in place."""
    try:
        os.rename(stage, dest)
    except OSError as exc:
        if exc.errno != errno.EBUSY:
            raise SyncError(f"cannot replace {dest}: {exc.strerror}") from None
        # A bind-mounted file (Docker) cannot be renamed over: write into it instead.
        log.debug("Rename failed - target is likely a mount. Trying to write instead")
        try:
            fd = os.open(dest, os.O_WRONLY | os.O_TRUNC | os.O_CREAT | os.O_CLOEXEC, mode)
            try:
                _write_all(fd, content)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.chown(dest, uid, gid)
        except OSError as err:
            raise SyncError(f"cannot write {dest} in place: {err.strerror}") from None
        return False
    return True


def write_atomically(dest: str, content: bytes, mode: int, uid: int, gid: int) -> None:
    """``content`` at ``dest`` with this mode and owner, all or nothing (the stage file
    is removed on every path). Raises SyncError."""
    path, fd = create_stage_file(dest, content)
    renamed = False
    try:
        set_owner_and_mode(fd, path, mode, uid, gid)
        datasync(fd, path)
        renamed = replace(path, dest, content, mode, uid, gid)
    finally:
        os.close(fd)
        if not renamed:
            _unlink(path)


def symlink_atomically(dest: str, target: str) -> None:
    """A symlink to ``target`` at ``dest``, made beside it and renamed over it."""
    directory, base = os.path.dirname(dest) or ".", os.path.basename(dest)
    for _ in range(100):
        path = _stage_name(directory, base)
        try:
            os.symlink(target, path)
        except FileExistsError:
            continue
        except OSError as exc:
            raise SyncError(f"cannot make a symlink beside {dest}: {exc.strerror}") from None
        try:
            os.rename(path, dest)
        except OSError as exc:
            _unlink(path)
            raise SyncError(f"cannot replace {dest}: {exc.strerror}") from None
        return
    raise SyncError(f"cannot stage {dest}: no free stage file name in {directory}")


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def sync_directory(path: str) -> None:
    """fsync the directory holding ``path``, so a rename in it is durable."""
    fsync_directory(os.path.dirname(path) or ".")


def fsync_directory(directory: str) -> None:
    """fsync ``directory`` (a file system that cannot is left as it is)."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
