"""Running check_cmd and reload_cmd as confd does: ``/bin/sh -c``, empty stdin, stdout and
stderr captured together. A failure carries the output for the caller to report beside
the resource; on success it is logged Go-quoted at DEBUG, as confd does."""

from __future__ import annotations

import logging
import math
import os
import select
import time
from typing import TYPE_CHECKING

from .golang.strconv import quote

if TYPE_CHECKING:
    from subprocess import Popen

__all__ = ["KILL_GRACE", "CommandFailed", "CommandTimedOut", "run_command", "stop_group"]

log = logging.getLogger("confpy.commands")

SHELL = "/bin/sh"
# A timed-out command gets SIGTERM, then SIGKILL if anything of it is left this long after:
# time to remove its temporary files, short enough not to hold the next resource up.
KILL_GRACE = 2.0
_TICK = 0.1  # the longest wait in one poll: for signal handlers, and without a pidfd
_CHUNK = 1 << 16
_PIPE_CHUNKS = 16  # 1 MiB, the most a pipe holds (fs.pipe-max-size)


class CommandFailed(Exception):
    """str() is Go's exec error text: ``exit status 2``, ``signal: killed``...;
    ``output`` is what the command printed (stdout and stderr together)."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


class CommandTimedOut(CommandFailed):
    """The command ran past its timeout and was stopped; ``output`` is what it printed
    until then."""


def _signal_name(number: int) -> str:
    import signal

    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
    # Go prints the lower-case description: "killed", "terminated", "interrupt".
    return {
        "SIGKILL": "killed",
        "SIGTERM": "terminated",
        "SIGINT": "interrupt",
        "SIGHUP": "hangup",
        "SIGQUIT": "quit",
        "SIGSEGV": "segmentation fault",
        "SIGABRT": "aborted",
        "SIGPIPE": "broken pipe",
    }.get(name, name)


def run_command(cmd: str, timeout: float | None = None, name: str = "command") -> str:
    """Run ``cmd`` through the shell; return its output, or raise CommandFailed.

    The shell leads a session (and process group) of its own. ``timeout`` (seconds; None
    or 0: none) bounds it: past it the group is stopped (``stop_group``) and
    CommandTimedOut says ``<name> timed out after 30s``. The command is over when the
    shell exits: a process it left in the background is not waited for, even if it holds
    the output open (confd waits for it, forever for a daemon).
    """
    import subprocess  # only when a resource has a command to run

    log.debug("Running %s", cmd)
    try:
        proc = subprocess.Popen(
            [SHELL, "-c", cmd],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            bufsize=0,
            start_new_session=True,
        )
    except OSError as exc:
        raise CommandFailed(f"fork/exec {SHELL}: {exc.strerror.lower() if exc.strerror else exc}") from None
    deadline = time.monotonic() + timeout if timeout else None
    assert proc.stdout is not None
    try:
        chunks, finished = _collect(proc, proc.stdout.fileno(), deadline)
        if not finished:
            stop_group(proc)
            chunks.extend(_available(proc.stdout.fileno()))
    except BaseException:  # a second SIGTERM, ^C: the command goes with us
        _kill_group(proc)
        raise
    finally:
        proc.stdout.close()
    data = b"".join(chunks)
    if not finished:
        assert timeout
        raise CommandTimedOut(f"{name} timed out after {_duration(timeout)}", data.decode("utf-8", "replace"))
    if proc.returncode != 0:
        output = data.decode("utf-8", "replace")  # for a log line: printable text
        if proc.returncode < 0:
            raise CommandFailed(f"signal: {_signal_name(-proc.returncode)}", output)
        raise CommandFailed(f"exit status {proc.returncode}", output)
    output = data.decode("utf-8", "surrogateescape")
    if log.isEnabledFor(logging.DEBUG):  # quoting a large output costs more than running it
        log.debug("%s", quote(output))
    return output


def _collect(proc: Popen[bytes], fd: int, deadline: float | None) -> tuple[list[bytes], bool]:
    """The output until the shell exits, and whether it did before ``deadline``."""
    chunks: list[bytes] = []
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    pidfd = _pidfd(proc.pid)  # readable once the shell exits; None: look at each tick
    if pidfd is not None:
        poller.register(pidfd, select.POLLIN)
    open_ = True
    try:
        while True:
            if proc.poll() is not None:
                # Over. What is in the pipe now is the command's; what comes later is
                # from something it left running, which may keep the pipe open for good.
                if open_:
                    chunks.extend(_available(fd))
                return chunks, True
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return chunks, False
            # At most a tick at a time: a signal another thread received (SIGTERM to the
            # daemon) has its Python handler run only once this thread is back.
            wait = _TICK if deadline is None else min(_TICK, deadline - now)
            for ready, _ in poller.poll(math.ceil(wait * 1000)):
                if ready != fd:
                    continue
                chunk = os.read(fd, _CHUNK)
                if chunk:
                    chunks.append(chunk)
                else:  # output closed, the shell still runs: wait for it alone
                    open_ = False
                    poller.unregister(fd)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _pidfd(pid: int) -> int | None:
    """A pidfd for ``pid`` (Linux 5.3), or None where there is none."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _available(fd: int) -> list[bytes]:
    """What can be read from ``fd`` without waiting: what the pipe holds, no more (a
    process left behind may keep writing)."""
    chunks = []
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    for _ in range(_PIPE_CHUNKS):
        if not poller.poll(0):
            break
        chunk = os.read(fd, _CHUNK)
        if not chunk:
            break
        chunks.append(chunk)
    return chunks


def stop_group(proc: Popen[bytes], grace: float = KILL_GRACE) -> None:
    """SIGTERM to the command's process group; SIGKILL to what is left of it after
    ``grace`` seconds; the shell reaped."""
    import signal  # only when a command is stopped

    _signal_group(proc.pid, signal.SIGTERM)
    end = time.monotonic() + grace
    while time.monotonic() < end:
        if proc.poll() is not None and not _group_alive(proc.pid):
            return
        time.sleep(0.02)
    _kill_group(proc)


def _kill_group(proc: Popen[bytes]) -> None:
    """SIGKILL to the group, then a moment for its members to die (a signal is acted
    on when its process next runs)."""
    import signal

    _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()
    end = time.monotonic() + 1.0
    while _group_alive(proc.pid) and time.monotonic() < end:
        time.sleep(0.01)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group is still running (the shell is reaped: the number
    stays the group's while a member lives, so it names no other group). A member that
    is dead but not yet reaped by init does not count: some inits reap once a second."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member that changed its user: still there
        return True
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:  # no /proc: take kill's word
        return True
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
        except OSError:
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def _duration(seconds: float) -> str:
    from .golang.duration import Duration  # only when a command timed out

    return Duration(round(seconds * 1e9)).String()
