"""confd's log line: ``<RFC3339 time> <host> <argv0>[<pid>]: <LEVEL> <message>`` on stderr."""

from __future__ import annotations

import io
import logging
import os
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import LOG_LINE, make_confdir, run_confpy

from confpy.log import ConfdFormatter, parse_level, setup_logging

CHECKLIST_REGEX = re.compile(r"^\S+ \S+ \S+\[\d+\]: (DEBUG|INFO|WARNING|ERROR|FATAL) .*$")
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture()
def timezone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Lets a test set TZ; the process's zone is restored afterwards."""
    yield
    monkeypatch.undo()
    time.tzset()


def record(level: int, message: str, created: float = 0.0) -> logging.LogRecord:
    entry = logging.LogRecord("confpy.test", level, __file__, 1, message, (), None)
    entry.created = created
    return entry


def test_format_of_each_level(timezone: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    formatter = ConfdFormatter("/usr/local/bin/confd")
    host = socket.gethostname()
    expected = {
        logging.DEBUG: "DEBUG",
        logging.INFO: "INFO",
        logging.WARNING: "WARNING",
        logging.ERROR: "ERROR",
        logging.CRITICAL: "FATAL",
    }
    for level, name in expected.items():
        line = formatter.format(record(level, "Starting confd", 1_795_625_060.0))
        assert line == f"2026-11-25T16:44:20Z {host} /usr/local/bin/confd[{os.getpid()}]: {name} Starting confd"
        assert CHECKLIST_REGEX.match(line)


def test_timestamp_in_local_zone_with_offset(timezone: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # POSIX TZ strings need no zone database: "XXX-5:30" is UTC+05:30, "YYY3" is UTC-03:00.
    monkeypatch.setenv("TZ", "XXX-5:30")
    time.tzset()
    formatter = ConfdFormatter("confd")
    assert formatter.format(record(logging.INFO, "m")).startswith("1970-01-01T05:30:00+05:30 ")
    monkeypatch.setenv("TZ", "YYY3")
    time.tzset()
    assert formatter.format(record(logging.INFO, "m")).startswith("1969-12-31T21:00:00-03:00 ")


def test_message_is_not_reformatted() -> None:
    # confd's Sprintf quirk mangles "%"; we print the message as given.
    line = ConfdFormatter("confd").format(record(logging.ERROR, "50%s done"))
    assert line.endswith(" ERROR 50%s done")


def test_setup_logging_writes_to_the_stream_and_filters() -> None:
    logger = logging.getLogger("confpy")
    saved = (logger.level, logger.propagate, list(logger.handlers))
    stream = io.StringIO()
    try:
        setup_logging(logging.WARNING, stream=stream, argv0="prog")
        logging.getLogger("confpy.sync").info("hidden")
        logging.getLogger("confpy.sync").warning("shown")
        lines = stream.getvalue().splitlines()
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        for handler in saved[2]:
            logger.addHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
    assert len(lines) == 1
    match = LOG_LINE.match(lines[0])
    assert match and match["argv0"] == "prog" and match["level"] == "WARNING"
    assert match["message"] == "shown"


@pytest.mark.parametrize(
    ("name", "level"),
    [("", logging.INFO), ("debug", logging.DEBUG), ("info", logging.INFO),
     ("warn", logging.WARNING), ("warning", logging.WARNING), ("error", logging.ERROR),
     ("fatal", logging.CRITICAL), ("panic", logging.CRITICAL), ("DEBUG", logging.DEBUG),
     ("Warn", logging.WARNING)],
)  # fmt: skip
def test_parse_level(name: str, level: int) -> None:
    assert parse_level(name) == level


@pytest.mark.parametrize("name", ["x", "verbose", " info", "critical", "trace", "TRACE"])
def test_parse_level_rejects(name: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_level(name)
    assert str(caught.value) == f'not a valid level: "{name}"'


@pytest.mark.timeout(30)
def test_every_stderr_line_matches_under_tz_utc(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "a.toml").write_text('[template]\nsrc = "missing.tmpl"\ndest = "/dev/null"\n')
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(tmp_path), "-log-level", "debug")
    assert run.code == 1
    assert run.stdout == ""
    assert run.lines
    for line in run.lines:
        assert CHECKLIST_REGEX.match(line), line
        match = LOG_LINE.match(line)
        assert match is not None
        assert RFC3339_UTC.match(match["time"]), line
        assert match["host"] == socket.gethostname()
        assert match["argv0"].endswith("__main__.py")
        assert int(match["pid"]) > 0
    assert {match["pid"] for match in map(LOG_LINE.match, run.lines) if match} == {
        LOG_LINE.match(run.lines[0])["pid"]  # type: ignore[index]
    }


# -- -log-format json -------------------------------------------------------------------

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")


def json_lines(stderr: str) -> list[dict[str, str]]:
    """Every stderr line, parsed: each must be one JSON object."""
    import json

    entries = []
    for line in stderr.splitlines():
        entry = json.loads(line)
        assert isinstance(entry, dict), line
        assert RFC3339.match(entry["time"]), line
        assert entry["level"] in ("debug", "info", "warning", "error", "fatal"), line
        assert isinstance(entry["msg"], str) and "\n" not in entry["msg"], line
        entries.append(entry)
    return entries


@pytest.mark.timeout(30)
def test_json_lines_parse_and_carry_resource_dest_key_error_and_output(tmp_path: Path) -> None:
    good, broken, missing = tmp_path / "good.conf", tmp_path / "broken.conf", tmp_path / "missing.conf"
    root = make_confdir(
        tmp_path / "confdir",
        {
            "good.toml": f'[template]\nsrc = "a.tmpl"\ndest = "{good}"\nkeys = ["/app"]\n',
            "reload.toml": f'[template]\nsrc = "a.tmpl"\ndest = "{broken}"\nkeys = ["/app"]\n'
            "reload_cmd = 'echo one; echo two >&2; exit 2'\n",
            "key.toml": f'[template]\nsrc = "missing.tmpl"\ndest = "{missing}"\nkeys = ["/app"]\n',
        },
        {"a.tmpl": '{{getv "/app/a"}}\n', "missing.tmpl": '{{getv "/app/nope"}}\n'},
    )
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(root), "-log-format", "json", env={"APP_A": "1"})
    assert run.code == 1
    entries = json_lines(run.stderr)
    assert entries[0] == {"time": entries[0]["time"], "level": "info", "msg": "Backend set to env"}
    updated = [e for e in entries if e["msg"] == f"Target config {good} has been updated"]
    assert updated == [{**updated[0], "resource": "good.toml", "dest": str(good)}]

    reload_error = next(e for e in entries if e["level"] == "error" and e.get("resource") == "reload.toml")
    assert reload_error["msg"].startswith("exit status 2 (resource reload.toml")
    assert reload_error["error"] == reload_error["msg"]
    assert reload_error["dest"] == str(broken)
    assert reload_error["output"] == "one\ntwo\n"  # its own field, not in msg

    key_error = next(e for e in entries if e["level"] == "error" and e.get("resource") == "key.toml")
    assert key_error["key"] == "/app/nope"
    assert "key does not exist: /app/nope" in key_error["error"]
    assert key_error["dest"] == str(missing)
    assert entries[-1]["level"] == "fatal"
    assert entries[-1]["msg"] == "2 of 3 resources failed: key.toml, reload.toml"


def test_the_text_line_keeps_the_output_indented_under_the_message() -> None:
    entry = record(logging.ERROR, "exit status 2 (resource x.toml)")
    entry.output = "one\ntwo\n"
    entry.resource = "x.toml"
    line = ConfdFormatter("confd").format(entry)
    assert line.endswith(" ERROR exit status 2 (resource x.toml)\n    one\n    two")


@pytest.mark.timeout(30)
def test_log_format_from_confd_toml_and_a_bad_one_refused(tmp_path: Path) -> None:
    root = make_confdir(tmp_path / "confdir", {})
    config = tmp_path / "confd.toml"
    config.write_text('log-format = "json"\n')
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(root), "-config-file", str(config))
    assert run.code == 1
    assert [e["level"] for e in json_lines(run.stderr)] == ["info", "info", "info", "fatal"]
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(root), "-log-format", "xml")
    assert run.code == 1
    assert run.errors == ['log-format must be text or json, got "xml"']
