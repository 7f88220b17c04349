"""confpy's exceptions, split by who catches them.

::

    ConfpyError                 anything confpy reports as one clear line
    ├── ConfigError             bad settings, flags or conf.d resource (names file and field)
    ├── BackendError            the key/value store could not be read or watched
    │   ├── BackendUnavailable  no node answered (the daemon retries these)
    │   └── HistoryLost         a watch's start index is forgotten: read everything again
    ├── RenderError             a template failed to parse or execute
    └── SyncError               staging, checking, committing or reloading a dest failed
        ├── CheckFailed         check_cmd exited non-zero: dest untouched
        └── ReloadFailed        reload_cmd exited non-zero: dest already replaced

Template engine errors live in ``confpy.gotemplate.errors`` (the engine is standalone);
the renderer wraps them in ``RenderError``.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "BackendUnavailable",
    "CheckFailed",
    "ConfigError",
    "ConfpyError",
    "HistoryLost",
    "ReloadFailed",
    "RenderError",
    "SyncError",
    "describe",
    "indent_output",
]


class ConfpyError(Exception):
    """Base class: its message is one line a user can act on."""


class ConfigError(ConfpyError):
    """Invalid settings, command line or template resource."""


class BackendError(ConfpyError):
    """The store answered with an error, or with something we cannot read."""


class BackendUnavailable(BackendError):
    """No node of the store could be reached (connection refused, timeout...)."""


class HistoryLost(BackendError):
    """The changes after a watch's start index are no longer kept (etcd v2 keeps 1000
    events, v3 compacts, Consul's index went backwards): read every key again."""


class RenderError(ConfpyError):
    """A template could not be read, parsed or executed. ``position`` is (file, line,
    column), 1-based, when the error is at a known place of a template file, and
    ``detail`` the message without that place (what ``-validate`` prints after it)."""

    position: tuple[object, int, int] | None = None
    detail: str = ""


class SyncError(ConfpyError):
    """Writing the destination file, or running its commands, failed.

    ``output`` is what a failed command printed: logged under the message, not in it,
    so a repeated message (the FATAL line) stays one line.
    """

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


class CheckFailed(SyncError):
    """check_cmd rejected the staged file; the destination was left as it was."""


class ReloadFailed(SyncError):
    """reload_cmd failed after the destination was replaced."""


def describe(exc: BaseException) -> str:
    """The message, with a failed command's output (if any) indented under it."""
    return str(exc) + indent_output(getattr(exc, "output", ""))


def indent_output(output: str) -> str:
    """A command's output as it follows a log message: each line on its own, indented."""
    if not output:
        return ""
    return "".join(f"\n    {line}" for line in output.rstrip("\n").split("\n"))
