"""The sync engine: stage, compare, check, commit, reload."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import capture_logs, stage_files

from confpy.backends.base import BackendSettings
from confpy.backends.env import EnvBackend
from confpy.commands import CommandFailed, run_command
from confpy.errors import CheckFailed, ReloadFailed, SyncError, describe
from confpy.processor import Cycle
from confpy.resources import TemplateResource
from confpy.staging import create_stage_file
from confpy.sync import SyncOptions, reload, sync

NEW = b"new content\n"
OLD = b"old content\n"


def resource(tmp_path: Path, dest: Path | str, **fields: Any) -> TemplateResource:
    return TemplateResource(
        path=tmp_path / "conf.d" / "x.toml",
        src=tmp_path / "templates" / "x.tmpl",
        dest=str(dest),
        prefix="/",
        keys=(),
        **fields,
    )


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture()
def umask() -> Iterator[None]:
    """A strict umask for the test: modes must not depend on it."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture()
def dest(tmp_path: Path) -> Path:
    """An existing destination with known content, mode 0644, owned by us."""
    path = tmp_path / "out" / "app.conf"
    path.parent.mkdir()
    path.write_bytes(OLD)
    path.chmod(0o644)
    return path


# -- the stage file ---------------------------------------------------------------------


def test_stage_file_is_created_0600_beside_dest(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        stage, fd = create_stage_file(str(tmp_path / "app.conf"), NEW)
    finally:
        os.umask(old)
    os.close(fd)
    path = Path(stage)
    assert path.parent == tmp_path
    assert re.fullmatch(r"\.app\.conf\d+", path.name)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == NEW
    assert stage_files(str(tmp_path / "app.conf")) == [path]


def test_check_sees_the_stage_file_with_its_final_mode(tmp_path: Path, dest: Path) -> None:
    seen = tmp_path / "seen"
    check = f"basename {{{{.src}}}} > {seen}; stat -c %a {{{{.src}}}} >> {seen}; cat {{{{.src}}}} >> {seen}"
    outcome = sync(resource(tmp_path, dest, mode=0o640, check_cmd=check), NEW, SyncOptions())
    assert outcome.committed
    name, mode, content = seen.read_text().split("\n", 2)
    assert re.fullmatch(r"\.app\.conf\d+", name)
    assert mode == "640"  # as confd: chmod before the check
    assert content.encode() == NEW
    assert stage_files(str(dest)) == []


# -- compare ----------------------------------------------------------------------------


def test_new_dest_is_written_with_default_mode(tmp_path: Path, umask: None) -> None:
    target = tmp_path / "fresh.conf"
    with capture_logs() as logs:
        outcome = sync(resource(tmp_path, target), NEW, SyncOptions())
    assert outcome.changed and outcome.committed
    assert target.read_bytes() == NEW
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # umask 077 ignored
    assert f"Target config {target} out of sync" in logs.messages(logging.INFO)
    assert stage_files(str(target)) == []


def test_each_difference_is_logged_as_confd_does(tmp_path: Path, dest: Path) -> None:
    dest.chmod(0o600)
    target = resource(tmp_path, dest, mode=0o644, uid=1234, gid=4321)
    with capture_logs() as logs:
        outcome = sync(target, NEW, SyncOptions())
    assert outcome.committed
    assert logs.messages(logging.INFO) == [
        f"{dest} has UID {os.geteuid()} should be 1234",
        f"{dest} has GID {os.getegid()} should be 4321",
        f"{dest} has mode -rw------- should be -rw-r--r--",
        f"{dest} has md5sum {md5(OLD)} should be {md5(NEW)}",
        f"Target config {dest} out of sync",
    ]
    st = dest.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1234, 4321, 0o644)
    assert dest.read_bytes() == NEW


def test_mode_alone_triggers_a_sync(tmp_path: Path, dest: Path) -> None:
    marker = tmp_path / "checked"
    target = resource(tmp_path, dest, mode=0o600, check_cmd=f"touch {marker}")
    with capture_logs() as logs:
        outcome = sync(target, OLD, SyncOptions())
    assert outcome.changed and outcome.committed
    assert logs.messages(logging.INFO)[0] == f"{dest} has mode -rw-r--r-- should be -rw-------"
    assert marker.exists()
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600


def test_setuid_mode_is_shown_as_go_shows_it(tmp_path: Path, dest: Path) -> None:
    # confd cannot set setuid, so a setuid dest always differs; Go's FileMode
    # string marks setuid with a leading "u".
    dest.chmod(0o4755)
    with capture_logs() as logs:
        sync(resource(tmp_path, dest, mode=0o755), OLD, SyncOptions())
    assert logs.messages(logging.INFO)[0] == f"{dest} has mode urwxr-xr-x should be -rwxr-xr-x"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o755


def test_in_sync_writes_nothing_and_runs_nothing(tmp_path: Path, dest: Path) -> None:
    marker = tmp_path / "ran"
    before = dest.stat()
    target = resource(tmp_path, dest, check_cmd=f"touch {marker}")
    with capture_logs() as logs:
        outcome = sync(target, OLD, SyncOptions())
    assert (outcome.changed, outcome.committed) == (False, False)
    assert not marker.exists()
    assert dest.stat().st_ino == before.st_ino
    assert f"Target config {dest} in sync" in logs.messages(logging.DEBUG)
    assert logs.messages(logging.INFO) == []
    assert stage_files(str(dest)) == []


def test_existing_mode_is_kept_when_no_mode_is_set(tmp_path: Path, dest: Path, umask: None) -> None:
    dest.chmod(0o640)
    outcome = sync(resource(tmp_path, dest), NEW, SyncOptions())
    assert outcome.committed
    assert stat.S_IMODE(dest.stat().st_mode) == 0o640


# -- noop, sync-only, keep-stage-file -----------------------------------------------------


@pytest.mark.parametrize("content", [NEW, OLD], ids=["changed", "in-sync"])
def test_noop_always_warns_and_changes_nothing(tmp_path: Path, dest: Path, content: bytes) -> None:
    marker = tmp_path / "ran"
    target = resource(tmp_path, dest, check_cmd=f"touch {marker}", reload_cmd=f"touch {marker}")
    with capture_logs() as logs:
        outcome = sync(target, content, SyncOptions(noop=True))
    assert not outcome.committed
    assert outcome.changed == (content != OLD)
    assert logs.messages(logging.WARNING) == [f"Noop mode enabled. {dest} will not be modified"]
    assert dest.read_bytes() == OLD
    assert not marker.exists()
    assert stage_files(str(dest)) == []


def test_noop_does_not_create_a_missing_dest_and_shows_a_diff(tmp_path: Path, dest: Path) -> None:
    missing = tmp_path / "out" / "missing.conf"
    with capture_logs() as logs:
        sync(resource(tmp_path, missing), NEW, SyncOptions(noop=True))
        sync(resource(tmp_path, dest), NEW, SyncOptions(noop=True))
    assert not missing.exists()
    # Without -diff, -noop shows the pending change at debug level (-diff: on stdout).
    diffs = [m for m in logs.messages(logging.DEBUG) if m.startswith("Changes to ")]
    assert diffs == [
        f"Changes to {missing}:\n    --- /dev/null\n    +++ {missing}\n    @@ -0,0 +1 @@\n    +new content",
        f"Changes to {dest}:\n    --- {dest}\n    +++ {dest}\n    @@ -1 +1 @@\n    -old content\n    +new content",
    ]


def test_sync_only_writes_without_commands(tmp_path: Path, dest: Path) -> None:
    target = resource(tmp_path, dest, check_cmd="exit 1")
    outcome = sync(target, NEW, SyncOptions(sync_only=True))
    assert outcome.committed
    assert dest.read_bytes() == NEW


def test_keep_stage_file_when_nothing_was_renamed(tmp_path: Path, dest: Path) -> None:
    with capture_logs() as logs:
        sync(resource(tmp_path, dest), OLD, SyncOptions(keep_stage_file=True))
    [kept] = stage_files(str(dest))
    assert logs.messages(logging.INFO) == [f"Keeping staged file: {kept}"]
    assert kept.read_bytes() == OLD
    kept.unlink()
    # A failed check keeps it too; a commit renames it away.
    with pytest.raises(CheckFailed):
        sync(resource(tmp_path, dest, check_cmd="exit 1"), NEW, SyncOptions(keep_stage_file=True))
    [kept] = stage_files(str(dest))
    assert kept.read_bytes() == NEW
    kept.unlink()
    with capture_logs() as logs:
        assert sync(resource(tmp_path, dest), NEW, SyncOptions(keep_stage_file=True)).committed
    assert stage_files(str(dest)) == []
    assert logs.messages(logging.INFO)[0].startswith("Keeping staged file: ")


# -- check_cmd and reload_cmd -------------------------------------------------------------


def test_check_failure_leaves_dest_byte_for_byte(tmp_path: Path, dest: Path) -> None:
    dest.chmod(0o640)
    before = dest.stat()
    target = resource(tmp_path, dest, mode=0o600, check_cmd="echo 'bad \"config\"'; printf 'x\\ty'; exit 3")
    with capture_logs() as logs, pytest.raises(CheckFailed) as caught:
        sync(target, NEW, SyncOptions())
    # confd's text first (people grep for it), then the resource, the dest and the command.
    check = '"echo \'bad \\"config\\"\'; printf \'x\\\\ty\'; exit 3"'  # Go-quoted
    assert str(caught.value) == f"Config check failed: exit status 3 (resource x.toml, dest {dest}, check_cmd {check})"
    assert caught.value.output == 'bad "config"\nx\ty'
    assert dest.read_bytes() == OLD
    after = dest.stat()
    assert (after.st_ino, after.st_mode, after.st_mtime_ns) == (before.st_ino, before.st_mode, before.st_mtime_ns)
    assert stage_files(str(dest)) == []
    assert logs.messages(logging.ERROR) == []  # the caller reports it, with the output under it
    assert describe(caught.value) == f'{caught.value}\n    bad "config"\n    x\ty'


def test_check_cmd_src_and_dest(tmp_path: Path, dest: Path) -> None:
    out = tmp_path / "args"
    check = f"printf '%s|%s' '{{{{.src}}}}' '{{{{.dest}}}}' > {out}"
    sync(resource(tmp_path, dest, check_cmd=check), NEW, SyncOptions())
    src, dest_text = out.read_text().split("|")
    assert re.fullmatch(rf"{re.escape(str(dest.parent))}/\.app\.conf\d+", src)
    assert dest_text == "<no value>"


def test_check_cmd_template_error_fails_the_resource(tmp_path: Path, dest: Path) -> None:
    with pytest.raises(CheckFailed) as caught:
        sync(resource(tmp_path, dest, check_cmd="check {{.src"), NEW, SyncOptions())
    assert str(caught.value).startswith("Config check failed: template: checkcmd:1: ")
    assert dest.read_bytes() == OLD
    assert stage_files(str(dest)) == []


def test_reload_cmd_is_not_templated(tmp_path: Path, dest: Path) -> None:
    out = tmp_path / "reload-arg"
    reload(resource(tmp_path, dest, reload_cmd=f"printf '%s' '{{{{.src}}}}' > {out}"))
    assert out.read_text() == "{{.src}}"


def test_reload_failure_after_the_dest_was_replaced(tmp_path: Path, dest: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "x.tmpl").write_bytes(NEW)
    target = resource(tmp_path, dest, reload_cmd="echo reloading; exit 3")
    backend = EnvBackend(BackendSettings(backend="env", environ={}))
    with capture_logs() as logs:
        result = Cycle(backend, SyncOptions()).run([target])
    [(failed, error)] = result.errors
    assert failed is target
    assert isinstance(error, ReloadFailed)
    where = f'(resource x.toml, dest {dest}, reload_cmd "echo reloading; exit 3")'
    assert str(error) == f"exit status 3 {where}"
    assert result.reload_failed == [target]
    assert dest.read_bytes() == NEW
    # One line a failure, the command's output indented under it, not Go-quoted.
    assert logs.messages(logging.ERROR) == [f"exit status 3 {where}\n    reloading"]
    assert f"Target config {dest} has been updated" not in logs.messages(logging.INFO)
    # Not retried: the next pass finds the dest in sync and runs nothing.
    result = Cycle(backend, SyncOptions()).run([target])
    assert result.errors == [] and result.updated == []


def test_run_command_errors_read_as_go_exec_errors() -> None:
    assert run_command("printf ok") == "ok"
    with pytest.raises(CommandFailed, match=r"^exit status 7$"):
        run_command("exit 7")
    with pytest.raises(CommandFailed, match=r"^signal: terminated$"):
        run_command("kill -TERM $$")
    with pytest.raises(CommandFailed, match=r"^signal: killed$"):
        run_command("kill -KILL $$")
    # Through /bin/sh -c; stdin is empty, stdout and stderr come back together.
    assert run_command("echo $0") == "/bin/sh\n"
    assert run_command("cat; echo out; echo err >&2") == "out\nerr\n"


def test_failed_command_output_is_kept_as_text_for_the_log() -> None:
    with capture_logs() as logs, pytest.raises(CommandFailed) as caught:
        run_command("printf '\\377ok\\tcaf\\303\\251\\n'; exit 1")
    assert caught.value.output == "\ufffdok\tcafé\n"  # printable: a byte not UTF-8 is replaced
    assert logs.messages(logging.ERROR) == []
    # On success, the output is logged Go-quoted at DEBUG, as confd does.
    with capture_logs() as logs:
        run_command("printf '\\377ok'")
    assert logs.messages(logging.DEBUG)[-1] == '"\\xffok"'


def test_multi_line_output_is_indented_under_the_message() -> None:
    error = CheckFailed("Config check failed: exit status 1 (resource a.toml)", "line one\n\nline three\n")
    assert describe(error) == "Config check failed: exit status 1 (resource a.toml)\n    line one\n    \n    line three"
    assert describe(CheckFailed("no output")) == "no output"


# -- the destination's directory and type --------------------------------------------------


def test_missing_dest_directory_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "nodir" / "app.conf"
    with pytest.raises(SyncError) as caught:
        sync(resource(tmp_path, target), NEW, SyncOptions())
    assert str(caught.value) == f"cannot stage {target}: directory {tmp_path / 'nodir'} does not exist"
    assert not (tmp_path / "nodir").exists()


def test_dest_that_is_a_directory_fails_and_stays(tmp_path: Path) -> None:
    target = tmp_path / "adir"
    target.mkdir()
    with pytest.raises(SyncError) as caught:
        sync(resource(tmp_path, target), NEW, SyncOptions())
    assert str(target) in str(caught.value)
    assert target.is_dir()
    assert stage_files(str(target)) == []


def test_symlink_at_dest_is_replaced_by_a_regular_file(tmp_path: Path) -> None:
    real = tmp_path / "real.conf"
    real.write_bytes(OLD)
    link = tmp_path / "link.conf"
    link.symlink_to(real)
    assert sync(resource(tmp_path, link), NEW, SyncOptions()).committed
    assert not link.is_symlink()
    assert link.read_bytes() == NEW
    assert real.read_bytes() == OLD


def test_compare_follows_a_symlink_at_dest(tmp_path: Path) -> None:
    real = tmp_path / "real.conf"
    real.write_bytes(OLD)
    real.chmod(0o644)
    link = tmp_path / "link.conf"
    link.symlink_to(real)
    outcome = sync(resource(tmp_path, link), OLD, SyncOptions())
    assert not outcome.changed
    assert link.is_symlink()


def test_bind_mounted_dest_is_written_in_place(tmp_path: Path) -> None:
    # A file bind-mounted over dest (Docker, confd issue #122) cannot be renamed over:
    # confd writes into it instead.
    source = tmp_path / "mounted-source"
    source.write_bytes(OLD)
    target = tmp_path / "app.conf"
    target.write_bytes(b"under the mount\n")
    mount = shutil.which("mount")
    if os.geteuid() != 0 or mount is None:
        pytest.skip("needs root and mount(8)")
    if subprocess.run([mount, "--bind", str(source), str(target)], capture_output=True).returncode:
        pytest.skip("bind mounts are not permitted here")
    try:
        with capture_logs() as logs:
            outcome = sync(resource(tmp_path, target), NEW, SyncOptions())
        assert outcome.committed
        assert target.read_bytes() == NEW
        assert "Rename failed - target is likely a mount. Trying to write instead" in logs.messages(logging.DEBUG)
        assert stage_files(str(target)) == []
    finally:
        subprocess.run(["umount", str(target)], check=True)
    assert source.read_bytes() == NEW  # the write went through the mount
    assert target.read_bytes() == b"under the mount\n"


def test_check_cmd_src_is_absolute_for_a_relative_dest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # nginx -t -c <relative> looks under nginx's own prefix: the stage file must be
    # named absolutely (confd passes the relative path; a deliberate divergence).
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    out = tmp_path / "args"
    sync(resource(tmp_path, "out/app.conf", check_cmd=f"printf '%s' '{{{{.src}}}}' > {out}"), NEW, SyncOptions())
    assert re.fullmatch(rf"{re.escape(str(tmp_path))}/out/\.app\.conf\d+", out.read_text())
    assert (tmp_path / "out" / "app.conf").read_bytes() == NEW
