"""``rollback = true`` / ``-rollback``: a failed reload puts the previous file back and
runs reload_cmd again, through the command line. Each reload_cmd here records what the
dest held when it ran (``seen``), so the second reload is shown to see the old file.

The daemons' side (the same content is not written again in a loop) is in test_daemon.py.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from cli_helpers import capture_logs, stage_files
from safety_helpers import Site, make_site, where

from confpy.backends.base import BackendSettings
from confpy.backends.env import EnvBackend
from confpy.processor import Cycle
from confpy.resources import TemplateResource
from confpy.sync import SyncOptions

pytestmark = pytest.mark.timeout(30)


def recording(site: Site, seen: Path, then: str) -> str:
    """A reload_cmd that appends what the dest holds (or ``absent``) to ``seen``, prints
    ``reload of <content>``, then runs ``then``."""
    dest = site.dest
    return (
        f"if [ -e {dest} ]; then c=$(cat {dest}); else c=absent; fi; "
        f'echo "$c" >> {seen}; echo "reload of $c"; {then}'
    )


def site_with_reload(tmp_path: Path, then: str, **fields: object) -> tuple[Site, Path, str]:
    seen = tmp_path / "seen"
    site = make_site(tmp_path)  # to know the dest's path
    reload_cmd = recording(site, seen, then)
    return make_site(tmp_path, reload_cmd=reload_cmd, **fields), seen, reload_cmd


def failures(run_logs: list) -> list[tuple[str, str]]:
    return [(e.level, e.message) for e in run_logs if e.level in ("ERROR", "FATAL")]


def test_a_failed_reload_puts_the_previous_file_back_and_reloads_it(tmp_path: Path) -> None:
    # The service rejects anything but "old".
    site, seen, reload_cmd = site_with_reload(tmp_path, 'test "$c" = old', rollback=True, mode="0644")
    site.dest.write_text("old\n")
    os.chmod(site.dest, 0o640)
    if os.geteuid() == 0:
        os.chown(site.dest, 1234, 2345)
    before = site.dest.stat()
    run = site.run("new")
    assert run.code == 1
    assert seen.read_text() == "new\nold\n"  # the second reload saw the old file
    failure = f"exit status 1 {where(site, 'reload_cmd', reload_cmd)}"
    assert failures(run.logs) == [("ERROR", f"{failure}\n    reload of new"), ("FATAL", failure)]
    assert run.messages("WARNING") == [
        f"Rolled back {site.dest} to the previous file and ran reload_cmd again (resource app.toml)"
    ]
    assert f"Target config {site.dest} has been updated" not in run.messages("INFO")
    after = site.dest.stat()
    assert site.dest.read_text() == "old\n"
    assert (after.st_mode, after.st_uid, after.st_gid) == (before.st_mode, before.st_uid, before.st_gid)
    assert stage_files(str(site.dest)) == []
    assert site.pending() == {}  # the service and the file agree again: nothing owed


def test_with_no_previous_file_the_new_one_is_removed(tmp_path: Path) -> None:
    site, seen, _ = site_with_reload(tmp_path, 'test "$c" = absent', rollback=True)
    run = site.run("new")
    assert run.code == 1
    assert seen.read_text() == "new\nabsent\n"
    assert not site.dest.exists()
    assert run.messages("WARNING") == [
        f"Rolled back {site.dest}: removed it (there was no file before) and ran reload_cmd again (resource app.toml)"
    ]
    assert stage_files(str(site.dest)) == []


def test_the_flag_turns_rollback_on_for_every_resource_and_a_resource_can_refuse(tmp_path: Path) -> None:
    site, seen, _ = site_with_reload(tmp_path, 'test "$c" = old')
    site.dest.write_text("old\n")
    assert site.run("new", "-rollback").code == 1
    assert site.dest.read_text() == "old\n"
    assert seen.read_text() == "new\nold\n"
    # rollback = false in the resource beats -rollback: the rejected file stays, as confd.
    site, seen, _ = site_with_reload(tmp_path, 'test "$c" = old', rollback=False)
    seen.unlink()
    assert site.run("new", "-rollback").code == 1
    assert site.dest.read_text() == "new\n"
    assert seen.read_text() == "new\n"


def test_when_the_second_reload_fails_too_it_says_so_and_a_reload_is_owed(tmp_path: Path) -> None:
    site, seen, reload_cmd = site_with_reload(tmp_path, "exit 3", rollback=True)
    site.dest.write_text("old\n")
    run = site.run("new")
    assert run.code == 1
    assert seen.read_text() == "new\nold\n"
    failure = f"exit status 3 {where(site, 'reload_cmd', reload_cmd)}"
    again = f"Rolled back {site.dest} to the previous file, but reload_cmd failed again: {failure}"
    assert failures(run.logs) == [
        ("ERROR", f"{failure}\n    reload of new"),
        ("ERROR", f"{again}\n    reload of old"),
        ("FATAL", again),
    ]
    assert run.messages("WARNING") == []
    assert site.dest.read_text() == "old\n"  # the previous file stays
    # The service may be down: a reload of the file in place is owed to the next run.
    assert list(site.pending()) == [str(site.confdir / "conf.d" / "app.toml")]


def test_a_reload_timeout_rolls_back_too(tmp_path: Path) -> None:
    site, seen, reload_cmd = site_with_reload(tmp_path, 'if [ "$c" = new ]; then sleep 60; fi', rollback=True)
    site.dest.write_text("old\n")
    run = site.run("new", "-reload-timeout", "300ms")
    assert run.code == 1
    assert seen.read_text() == "new\nold\n"
    assert failures(run.logs)[0] == (
        "ERROR", f"reload_cmd timed out after 300ms {where(site, 'reload_cmd', reload_cmd)}\n    reload of new"
    )  # fmt: skip
    assert site.dest.read_text() == "old\n"
    assert site.pending() == {}


def test_a_symlinked_dest_is_put_back_as_the_symlink(tmp_path: Path) -> None:
    target = tmp_path / "real.conf"
    target.write_text("old\n")
    site, seen, _ = site_with_reload(tmp_path, 'test "$c" = old', rollback=True)
    site.dest.symlink_to(target)
    assert site.run("new").code == 1
    assert seen.read_text() == "new\nold\n"
    assert site.dest.is_symlink() and os.readlink(site.dest) == str(target)
    assert target.read_text() == "old\n"


def test_a_working_reload_keeps_the_new_file(tmp_path: Path) -> None:
    site, seen, _ = site_with_reload(tmp_path, "true", rollback=True, backup=True)
    site.dest.write_text("old\n")
    run = site.run("new")
    assert run.code == 0, run.stderr
    assert seen.read_text() == "new\n"
    assert site.dest.read_text() == "new\n"
    assert Path(f"{site.dest}.bak").read_text() == "old\n"
    assert f"Target config {site.dest} has been updated" in run.messages("INFO")


def test_sync_only_and_noop_run_no_reload_and_roll_nothing_back(tmp_path: Path) -> None:
    site, seen, _ = site_with_reload(tmp_path, "exit 1", rollback=True)
    site.dest.write_text("old\n")
    assert site.run("new", "-noop").code == 0
    assert site.dest.read_text() == "old\n"
    assert site.run("new", "-sync-only").code == 0
    assert site.dest.read_text() == "new\n"
    assert not seen.exists()


# -- in-process: resources sharing a reload (watch mode's batches), a failed restore ------


def cycle_resource(tmp_path: Path, name: str, reload_cmd: str, **fields: object) -> TemplateResource:
    """A resource rendering its own template (no keys) into ``tmp_path/<name>.conf``."""
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / f"{name}.tmpl").write_text(f"{name} new\n")
    return TemplateResource(
        path=tmp_path / "conf.d" / f"{name}.toml",
        src=tmp_path / "templates" / f"{name}.tmpl",
        dest=str(tmp_path / f"{name}.conf"),
        prefix="/",
        keys=(),
        reload_cmd=reload_cmd,
        name=f"{name}.toml",
        **fields,  # type: ignore[arg-type]
    )


def env_cycle() -> Cycle:
    return Cycle(EnvBackend(BackendSettings(backend="env", environ={})), SyncOptions())


def test_in_a_shared_reload_only_resources_with_a_rollback_are_rolled_back(tmp_path: Path) -> None:
    # One reload_cmd for both, rejecting a's new file; b has no rollback.
    reload_cmd = f"! grep -q 'a new' {tmp_path / 'a.conf'}"
    a = cycle_resource(tmp_path, "a", reload_cmd, rollback=True)
    b = cycle_resource(tmp_path, "b", reload_cmd)
    Path(a.dest).write_text("a old\n")
    Path(b.dest).write_text("b old\n")
    with capture_logs() as logs:
        result = env_cycle().run([a, b], batch_reloads=True)
    assert Path(a.dest).read_text() == "a old\n"
    assert Path(b.dest).read_text() == "b new\n"  # the second reload took it
    assert [r for r, _ in result.errors] == [a]
    assert result.rolled_back == [a]
    assert result.reloaded == [a, b] and result.reload_failed == []  # nothing owed
    assert f"Target config {b.dest} has been updated" in logs.messages(logging.INFO)
    assert f"Target config {a.dest} has been updated" not in logs.messages(logging.INFO)


def test_a_previous_file_that_cannot_be_put_back_is_said_and_owed(tmp_path: Path) -> None:
    # The reload replaces the dest with a directory: nothing can be renamed over it.
    dest = tmp_path / "a.conf"
    reload_cmd = f"rm {dest}; mkdir {dest}; exit 1"
    a = cycle_resource(tmp_path, "a", reload_cmd, rollback=True)
    dest.write_text("a old\n")
    with capture_logs() as logs:
        result = env_cycle().run([a])
    [(failed, error)] = result.errors
    assert failed is a
    assert str(error) == (
        f"Cannot roll back {dest}, the new file stays: cannot replace {dest}: Is a directory "
        f"(resource a.toml, dest {dest}, reload_cmd {json.dumps(reload_cmd)})"
    )
    assert logs.messages(logging.ERROR)[-1] == str(error)
    assert result.reload_failed == [a] and result.reloaded == [] and result.rolled_back == []
    assert stage_files(str(dest)) == []


def test_json_log_lines_of_a_rollback_carry_resource_dest_and_output(tmp_path: Path) -> None:
    site, _, _ = site_with_reload(tmp_path, "exit 3", rollback=True)
    site.dest.write_text("old\n")
    run = site.run("new", "-log-format", "json")
    entries = [json.loads(line) for line in run.stderr.splitlines()]
    errors = [e for e in entries if e["level"] == "error"]
    assert [(e["resource"], e["dest"], e["output"]) for e in errors] == [
        ("app.toml", str(site.dest), "reload of new\n"),
        ("app.toml", str(site.dest), "reload of old\n"),  # the second reload's own output
    ]
    assert errors[1]["msg"].startswith(f"Rolled back {site.dest} to the previous file, but reload_cmd failed again: ")
    assert all("\n" not in e["msg"] for e in entries)
