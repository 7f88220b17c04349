"""The daemon in-process, against the file and env backends: its logic without etcd.

Each test runs ``Daemon.run()`` in a thread (signals are then left alone) and ends it
with ``stop()``; log lines are captured from the ``confpy`` loggers.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import capture_logs, make_confdir
from daemon_helpers import read, wait_until

from confpy.backends.base import BackendSettings
from confpy.backends.env import EnvBackend
from confpy.backends.file import FileBackend
from confpy.daemon import Daemon
from confpy.retry import Backoff, ReloadRetry
from confpy.settings import Settings

pytestmark = pytest.mark.timeout(30)

TEMPLATE = '{{range gets "/app/*"}}{{base .Key}}={{.Value}}\n{{end}}'


def resource(dest: Path, *, reload_cmd: str = "", keys: str = '["/app"]', extra: str = "") -> str:
    text = f'[template]\nsrc = "app.tmpl"\ndest = "{dest}"\nkeys = {keys}\n{extra}'
    return text + (f"reload_cmd = {reload_cmd!r}\n" if reload_cmd else "")


class Running:
    """A daemon running in a thread."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.code: int | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.code = self.daemon.run()

    def stop(self) -> int | None:
        self.daemon.stop("terminated")
        self.thread.join(10)
        assert not self.thread.is_alive(), "the daemon did not stop"
        return self.code


@pytest.fixture()
def running() -> Iterator[list[Running]]:
    made: list[Running] = []
    yield made
    for one in made:
        if one.thread.is_alive():
            one.stop()


def file_daemon(tmp_path: Path, data: Path, resources: dict[str, str], **settings: Any) -> Daemon:
    root = make_confdir(tmp_path / "confdir", resources, {"app.tmpl": TEMPLATE})
    config = Settings(backend="file", files=(str(data),), confdir=str(root), config_file="", **settings)
    backend = FileBackend(BackendSettings(backend="file", files=config.files))
    fast = ReloadRetry(backoff=Backoff(base=0.4, cap=2.0, rng=random.Random(5)))
    return Daemon(config, backend, retry=fast)


def test_watch_mode_follows_a_file_and_stops_cleanly(tmp_path: Path, running: list[Running]) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("app:\n  a: 1\n")
    dest = tmp_path / "out.conf"
    daemon = file_daemon(tmp_path, data, {"app.toml": resource(dest)}, watch=True)
    running.append(Running(daemon))
    wait_until(lambda: read(dest) == "a=1\n", 10, "the first render")
    data.write_text("app:\n  a: 2\n  b: 3\n")
    wait_until(lambda: read(dest) == "a=2\nb=3\n", 10, "the change")
    assert running[0].stop() == 0


def test_the_first_render_does_not_wait_for_the_debounce_window(tmp_path: Path, running: list[Running]) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("app:\n  a: 1\n")
    dest = tmp_path / "out.conf"
    daemon = file_daemon(tmp_path, data, {"app.toml": resource(dest)}, watch=True, debounce_min=30.0, debounce_max=60.0)
    running.append(Running(daemon))
    wait_until(lambda: read(dest) == "a=1\n", 10, "the start-up render, not 30 s later")


def test_a_burst_of_edits_renders_once_after_the_quiet_time(tmp_path: Path, running: list[Running]) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("app:\n  a: 0\n")
    dest = tmp_path / "out.conf"
    marker = tmp_path / "reloads"
    daemon = file_daemon(
        tmp_path, data, {"app.toml": resource(dest, reload_cmd=f"echo x >> {marker}")},
        watch=True, debounce_min=1.5, debounce_max=20.0,
    )  # fmt: skip
    running.append(Running(daemon))
    wait_until(lambda: read(marker) == "x\n", 10, "the start-up render")
    for i in range(1, 6):
        data.write_text(f"app:\n  a: {i}\n")
        threading.Event().wait(0.3)
    wait_until(lambda: read(dest) == "a=5\n", 10, "the burst's last value")
    threading.Event().wait(2.0)
    assert read(marker) == "x\nx\n"  # one render and one reload for the whole burst


def test_a_failed_reload_runs_again_when_the_log_says_in_interval_mode(
    tmp_path: Path, running: list[Running]
) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("app:\n  a: 1\n")
    dest = tmp_path / "out.conf"
    attempts = tmp_path / "attempts"
    # Fails on the first run, works on the second.
    reload_cmd = f"echo x >> {attempts}; test $(wc -l < {attempts}) -ge 2"
    daemon = file_daemon(tmp_path, data, {"app.toml": resource(dest, reload_cmd=reload_cmd)}, interval=600)
    with capture_logs() as logs:
        running.append(Running(daemon))
        wait_until(lambda: read(attempts) == "x\nx\n", 10, "the retry, long before the next tick")
    assert any(m.startswith("Retrying the failed reload of 1 resource(s) in") for m in logs.messages())
    assert daemon.retry.pending == []


def test_a_failed_reload_runs_again_in_watch_mode(tmp_path: Path, running: list[Running]) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("app:\n  a: 1\n")
    dest = tmp_path / "out.conf"
    attempts = tmp_path / "attempts"
    reload_cmd = f"echo x >> {attempts}; test $(wc -l < {attempts}) -ge 3"
    daemon = file_daemon(tmp_path, data, {"app.toml": resource(dest, reload_cmd=reload_cmd)}, watch=True)
    running.append(Running(daemon))
    wait_until(lambda: read(attempts) == "x\nx\nx\n", 15, "two retries")
    threading.Event().wait(1.0)
    assert read(attempts) == "x\nx\nx\n"  # it worked: no more attempts


def test_rolled_back_content_is_not_written_again_until_it_changes_or_sighup(
    tmp_path: Path, running: list[Running]
) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("app:\n  a: 1\n")
    dest = tmp_path / "out.conf"
    seen = tmp_path / "seen"
    # Each reload records the file it saw; the service rejects a=2.
    reload_cmd = f"cat {dest} >> {seen}; ! grep -q a=2 {dest}"
    toml = resource(dest, reload_cmd=reload_cmd, extra="rollback = true\n")
    daemon = file_daemon(tmp_path, data, {"app.toml": toml}, interval=1)
    skipped = f"Not writing {dest}: this content was rolled back after reload_cmd failed; waiting for a change (resource app.toml)"
    with capture_logs() as logs:
        running.append(Running(daemon))
        wait_until(lambda: read(seen) == "a=1\n", 10, "the first render")
        data.write_text("app:\n  a: 2\n")
        wait_until(lambda: read(seen) == "a=1\na=2\na=1\n", 10, "the failed reload, then the rollback's")
        # An interval tick a second: every tick renders a=2 again, and leaves it.
        wait_until(lambda: logs.messages(logging.INFO).count(skipped) >= 2, 10, "two more ticks")
        assert read(seen) == "a=1\na=2\na=1\n"
        assert read(dest) == "a=1\n"
        assert daemon.retry.pending == []  # the file and the service agree: nothing owed
        assert (
            f"{dest} will not be written with this content again until it changes (or SIGHUP) (resource app.toml)"
            in logs.messages(logging.INFO)
        )
        daemon.reconfigure("SIGHUP")  # asked to try again: it does, once
        wait_until(lambda: read(seen) == "a=1\na=2\na=1\na=2\na=1\n", 10, "the same content tried again")
        data.write_text("app:\n  a: 3\n")  # a change: written, and it works
        wait_until(lambda: read(seen) == "a=1\na=2\na=1\na=2\na=1\na=3\n", 10, "the new content")
    assert read(dest) == "a=3\n"


def test_after_a_rollback_whose_reload_failed_too_only_the_reload_is_retried(
    tmp_path: Path, running: list[Running]
) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("app:\n  a: 1\n")
    dest = tmp_path / "out.conf"
    seen = tmp_path / "seen"
    # Rejects a=2, and fails its third run whatever the file (the service was down).
    reload_cmd = f"cat {dest} >> {seen}; ! grep -q a=2 {dest} && [ $(wc -l < {seen}) -ne 3 ]"
    toml = resource(dest, reload_cmd=reload_cmd, extra="rollback = true\n")
    # (No confdir watch: conf.d, written just before the start, would count as edited,
    # and an edit, as SIGHUP, has the rolled-back content written again.)
    daemon = file_daemon(tmp_path, data, {"app.toml": toml}, watch=True, watch_confdir=False)
    running.append(Running(daemon))
    wait_until(lambda: read(seen) == "a=1\n", 10, "the first render")
    data.write_text("app:\n  a: 2\n")
    # Rejected, rolled back, reloaded in vain; then the retry reloads the previous file
    # without writing a=2 again.
    wait_until(lambda: read(seen) == "a=1\na=2\na=1\na=1\n", 10, "the retry of the reload alone")
    wait_until(lambda: daemon.retry.pending == [], 5, "the owed reload paid")
    threading.Event().wait(1.0)
    assert read(seen) == "a=1\na=2\na=1\na=1\n"
    assert read(dest) == "a=1\n"


def test_reconfigure_loads_a_new_resource(tmp_path: Path, running: list[Running]) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("app:\n  a: 1\nweb:\n  w: 2\n")
    first, second = tmp_path / "one.conf", tmp_path / "two.conf"
    daemon = file_daemon(tmp_path, data, {"one.toml": resource(first)}, watch=True, watch_confdir=False)
    running.append(Running(daemon))
    wait_until(lambda: read(first) == "a=1\n", 10, "the first resource")
    root = Path(daemon.settings.confdir)
    (root / "templates" / "web.tmpl").write_text(TEMPLATE.replace("/app/", "/web/"))
    (root / "conf.d" / "two.toml").write_text(resource(second, keys='["/web"]').replace("app.tmpl", "web.tmpl"))
    daemon.reconfigure("test")
    wait_until(lambda: read(second) == "w=2\n", 10, "the new resource")


def test_a_backend_replaced_on_reconfigure_is_closed(tmp_path: Path, running: list[Running]) -> None:
    old_data, new_data = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old_data.write_text("app:\n  a: old\n")
    new_data.write_text("app:\n  a: new\n")
    dest = tmp_path / "out.conf"
    daemon = file_daemon(tmp_path, old_data, {"app.toml": resource(dest)}, watch=True, watch_confdir=False)
    closed: list[str] = []
    original = daemon.backend
    original.close = lambda: closed.append("old")  # type: ignore[method-assign]
    daemon.reload_settings = lambda: daemon.settings._replace(files=(str(new_data),))
    with capture_logs() as logs:
        running.append(Running(daemon))
        wait_until(lambda: read(dest) == "a=old\n", 10, "the first render")
        daemon.reconfigure("SIGHUP")
        wait_until(lambda: read(dest) == "a=new\n", 10, "the render from the new backend")
    assert closed == ["old"]
    assert daemon.backend is not original
    assert f"Backend source(s) set to {new_data}" in logs.messages()
    new_data.write_text("app:\n  a: newer\n")  # the new backend is the one watched
    wait_until(lambda: read(dest) == "a=newer\n", 10, "a change through the new backend")


def test_env_watch_mode_renders_once_and_waits(tmp_path: Path, running: list[Running]) -> None:
    dest = tmp_path / "out.conf"
    root = make_confdir(tmp_path / "confdir", {"app.toml": resource(dest)}, {"app.tmpl": TEMPLATE})
    settings = Settings(backend="env", confdir=str(root), config_file="", watch=True)
    backend = EnvBackend(BackendSettings(backend="env", environ={"APP_A": "1", "OTHER": "x"}))
    running.append(Running(Daemon(settings, backend)))
    wait_until(lambda: read(dest) == "a=1\n", 10, "the one render")
    assert running[0].thread.is_alive()
    assert running[0].stop() == 0


def test_watch_mode_waits_for_resources_to_appear(tmp_path: Path, running: list[Running]) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("app:\n  a: 1\n")
    dest = tmp_path / "out.conf"
    root = tmp_path / "confdir"  # not there yet: the daemon waits for it
    settings = Settings(backend="file", files=(str(data),), confdir=str(root), config_file="", watch=True)
    daemon = Daemon(settings, FileBackend(BackendSettings(backend="file", files=settings.files)))
    with capture_logs() as logs:
        running.append(Running(daemon))
        wait_until(lambda: bool(logs.messages()), 10, "the warning")
        assert logs.messages() == [f"Cannot load template resources: confdir '{root}' does not exist; waiting for it to appear"]
        make_confdir(root, {"app.toml": resource(dest)}, {"app.tmpl": TEMPLATE})
        wait_until(lambda: read(dest) == "a=1\n", 15, "the resource that appeared")
    assert running[0].thread.is_alive()


def test_interval_mode_waits_for_resources_to_appear(tmp_path: Path, running: list[Running]) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("app:\n  a: 1\n")
    dest = tmp_path / "out.conf"
    daemon = file_daemon(tmp_path, data, {}, interval=1)
    with capture_logs() as logs:
        running.append(Running(daemon))
        conf_d = Path(daemon.settings.confdir) / "conf.d"
        wait_until(lambda: bool(logs.messages()), 10, "the warning")
        assert logs.messages()[0] == f"Found no templates in {conf_d}; waiting for resource files (*.toml) to appear"
        (conf_d / "app.toml").write_text(resource(dest))
        wait_until(lambda: read(dest) == "a=1\n", 10, "the resource that appeared, at the next tick")
