"""Problems found in a user's files, as records with a position, for the loaders to log
and for ``-validate`` to print, one line each.

A loader (settings, resources) reports what it finds through a ``Problems`` list
instead of stopping at the first: a normal run raises the first fatal one and logs the
warnings (unknown names, which confd ignores), ``-validate`` prints them all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import NamedTuple

__all__ = ["ERROR", "FATAL", "WARNING", "Problem", "Problems", "WarnOnce", "did_you_mean"]

# Severities, by what a normal run does with the problem.
FATAL = "fatal"  # stops the run (confd stops too): bad TOML, a wrong type, no src
ERROR = "error"  # fails the thing it is in (one resource), the others go on
WARNING = "warning"  # logged, and the run goes on (confd is silent): an unknown name


class Problem(NamedTuple):
    path: str
    line: int  # 1-based; 0 when the problem is not at a place in the file
    column: int  # 1-based, in characters; 0 when not known
    message: str  # without the position
    severity: str = ERROR
    logged: str = ""  # how a log line words it, when not ``line N: message``

    def log_text(self) -> str:
        """The problem in a log message: ``line 3: message``."""
        if self.logged:
            return self.logged
        return f"line {self.line}: {self.message}" if self.line else self.message

    def location(self) -> str:
        """``path:line:col``, as compilers print it (column 1 when only the line is known,
        the path alone when neither is)."""
        if not self.line:
            return self.path
        return f"{self.path}:{self.line}:{self.column or 1}"


class Problems(list[Problem]):
    """The problems found in one or more files, in the order found."""

    def add(
        self, path: object, line: int, column: int, message: str, severity: str = ERROR, logged: str = ""
    ) -> Problem:
        problem = Problem(str(path), line, column, message, severity, logged)
        self.append(problem)
        return problem

    def of(self, *severities: str) -> list[Problem]:
        return [p for p in self if p.severity in severities]


class WarnOnce:
    """Logs each warning once: a daemon reads conf.d again at every tick, and the same
    unknown field need not be reported every ten minutes."""

    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger
        self._seen: set[str] = set()

    def __call__(self, message: str) -> None:
        if message not in self._seen:
            self._seen.add(message)
            self._log.warning("%s", message)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean "reload_cmd"?)`` when a known name is close to ``name``, else ""."""
    import difflib  # only when an unknown name is found

    choices = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{choices[close[0]]}"?)' if close else ""
