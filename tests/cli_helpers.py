"""Helpers for the tests: run confpy as a user does, read its log lines, capture its logs.

``run_confpy(*args, env=..., cwd=...)`` runs ``python -m confpy`` (or the console script)
in a child process with ``TZ=UTC`` and none of the variables confd reads inherited from
the test run, and returns a ``Run`` with the exit code, stdout and parsed stderr lines.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from confpy.errors import indent_output
from confpy.log import ConfdFormatter

__all__ = [
    "CONSOLE_SCRIPT",
    "LOG_LINE",
    "LogLine",
    "Run",
    "capture_logs",
    "make_confdir",
    "run_confpy",
    "stage_files",
]

# confd's log line (logrus' text formatter as confd sets it up), with groups.
LOG_LINE = re.compile(
    r"^(?P<time>\S+) (?P<host>\S+) (?P<argv0>\S+)\[(?P<pid>\d+)\]: "
    r"(?P<level>DEBUG|INFO|WARNING|ERROR|FATAL) (?P<message>.*)$"
)
CONSOLE_SCRIPT = Path(sys.executable).parent / "confpy"
# Variables confd (or the env backend) would pick up from the test runner's environment.
_SCRUBBED = ("ETCDCTL_PEERS", "CONFD_CLIENT_CERT", "CONFD_CLIENT_KEY", "CONFD_CLIENT_CAKEYS")


@dataclass(frozen=True)
class LogLine:
    level: str
    message: str
    raw: str


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    elapsed: float

    @property
    def lines(self) -> list[str]:
        return self.stderr.splitlines()

    @property
    def logs(self) -> list[LogLine]:
        """The stderr lines, parsed; an AssertionError for any line not in confd's format.
        A line indented by four spaces continues the message before it (a command's output)."""
        parsed: list[LogLine] = []
        for line in self.lines:
            if line.startswith("    ") and parsed:
                last = parsed[-1]
                parsed[-1] = LogLine(last.level, f"{last.message}\n{line}", f"{last.raw}\n{line}")
                continue
            match = LOG_LINE.match(line)
            assert match, f"not a confd log line: {line!r}\nwhole stderr:\n{self.stderr}"
            parsed.append(LogLine(match["level"], match["message"], line))
        return parsed

    def messages(self, *levels: str) -> list[str]:
        return [entry.message for entry in self.logs if entry.level in levels]

    @property
    def errors(self) -> list[str]:
        """ERROR and FATAL messages, in order."""
        return self.messages("ERROR", "FATAL")

    def one_error(self) -> str:
        """The single error this run reported: confd logs a failed resource at ERROR and
        then again at FATAL, a load error only at FATAL; either way one message, ending
        in a FATAL line."""
        logs = self.logs
        failures = [entry for entry in logs if entry.level in ("ERROR", "FATAL")]
        assert failures, f"no ERROR/FATAL line:\n{self.stderr}"
        assert failures[-1].level == "FATAL", self.stderr
        # The ERROR line may carry a command's output under it; the FATAL line does not.
        assert len({entry.message.split("\n")[0] for entry in failures}) == 1, self.stderr
        assert len(failures) <= 2, self.stderr
        return failures[-1].message


def run_confpy(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 30.0,
    console_script: bool = False,
) -> Run:
    """Run confpy with ``args``; ``env`` entries are added to a scrubbed copy of ours."""
    child_env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    child_env["TZ"] = "UTC"
    child_env.update(env or {})
    command: Sequence[str] = (
        [str(CONSOLE_SCRIPT), *args] if console_script else [sys.executable, "-m", "confpy", *args]
    )
    start = time.monotonic()
    done = subprocess.run(
        command,
        env=child_env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - start)


def make_confdir(
    root: Path,
    resources: Mapping[str, str],
    templates: Mapping[str, str | bytes] | None = None,
) -> Path:
    """``root/conf.d/<name>`` = TOML text, ``root/templates/<name>`` = template; returns root."""
    (root / "conf.d").mkdir(parents=True, exist_ok=True)
    (root / "templates").mkdir(parents=True, exist_ok=True)
    for name, text in resources.items():
        path = root / "conf.d" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for name, body in (templates or {}).items():
        path = root / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body)
    return root


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []
        self.setFormatter(ConfdFormatter("confpy"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))

    def messages(self, level: int | None = None) -> list[str]:
        """Each message as the text line shows it: a failed command's output (the
        ``output`` field) indented under it."""
        return [
            r.getMessage() + indent_output(getattr(r, "output", ""))
            for r in self.records
            if level is None or r.levelno == level
        ]


@contextlib.contextmanager
def capture_logs(level: int = logging.DEBUG) -> Iterator[_ListHandler]:
    """Collect what the ``confpy`` loggers emit in this process, whatever set them up."""
    logger = logging.getLogger("confpy")
    saved = (logger.level, logger.propagate, list(logger.handlers))
    handler = _ListHandler()
    for old in saved[2]:
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        for old in saved[2]:
            logger.addHandler(old)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def stage_files(dest: str) -> list[Path]:
    """Stage files of ``dest`` left in its directory (``.<base><digits>``)."""
    path = Path(dest)
    return [p for p in path.parent.glob(f".{path.name}*") if p.name[len(path.name) + 1 :].isdigit()]
