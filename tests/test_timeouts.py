"""check_cmd and reload_cmd timeouts, through the command line: ``-check-timeout``,
``-reload-timeout`` and the resource fields ``check_timeout`` / ``reload_timeout``.

The commands sleep for longer than the test may take (its time limit): a test that
passes did not wait for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import stage_files
from safety_helpers import kill_if_running, make_site, process_running, read_pid, where

pytestmark = pytest.mark.timeout(30)


@pytest.fixture()
def child(tmp_path: Path) -> Iterator[Path]:
    """A file a command writes its background child's pid into; the child is killed
    after the test if it is still there."""
    path = tmp_path / "child.pid"
    yield path
    if path.exists():
        kill_if_running(read_pid(path))


def test_a_check_past_its_timeout_is_killed_with_its_child_and_the_file_stays_out(tmp_path: Path, child: Path) -> None:
    check = f"echo checking; sleep 60 & echo $! > {child}; sleep 60"
    site = make_site(tmp_path, check_cmd=check)
    site.dest.write_text("old\n")
    run = site.run("new", "-check-timeout", "500ms")
    assert run.code == 1
    failure = f"Config check failed: check_cmd timed out after 500ms {where(site, 'check_cmd', check)}"
    assert [(e.level, e.message) for e in run.logs if e.level in ("ERROR", "FATAL")] == [
        ("ERROR", f"{failure}\n    checking"),  # what it printed before it was stopped
        ("FATAL", failure),
    ]
    assert site.dest.read_text() == "old\n"
    assert stage_files(str(site.dest)) == []
    assert not process_running(read_pid(child))  # the whole process group went


def test_a_timed_out_check_never_lets_a_new_file_in(tmp_path: Path) -> None:
    site = make_site(tmp_path, check_cmd="sleep 60", check_timeout="300ms")
    run = site.run("new")
    assert run.code == 1
    assert run.one_error().startswith("Config check failed: check_cmd timed out after 300ms (resource app.toml")
    assert not site.dest.exists()
    assert stage_files(str(site.dest)) == []


def test_the_resource_timeout_wins_over_the_flag(tmp_path: Path) -> None:
    site = make_site(tmp_path, check_cmd="sleep 60", check_timeout="1.5s")
    run = site.run("new", "-check-timeout", "1m")
    assert run.code == 1
    assert "check_cmd timed out after 1.5s" in run.one_error()


def test_a_check_within_its_timeout_lets_the_file_in(tmp_path: Path) -> None:
    site = make_site(tmp_path, check_cmd="test -s {{.src}}", reload_cmd="true")
    run = site.run("new", "-check-timeout", "30s", "-reload-timeout", "30s")
    assert run.code == 0, run.stderr
    assert site.dest.read_text() == "new\n"
    assert f"Target config {site.dest} has been updated" in run.messages("INFO")


def test_a_reload_past_its_timeout_is_a_failed_reload(tmp_path: Path, child: Path) -> None:
    reload_cmd = f"sleep 60 & echo $! > {child}; echo reloading; sleep 60"
    site = make_site(tmp_path, reload_cmd=reload_cmd)
    site.dest.write_text("old\n")
    run = site.run("new", "-reload-timeout", "400ms")
    assert run.code == 1
    failure = f"reload_cmd timed out after 400ms {where(site, 'reload_cmd', reload_cmd)}"
    assert [(e.level, e.message) for e in run.logs if e.level in ("ERROR", "FATAL")] == [
        ("ERROR", f"{failure}\n    reloading"),
        ("FATAL", failure),
    ]
    assert site.dest.read_text() == "new\n"  # replaced before the reload, and no rollback asked
    assert not process_running(read_pid(child))
    assert str(site.confdir / "conf.d" / "app.toml") in site.pending()  # owed to the next run


def test_a_reload_that_starts_a_daemon_holding_its_output_does_not_hang(tmp_path: Path, child: Path) -> None:
    # `service &` without a redirection: confd waits for the daemon to close the pipe,
    # that is forever. No timeout is set here: the shell's exit ends the command.
    site = make_site(tmp_path, reload_cmd=f"sleep 60 & echo $! > {child}; echo started")
    run = site.run("new")
    assert run.code == 0, run.stderr
    assert f"Target config {site.dest} has been updated" in run.messages("INFO")
    assert process_running(read_pid(child))  # the service's process, left alone
