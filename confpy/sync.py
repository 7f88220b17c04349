"""Putting rendered content in place: stage, compare, check, commit (and reload).

The stage file is created beside the dest (so the rename is atomic) as
``.<base><digits>``, exclusively, with mode 0600 until it is complete; it gets the final
mode and owner before the compare (so they count as changes, as in confd) and is removed
on every path unless ``-keep-stage-file``. A failed check leaves the dest byte for byte
as it was. Log lines are confd's.
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from .commands import CommandFailed, run_command
from .errors import CheckFailed, ReloadFailed, SyncError
from .gotemplate import Template, TemplateError
from .resources import TemplateResource

__all__ = ["SyncOptions", "SyncOutcome", "reload", "sync"]

log = logging.getLogger("confpy.sync")

DEFAULT_MODE = 0o644


@dataclass(frozen=True)
class SyncOptions:
    noop: bool = False
    sync_only: bool = False
    keep_stage_file: bool = False


@dataclass(frozen=True)
class SyncOutcome:
    changed: bool  # the dest differed (content, mode or owner)
    committed: bool  # the dest was replaced


def sync(resource: TemplateResource, content: bytes, options: SyncOptions) -> SyncOutcome:
    """Stage ``content`` for the resource's dest, and replace the dest if it differs.

    Runs check_cmd (not reload_cmd: see ``reload``). Raises SyncError or CheckFailed.
    """
    dest = resource.dest
    mode = resource.mode if resource.mode is not None else _existing_mode(dest)
    uid = resource.uid if resource.uid is not None else os.geteuid()
    gid = resource.gid if resource.gid is not None else os.getegid()
    stage = _create_stage_file(dest, content)
    renamed = False
    try:
        _set_owner_and_mode(stage, mode, uid, gid)
        if options.keep_stage_file:
            log.info("Keeping staged file: %s", stage)
        log.debug("Comparing candidate config to %s", dest)
        changed = _is_config_changed(stage, dest, content)
        if options.noop:
            log.warning("Noop mode enabled. %s will not be modified", dest)
            if changed and log.isEnabledFor(logging.DEBUG):
                log.debug("%s", _unified_diff(dest, content))
            return SyncOutcome(changed=changed, committed=False)
        if not changed:
            log.debug("Target config %s in sync", dest)
            return SyncOutcome(changed=False, committed=False)
        log.info("Target config %s out of sync", dest)
        if not options.sync_only and resource.check_cmd:
            _check(resource.check_cmd, stage)
        log.debug("Overwriting target config %s", dest)
        renamed = _replace(stage, dest, content, mode, uid, gid)
        return SyncOutcome(changed=True, committed=True)
    finally:
        if not renamed and not options.keep_stage_file:
            try:
                os.unlink(stage)
            except FileNotFoundError:
                pass


def reload(resource: TemplateResource) -> None:
    """Run the resource's reload_cmd. Raises ReloadFailed (the dest is already replaced)."""
    try:
        run_command(resource.reload_cmd)
    except CommandFailed as exc:
        raise ReloadFailed(str(exc)) from None


def _existing_mode(dest: str) -> int:
    """With no mode set: keep the dest's (read anew each pass, as confd), or 0644."""
    try:
        return stat.S_IMODE(os.stat(dest).st_mode) & 0o777
    except OSError:
        return DEFAULT_MODE


def _create_stage_file(dest: str, content: bytes) -> str:
    directory = os.path.dirname(dest) or "."
    base = os.path.basename(dest)
    for _ in range(100):
        path = os.path.join(directory, f".{base}{secrets.randbelow(10**10)}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            continue
        except FileNotFoundError:
            raise SyncError(f"cannot stage {dest}: directory {directory} does not exist") from None
        except OSError as exc:
            raise SyncError(f"cannot stage {dest}: {exc.strerror} ({directory})") from None
        try:
            _write_all(fd, content)
            os.fsync(fd)
        except OSError as exc:
            os.close(fd)
            os.unlink(path)
            raise SyncError(f"cannot write stage file {path}: {exc.strerror}") from None
        os.close(fd)
        return path
    raise SyncError(f"cannot stage {dest}: no free stage file name in {directory}")


def _write_all(fd: int, content: bytes) -> None:
    view = memoryview(content)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _set_owner_and_mode(path: str, mode: int, uid: int, gid: int) -> None:
    st = os.stat(path)
    if (st.st_uid, st.st_gid) != (uid, gid):
        try:
            os.chown(path, uid, gid)
        except OSError as exc:
            raise SyncError(f"cannot give {path} owner {uid}:{gid}: {exc.strerror}") from None
    try:
        os.chmod(path, mode)
    except OSError as exc:
        raise SyncError(f"cannot set mode {mode:04o} on {path}: {exc.strerror}") from None


def _is_config_changed(stage: str, dest: str, content: bytes) -> bool:
    """confd's IsConfigChanged: owner, mode and md5 of the content, each logged."""
    try:
        dest_stat = os.stat(dest)
    except FileNotFoundError:
        return True
    except OSError as exc:
        log.error("cannot stat %s: %s", dest, exc.strerror)
        return True
    stage_stat = os.stat(stage)
    changed = False
    if dest_stat.st_uid != stage_stat.st_uid:
        log.info("%s has UID %d should be %d", dest, dest_stat.st_uid, stage_stat.st_uid)
        changed = True
    if dest_stat.st_gid != stage_stat.st_gid:
        log.info("%s has GID %d should be %d", dest, dest_stat.st_gid, stage_stat.st_gid)
        changed = True
    if dest_stat.st_mode != stage_stat.st_mode:
        log.info("%s has mode %s should be %s", dest, stat.filemode(dest_stat.st_mode), stat.filemode(stage_stat.st_mode))
        changed = True
    try:
        with open(dest, "rb") as handle:
            current = handle.read()
    except OSError as exc:
        log.error("cannot read %s: %s", dest, exc.strerror)
        return True
    if current != content:
        log.info("%s has md5sum %s should be %s", dest, _md5(current), _md5(content))
        changed = True
    return changed


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _unified_diff(dest: str, content: bytes) -> str:
    try:
        with open(dest, "rb") as handle:
            old = handle.read().decode("utf-8", "replace")
    except OSError:
        old = ""
    new = content.decode("utf-8", "replace")
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), fromfile=dest, tofile=f"{dest} (new)"
    )
    return "".join(lines).rstrip("\n")


def _check(check_cmd: str, stage: str) -> None:
    """check_cmd is a Go template of its own, with {{.src}} the stage file."""
    try:
        cmd = Template("checkcmd").parse(check_cmd).execute({"src": stage})
    except TemplateError as exc:
        raise CheckFailed(f"Config check failed: {exc}") from None
    try:
        run_command(cmd)
    except CommandFailed as exc:
        raise CheckFailed(f"Config check failed: {exc}") from None


def _replace(stage: str, dest: str, content: bytes, mode: int, uid: int, gid: int) -> bool:
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
    _fsync_directory(os.path.dirname(dest) or ".")
    return True


def _fsync_directory(directory: str) -> None:
    """Make the rename durable: a crash right after must not bring the old file back."""
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


def stage_files(dest: str) -> list[Path]:
    """Stage files of ``dest`` left in its directory (for tests and cleanup)."""
    path = Path(dest)
    return [p for p in path.parent.glob(f".{path.name}*") if p.name[len(path.name) + 1 :].isdigit()]
