"""Running check_cmd and reload_cmd as confd does: ``/bin/sh -c``, empty stdin, stdout and
stderr captured together. A failure carries the output for the caller to report beside
the resource; on success it is logged Go-quoted at DEBUG, as confd does."""

from __future__ import annotations

import logging

from .golang.strconv import quote

__all__ = ["CommandFailed", "run_command"]

log = logging.getLogger("confpy.commands")

SHELL = "/bin/sh"


class CommandFailed(Exception):
    """str() is Go's exec error text: ``exit status 2``, ``signal: killed``...;
    ``output`` is what the command printed (stdout and stderr together)."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


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


def run_command(cmd: str) -> str:
    """Run ``cmd`` through the shell; return its output, or raise CommandFailed."""
    import subprocess  # only when a resource has a command to run

    log.debug("Running %s", cmd)
    try:
        done = subprocess.run(
            [SHELL, "-c", cmd],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            check=False,
        )
    except OSError as exc:
        raise CommandFailed(f"fork/exec {SHELL}: {exc.strerror.lower() if exc.strerror else exc}") from None
    if done.returncode != 0:
        output = done.stdout.decode("utf-8", "replace")  # for a log line: printable text
        if done.returncode < 0:
            raise CommandFailed(f"signal: {_signal_name(-done.returncode)}", output)
        raise CommandFailed(f"exit status {done.returncode}", output)
    output = done.stdout.decode("utf-8", "surrogateescape")
    log.debug("%s", quote(output))
    return output
