"""Running check_cmd and reload_cmd: timeouts stop the command's whole process group, and
a process a command leaves behind holding its output never holds confpy up.

The commands sleep far longer than the test's own time limit: a test that passes did not
wait for them.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest
from cli_helpers import capture_logs
from daemon_helpers import wait_until
from safety_helpers import kill_if_running, read_pid
from safety_helpers import process_running as running

from confpy import commands
from confpy.commands import CommandFailed, CommandTimedOut, run_command

pytestmark = pytest.mark.timeout(20)


@pytest.fixture(autouse=True, params=["pidfd", "tick"])
def exit_watch(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test twice: the shell's exit seen through a pidfd (Linux 5.3+), and by
    looking every tick where there is none."""
    if request.param == "tick":
        monkeypatch.setattr(commands, "_pidfd", lambda pid: None)
    return str(request.param)


@pytest.fixture()
def reaper() -> list[int]:
    """Pids a test started: killed at the end if a failing test left them running."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        kill_if_running(pid)


def test_past_its_timeout_a_command_and_its_children_are_stopped(tmp_path: Path, reaper: list[int]) -> None:
    child = tmp_path / "child"
    with pytest.raises(CommandTimedOut) as caught:
        run_command(f"echo started; sleep 60 & echo $! > {child}; sleep 60", 0.5, "check_cmd")
    reaper.append(read_pid(child))
    assert str(caught.value) == "check_cmd timed out after 500ms"
    assert caught.value.output == "started\n"  # what it printed before the timeout
    assert not running(read_pid(child))


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path, reaper: list[int]) -> None:
    child = tmp_path / "child"
    # A signal ignored stays ignored across exec: this sleep shrugs SIGTERM off.
    with pytest.raises(CommandTimedOut) as caught:
        run_command(f"(trap '' TERM; exec sleep 60) & echo $! > {child}; wait", 0.3, "reload_cmd")
    reaper.append(read_pid(child))
    assert str(caught.value) == "reload_cmd timed out after 300ms"
    assert not running(read_pid(child))


def test_a_command_that_closes_its_output_and_hangs_still_times_out() -> None:
    with pytest.raises(CommandTimedOut, match=r"^check_cmd timed out after 200ms$"):
        run_command("exec >/dev/null 2>&1; sleep 60", 0.2, "check_cmd")


def test_the_timeout_is_printed_as_go_prints_durations() -> None:
    with pytest.raises(CommandTimedOut, match=r"^reload_cmd timed out after 1\.5s$"):
        run_command("sleep 60", 1.5, "reload_cmd")


def test_a_background_process_holding_the_output_is_not_waited_for(tmp_path: Path, reaper: list[int]) -> None:
    # confd (Go's CombinedOutput) waits until every holder of the pipe has closed it:
    # forever, for a daemon started this way. The shell's exit ends the command.
    child = tmp_path / "child"
    for timeout in (None, 30.0):
        assert run_command(f"sleep 60 & echo $! > {child}; echo done", timeout) == "done\n"
        pid = read_pid(child)
        reaper.append(pid)
        assert running(pid)  # it is the service's business, not confpy's
        os.kill(pid, signal.SIGKILL)


def test_a_failure_within_the_timeout_is_an_ordinary_failure() -> None:
    with pytest.raises(CommandFailed) as caught:
        run_command("echo bad; exit 4", 30.0, "check_cmd")
    assert type(caught.value) is CommandFailed
    assert (str(caught.value), caught.value.output) == ("exit status 4", "bad\n")
    assert run_command("printf ok", 30.0) == "ok"


def test_large_output_is_read_while_the_command_runs() -> None:
    # More than a pipe holds (64 KiB): the command would block if nobody read it.
    assert len(run_command("head -c 1000000 /dev/zero | tr '\\0' x", 30.0)) == 1_000_000


def test_an_exception_while_waiting_takes_the_command_down(tmp_path: Path, reaper: list[int]) -> None:
    # A second SIGTERM aborts the daemon in the middle of a command: the command goes too.
    child = tmp_path / "child"

    class Abort(BaseException):
        pass

    def interrupt() -> None:
        threading.Event().wait(0.3)
        signal.raise_signal(signal.SIGUSR1)

    def on_signal(signum: int, frame: object) -> None:
        raise Abort()

    previous = signal.signal(signal.SIGUSR1, on_signal)
    try:
        threading.Thread(target=interrupt).start()
        with pytest.raises(Abort):
            run_command(f"sleep 60 & echo $! > {child}; sleep 60")
    finally:
        signal.signal(signal.SIGUSR1, previous)
    reaper.append(read_pid(child))
    assert not running(read_pid(child))


def test_no_timeout_message_logged_by_run_command_itself() -> None:
    # The caller names the resource; run_command only says what ran, at debug level.
    with capture_logs() as logs, pytest.raises(CommandTimedOut):
        run_command("sleep 60", 0.1, "check_cmd")
    assert [m for m in logs.messages() if "timed out" in m] == []
    assert logs.messages() == ["Running sleep 60"]


def test_a_background_process_writing_without_end_does_not_hold_confpy(tmp_path: Path, reaper: list[int]) -> None:
    child = tmp_path / "child"
    output = run_command(f"yes & echo $! > {child}; exit 0", 30.0)
    reaper.append(read_pid(child))
    assert set(output) <= {"y", "\n"} and len(output) <= 2 << 20  # what the pipe held, no more
    # Its next write meets a closed pipe: SIGPIPE (hence the README's advice to redirect).
    wait_until(lambda: not running(read_pid(child)), 5, "yes to die of SIGPIPE")
    with pytest.raises(CommandTimedOut):  # and past a timeout, with the group's escapee
        run_command(f"setsid yes & echo $! > {child}; sleep 60", 0.3, "check_cmd")
    reaper.append(read_pid(child))
