"""confd's log line format, on stderr:

``<RFC3339 time> <hostname> <argv0>[<pid>]: <LEVEL> <message>``

e.g. ``2026-11-25T16:44:20Z vm /usr/local/bin/confpy[13602]: INFO Starting confd``.
``setup_logging`` installs it on the ``confpy`` logger when ``main`` runs, never at import.

With ``-log-format json`` each record is one JSON object on a line instead: ``time``
(RFC 3339), ``level``, ``msg``, and where a record concerns them ``resource``, ``dest``,
``key`` and ``error`` (with ``output``, what a failed command printed). Log calls pass
those as ``extra=log_fields(...)``; the text format shows the output indented under the
message, as confpy always has.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from typing import Any, TextIO

from .errors import indent_output

__all__ = ["FATAL", "LOG_FORMATS", "ConfdFormatter", "JsonFormatter", "log_fields", "parse_level", "setup_logging"]

LOG_FORMATS = ("text", "json")

FATAL = logging.CRITICAL
_LEVEL_NAMES = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "FATAL",
}
# logrus level names as confd 0.16.0's vendored logrus (ParseLevel) accepts them, in any
# case; "trace" came with a later logrus and is refused, as confd refuses it.
_LEVELS = {
    "panic": logging.CRITICAL,
    "fatal": logging.CRITICAL,
    "error": logging.ERROR,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
}


def parse_level(name: str) -> int:
    """A -log-level value to a logging level; "" keeps info. Raises ValueError like logrus."""
    if name == "":
        return logging.INFO
    level = _LEVELS.get(name.lower())
    if level is None:
        raise ValueError(f'not a valid level: "{name}"')
    return level


def _rfc3339(seconds: float) -> str:
    """Go's time.Now().Format(time.RFC3339), in the local zone: Z when it is UTC."""
    local = time.localtime(seconds)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", local)
    offset = local.tm_gmtoff or 0
    if offset == 0:
        return stamp + "Z"
    sign = "+" if offset > 0 else "-"
    offset = abs(offset)
    return f"{stamp}{sign}{offset // 3600:02d}:{offset % 3600 // 60:02d}"


class ConfdFormatter(logging.Formatter):
    """Formats records as confd's logrus formatter does."""

    def __init__(self, argv0: str | None = None) -> None:
        super().__init__()
        self.prefix = f"{socket.gethostname()} {argv0 if argv0 is not None else sys.argv[0]}"

    def format(self, record: logging.LogRecord) -> str:
        level = _LEVEL_NAMES.get(record.levelno, record.levelname)
        message = record.getMessage() + indent_output(getattr(record, "output", ""))
        if record.exc_info and record.levelno <= logging.DEBUG:
            message += "\n" + self.formatException(record.exc_info)
        return f"{_rfc3339(record.created)} {self.prefix}[{os.getpid()}]: {level} {message}"


# The fields a record may carry (as ``extra=``), in the order a JSON line shows them.
_FIELDS = ("resource", "dest", "key", "error", "output")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level (logrus's names), msg, and the fields."""

    def format(self, record: logging.LogRecord) -> str:
        import json  # only with -log-format json

        entry: dict[str, Any] = {
            "time": _rfc3339(record.created),
            "level": _LEVEL_NAMES.get(record.levelno, record.levelname).lower(),
            "msg": record.getMessage(),
        }
        for name in _FIELDS:
            value = getattr(record, name, None)
            if value:
                entry[name] = value
        if record.exc_info and record.levelno <= logging.DEBUG:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


def log_fields(
    *, resource: str = "", dest: str = "", key: str = "", error: BaseException | None = None
) -> dict[str, str]:
    """``extra=`` for a log call about a resource, a dest, a key or an error: the fields
    a JSON line carries. A failed command's output comes from ``error.output``; the key
    from a ``key`` attribute of the error or of one it was raised from (a template's
    ``getv`` of a missing key)."""
    fields = {"resource": resource, "dest": dest, "key": key}
    if error is not None:
        fields["error"] = str(error)
        fields["output"] = getattr(error, "output", "")
        if not key:
            fields["key"] = _key_of(error)
    return {name: value for name, value in fields.items() if value}


def _key_of(error: BaseException) -> str:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        key = getattr(current, "key", None)
        if isinstance(key, str):
            return key
        current = current.__cause__ or current.__context__
    return ""


def setup_logging(
    level: int = logging.INFO, stream: TextIO | None = None, argv0: str | None = None, fmt: str = "text"
) -> logging.Logger:
    """Send the ``confpy`` logger's records to stderr in confd's format (or ``fmt``
    "json": one object per line)."""
    logger = logging.getLogger("confpy")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConfdFormatter(argv0))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return logger
