"""Problem records, the warn-once logger and the "did you mean" hint."""

from __future__ import annotations

import logging

from cli_helpers import capture_logs

from confpy.problems import ERROR, FATAL, Problem, Problems, WarnOnce, did_you_mean


def test_location_as_compilers_print_it() -> None:
    assert Problem("a.toml", 3, 5, "m").location() == "a.toml:3:5"
    assert Problem("a.toml", 3, 0, "m").location() == "a.toml:3:1"
    assert Problem("a.toml", 0, 0, "m").location() == "a.toml"


def test_log_text() -> None:
    assert Problem("a.toml", 3, 5, "bad").log_text() == "line 3: bad"
    assert Problem("a.toml", 0, 0, "bad").log_text() == "bad"
    assert Problem("a.toml", 3, 5, "bad", FATAL, "Bad (at line 3, column 5)").log_text() == "Bad (at line 3, column 5)"


def test_problems_by_severity() -> None:
    problems = Problems()
    problems.add("a", 1, 1, "x", FATAL)
    problems.add("a", 2, 1, "y")
    assert [p.message for p in problems.of(ERROR)] == ["y"]
    assert [p.message for p in problems.of(ERROR, FATAL)] == ["x", "y"]


def test_warn_once() -> None:
    with capture_logs() as logs:
        warn = WarnOnce(logging.getLogger("confpy.test"))
        for _ in range(3):
            warn("a")
            warn("b")
    assert logs.messages(logging.WARNING) == ["a", "b"]


def test_did_you_mean() -> None:
    known = ["src", "dest", "keys", "reload_cmd", "check_cmd"]
    assert did_you_mean("reload_comand", known) == ' (did you mean "reload_cmd"?)'
    assert did_you_mean("SCR", known) == ' (did you mean "src"?)'
    assert did_you_mean("frobnicate", known) == ""
