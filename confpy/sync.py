"""Putting rendered content in place: stage, compare, check, commit (and reload).

The stage file is created beside the dest (so the rename is atomic) as
``.<base><digits>``, exclusively, with mode 0600 until it is complete; it gets the final
mode and owner before the compare (so they count as changes, as in confd) and is removed
on every path unless ``-keep-stage-file``. A failed check leaves the dest byte for byte
as it was. Log lines are confd's.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from collections.abc import Iterable
from typing import NamedTuple

from .commands import CommandFailed, run_command
from .errors import CheckFailed, ReloadFailed, SyncError
from .fileio import read_file
from .golang.strconv import quote
from .gotemplate import Template, TemplateError
from .log import log_fields
from .resources import TemplateResource
from .staging import (
    Previous,
    create_stage_file,
    datasync,
    fsync_directory,
    read_previous,
    replace,
    set_owner_and_mode,
)

__all__ = ["SyncOptions", "SyncOutcome", "go_filemode", "reload", "sync", "sync_directories", "where"]

log = logging.getLogger("confpy.sync")

DEFAULT_MODE = 0o644


class SyncOptions(NamedTuple):
    noop: bool = False
    sync_only: bool = False
    keep_stage_file: bool = False
    diff: bool = False


class SyncOutcome(NamedTuple):
    changed: bool  # the dest differed (content, mode or owner)
    committed: bool  # the dest was replaced
    previous: Previous | None = None  # what it replaced, when a rollback may need it


def sync(resource: TemplateResource, content: bytes, options: SyncOptions) -> SyncOutcome:
    """Stage ``content`` beside the resource's dest, and replace the dest if it differs.

    Runs check_cmd (not reload_cmd: see ``reload``). Raises SyncError or CheckFailed.
    """
    dest = resource.dest
    try:
        dest_stat: os.stat_result | None = os.stat(dest)
    except OSError:
        dest_stat = None
    if resource.mode is not None:
        mode = resource.mode
    else:  # keep the dest's mode (read anew each pass, as confd), or 0644 for a new file
        mode = stat.S_IMODE(dest_stat.st_mode) & 0o777 if dest_stat is not None else DEFAULT_MODE
    uid = resource.uid if resource.uid is not None else os.geteuid()
    gid = resource.gid if resource.gid is not None else os.getegid()
    if not options.keep_stage_file and _in_sync(dest, dest_stat, content, mode, uid, gid):
        # Nothing to log but what confd logs when in sync, and nothing to write: skip the
        # stage file confd would make and delete (three file-system operations a pass).
        log.debug("Comparing candidate config to %s", dest)
        return _not_replaced(dest, False, content, options)
    path, fd = create_stage_file(dest, content)
    renamed = False
    try:
        set_owner_and_mode(fd, path, mode, uid, gid)
        if options.keep_stage_file:
            log.info("Keeping staged file: %s", path, extra=log_fields(resource=resource.label, dest=dest))
        log.debug("Comparing candidate config to %s", dest)
        changed = _is_config_changed(fd, dest, content)
        if options.noop or not changed:
            return _not_replaced(dest, changed, content, options, (mode, uid, gid))
        log.info("Target config %s out of sync", dest, extra=log_fields(resource=resource.label, dest=dest))
        if not options.sync_only and resource.check_cmd:
            _check(resource, path)
        datasync(fd, path)
        previous = _read_previous(resource, dest, options)
        if previous is not None and resource.backup:
            from .backup import write_backup  # only for resources that keep one

            write_backup(dest, previous)
        log.debug("Overwriting target config %s", dest)
        renamed = replace(path, dest, content, mode, uid, gid)
        if previous is not None and _debug_diff(options):
            _show_change(dest, previous, content, (mode, uid, gid), options)
        return SyncOutcome(changed=True, committed=True, previous=previous if _rollback(resource, options) else None)
    finally:
        os.close(fd)
        if not renamed and not options.keep_stage_file:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


def _rollback(resource: TemplateResource, options: SyncOptions) -> bool:
    """Whether a failed reload would roll this resource back."""
    return bool(resource.rollback and resource.reload_cmd and not options.sync_only)


def _debug_diff(options: SyncOptions) -> bool:
    return options.diff and log.isEnabledFor(logging.DEBUG)


def _read_previous(resource: TemplateResource, dest: str, options: SyncOptions) -> Previous | None:
    """What the dest holds, read before it is replaced when a backup, a rollback or a
    diff needs it."""
    if resource.backup or _rollback(resource, options):
        return read_previous(dest)  # cannot be read: nothing could be kept or put back
    if _debug_diff(options):
        try:
            return read_previous(dest)
        except SyncError:  # a debug line does not stop a write
            return None
    return None


def _not_replaced(
    dest: str, changed: bool, content: bytes, options: SyncOptions, target: tuple[int, int, int] = (0, 0, 0)
) -> SyncOutcome:
    """confd's lines for a dest left as it is: -noop's warning (always), or in sync.
    -noop shows what would change: on stdout with -diff, else at debug level."""
    if options.noop:
        log.warning("Noop mode enabled. %s will not be modified", dest, extra=log_fields(dest=dest))
        if changed and (options.diff or log.isEnabledFor(logging.DEBUG)):
            try:
                previous = read_previous(dest)
            except SyncError:  # the compare has said why
                previous = None
            if previous is not None:
                _show_change(dest, previous, content, target, options)
        return SyncOutcome(changed=changed, committed=False)
    log.debug("Target config %s in sync", dest)
    return SyncOutcome(changed=False, committed=False)


def _show_change(dest: str, previous: Previous, content: bytes, target: tuple[int, int, int], options: SyncOptions) -> None:
    """A pending change on stdout (-noop -diff); one just made, or pending without -diff,
    at debug level."""
    from .diff import describe_change  # difflib: only when a diff is shown

    mode, uid, gid = target
    text = describe_change(dest, previous, content, stat.S_IFREG | mode, uid, gid)
    if options.noop and options.diff:
        sys.stdout.write(text)
        sys.stdout.flush()
    elif text:
        # The diff under the line, as a failed command's output (a field of its own in JSON).
        log.debug("Changes to %s:", dest, extra={**log_fields(dest=dest), "output": text})


def sync_directories(dests: Iterable[str]) -> None:
    """fsync the directories of replaced dests, once each, so the renames are durable."""
    for directory in sorted({os.path.dirname(dest) or "." for dest in dests}):
        fsync_directory(directory)


def reload(resource: TemplateResource) -> None:
    """Run the resource's reload_cmd. Raises ReloadFailed (the dest is already replaced)."""
    try:
        run_command(resource.reload_cmd, resource.reload_timeout, "reload_cmd")
    except CommandFailed as exc:
        context = where(resource, "reload_cmd", resource.reload_cmd)
        raise ReloadFailed(f"{exc} {context}", exc.output) from None


def where(resource: TemplateResource, field: str, command: str) -> str:
    """``(resource app.toml, dest /etc/app.conf, check_cmd "app -t")``: confd's error
    text is kept at the start of the line, people grep their logs for it."""
    return f"(resource {resource.label}, dest {resource.dest}, {field} {quote(command)})"


def _in_sync(dest: str, dest_stat: os.stat_result | None, content: bytes, mode: int, uid: int, gid: int) -> bool:
    """Whether the dest already is exactly what staging would produce: a regular file
    with this owner, mode and content (what confd's compare of the two would find)."""
    if dest_stat is None or dest_stat.st_mode != stat.S_IFREG | mode:
        return False
    if (dest_stat.st_uid, dest_stat.st_gid) != (uid, gid) or dest_stat.st_size != len(content):
        return False
    try:
        return read_file(dest) == content
    except OSError:
        return False


def _is_config_changed(stage_fd: int, dest: str, content: bytes) -> bool:
    """confd's IsConfigChanged: owner, mode and md5 of the content, each difference logged."""
    try:
        dest_stat = os.stat(dest)
    except FileNotFoundError:
        return True
    except OSError as exc:
        log.error("cannot stat %s: %s", dest, exc.strerror)
        return True
    stage_stat = os.fstat(stage_fd)
    changed = False
    if dest_stat.st_uid != stage_stat.st_uid:
        log.info("%s has UID %d should be %d", dest, dest_stat.st_uid, stage_stat.st_uid, extra=log_fields(dest=dest))
        changed = True
    if dest_stat.st_gid != stage_stat.st_gid:
        log.info("%s has GID %d should be %d", dest, dest_stat.st_gid, stage_stat.st_gid, extra=log_fields(dest=dest))
        changed = True
    if dest_stat.st_mode != stage_stat.st_mode:
        log.info(
            "%s has mode %s should be %s", dest, go_filemode(dest_stat.st_mode), go_filemode(stage_stat.st_mode),
            extra=log_fields(dest=dest),
        )  # fmt: skip
        changed = True
    try:
        current = read_file(dest)
    except OSError as exc:
        log.error("cannot read %s: %s", dest, exc.strerror)
        return True
    if current != content:
        log.info("%s has md5sum %s should be %s", dest, _md5(current), _md5(content), extra=log_fields(dest=dest))
        changed = True
    return changed


def go_filemode(st_mode: int) -> str:
    """Go's os.FileMode String() of a stat mode: ``-rw-r--r--``, ``urwxr-xr-x``, ``drwxr-xr-x``."""
    kind = stat.S_IFMT(st_mode)
    letters = "".join(
        letter
        for letter, present in (
            ("d", kind == stat.S_IFDIR),
            ("L", kind == stat.S_IFLNK),
            ("D", kind in (stat.S_IFBLK, stat.S_IFCHR)),
            ("p", kind == stat.S_IFIFO),
            ("S", kind == stat.S_IFSOCK),
            ("u", bool(st_mode & stat.S_ISUID)),
            ("g", bool(st_mode & stat.S_ISGID)),
            ("c", kind == stat.S_IFCHR),
            ("t", bool(st_mode & stat.S_ISVTX)),
        )
        if present
    )
    perms = "".join(c if st_mode & (1 << (8 - i)) else "-" for i, c in enumerate("rwxrwxrwx"))
    return (letters or "-") + perms


def _md5(data: bytes) -> str:
    import hashlib  # only when a difference is logged

    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _check(resource: TemplateResource, stage: str) -> None:
    """check_cmd is a Go template of its own, with {{.src}} the stage file."""
    context = where(resource, "check_cmd", resource.check_cmd)
    try:
        # {{.src}} is absolute even for a relative dest (confd passes it as it is): a
        # checker with a directory of its own (nginx -t -c resolves under its prefix)
        # must find the stage file.
        cmd = Template("checkcmd").parse(resource.check_cmd).execute({"src": os.path.abspath(stage)})
    except TemplateError as exc:
        raise CheckFailed(f"Config check failed: {exc} {context}") from None
    try:
        run_command(cmd, resource.check_timeout, "check_cmd")
    except CommandFailed as exc:
        raise CheckFailed(f"Config check failed: {exc} {context}", exc.output) from None
