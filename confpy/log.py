"""confd's log line format, on stderr:

``<RFC3339 time> <hostname> <argv0>[<pid>]: <LEVEL> <message>``

e.g. ``2026-11-25T16:44:20Z vm /usr/local/bin/confpy[13602]: INFO Starting confd``.
``setup_logging`` installs it on the ``confpy`` logger when ``main`` runs, never at import.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from typing import TextIO

__all__ = ["FATAL", "ConfdFormatter", "parse_level", "setup_logging"]

FATAL = logging.CRITICAL
_LEVEL_NAMES = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "FATAL",
}
# logrus level names as confd's -log-level accepts them.
_LEVELS = {
    "panic": logging.CRITICAL,
    "fatal": logging.CRITICAL,
    "error": logging.ERROR,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": logging.DEBUG,
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
        message = record.getMessage()
        if record.exc_info and record.levelno <= logging.DEBUG:
            message += "\n" + self.formatException(record.exc_info)
        return f"{_rfc3339(record.created)} {self.prefix}[{os.getpid()}]: {level} {message}"


def setup_logging(level: int = logging.INFO, stream: TextIO | None = None, argv0: str | None = None) -> logging.Logger:
    """Send the ``confpy`` logger's records to stderr in confd's format."""
    logger = logging.getLogger("confpy")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(ConfdFormatter(argv0))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return logger
