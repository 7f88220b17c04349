"""``backup = true`` / ``-backup``: the replaced content kept as ``<dest>.bak``, through
the command line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_helpers import stage_files
from safety_helpers import make_site

pytestmark = pytest.mark.timeout(30)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving files away needs root")


def owner_and_mode(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_uid, st.st_gid, st.st_mode & 0o7777


def no_stage_files(dest: Path) -> bool:
    return stage_files(str(dest)) == [] and stage_files(f"{dest}.bak") == []


@needs_root
def test_the_previous_content_mode_and_owner_are_kept(tmp_path: Path) -> None:
    site = make_site(tmp_path, backup=True, mode="0644", uid=0, gid=0)
    site.dest.write_text("old\n")
    os.chown(site.dest, 1234, 2345)
    os.chmod(site.dest, 0o600)
    run = site.run("new")
    assert run.code == 0, run.stderr
    backup = Path(f"{site.dest}.bak")
    assert backup.read_text() == "old\n"
    assert owner_and_mode(backup) == (1234, 2345, 0o600)
    assert site.dest.read_text() == "new\n"
    assert owner_and_mode(site.dest) == (0, 0, 0o644)
    assert no_stage_files(site.dest)
    # The log lines are confd's: nothing about the backup above debug level.
    assert not [m for m in run.messages("INFO", "WARNING") if ".bak" in m]


def test_the_backup_replaces_the_last_one_atomically(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    site.dest.write_text("two\n")
    backup = Path(f"{site.dest}.bak")
    backup.write_text("one\n")
    held = tmp_path / "held"
    os.link(backup, held)  # the old backup's inode: written into, it would change too
    run = site.run("three", "-backup", "-log-level", "debug")
    assert run.code == 0, run.stderr
    assert (site.dest.read_text(), backup.read_text(), held.read_text()) == ("three\n", "two\n", "one\n")
    assert backup.stat().st_ino != held.stat().st_ino  # renamed into place
    assert no_stage_files(site.dest)
    assert f"Kept the previous {site.dest} as {backup}" in run.messages("DEBUG")


def test_a_new_dest_an_unchanged_one_and_noop_make_no_backup(tmp_path: Path) -> None:
    site = make_site(tmp_path, backup=True)
    backup = Path(f"{site.dest}.bak")
    assert site.run("first").code == 0
    assert not backup.exists()  # nothing was there to keep
    assert site.run("first").code == 0
    assert not backup.exists()  # in sync: nothing replaced
    run = site.run("second", "-noop")
    assert run.code == 0, run.stderr
    assert not backup.exists()
    assert site.dest.read_text() == "first\n"


def test_a_resource_can_turn_the_global_backup_off(tmp_path: Path) -> None:
    site = make_site(tmp_path, backup=False)
    site.dest.write_text("old\n")
    assert site.run("new", "-backup").code == 0
    assert not Path(f"{site.dest}.bak").exists()


def test_a_backup_that_cannot_be_made_leaves_the_dest_alone(tmp_path: Path) -> None:
    site = make_site(tmp_path, backup=True, reload_cmd=f"touch {tmp_path / 'reloaded'}")
    site.dest.write_text("old\n")
    Path(f"{site.dest}.bak").mkdir()  # in the way: the rename over it fails
    run = site.run("new")
    assert run.code == 1
    assert run.one_error() == f"cannot back up {site.dest} to {site.dest}.bak: cannot replace {site.dest}.bak: Is a directory"
    assert site.dest.read_text() == "old\n"
    assert not (tmp_path / "reloaded").exists()
    assert no_stage_files(site.dest)
