"""Daemon behaviour a user meets through the command line, with the file backend (no
server needed): the timing promises the log makes."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from cli_helpers import make_confdir
from daemon_helpers import ConfpyDaemon, read, wait_until

pytestmark = pytest.mark.timeout(40)

TEMPLATE = '{{range gets "/app/*"}}{{base .Key}}={{.Value}}\n{{end}}'


def confdir(tmp_path: Path, dest: Path, reload_cmd: str = "") -> Path:
    text = f'[template]\nsrc = "app.tmpl"\ndest = "{dest}"\nkeys = ["/app"]\n'
    if reload_cmd:
        text += f"reload_cmd = {reload_cmd!r}\n"
    return make_confdir(tmp_path / "confdir", {"app.toml": text}, {"app.tmpl": TEMPLATE})


def test_interval_mode_retries_a_failed_reload_when_its_log_says(tmp_path: Path) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("app:\n  a: 1\n")
    attempts = tmp_path / "attempts"
    reload_cmd = f"date +%s.%N >> {attempts}; test $(wc -l < {attempts}) -ge 2"
    root = confdir(tmp_path, tmp_path / "out.conf", reload_cmd)
    args = ["-backend", "file", "-file", str(data), "-confdir", str(root), "-interval", "60"]
    daemon = ConfpyDaemon(args, tmp_path / "confpy.log").start()
    try:
        wait_until(lambda: bool(daemon.log_lines("Retrying the failed reload")), 15, "the retry notice")
        announced = re.search(r"in (\d+)s", daemon.log_lines("Retrying the failed reload")[0])
        assert announced is not None
        # The tick is 60 s away; the retry comes when announced (rounded to a second).
        wait_until(lambda: len((read(attempts) or "").split()) >= 2, int(announced[1]) + 3, "the retried reload")
        first, second = (float(t) for t in (read(attempts) or "").split()[:2])
        assert abs(second - first - int(announced[1])) <= 1.5
    finally:
        assert daemon.stop() == 0


def test_the_start_up_render_does_not_wait_for_the_debounce_window(tmp_path: Path) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("app:\n  a: 1\n")
    dest = tmp_path / "out.conf"
    root = confdir(tmp_path, dest)
    args = ["-watch", "-backend", "file", "-file", str(data), "-confdir", str(root), "-debounce", "20s"]
    started = time.monotonic()
    daemon = ConfpyDaemon(args, tmp_path / "confpy.log").start()
    try:
        wait_until(lambda: read(dest) == "a=1\n", 10, "the start-up render (not after 20 s)")
        assert time.monotonic() - started < 10
    finally:
        assert daemon.stop() == 0


def test_an_unknown_field_is_warned_about_once_not_at_every_tick(tmp_path: Path) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("app:\n  a: 1\n")
    dest = tmp_path / "out.conf"
    root = make_confdir(
        tmp_path / "confdir",
        {"app.toml": f'[template]\nsrc = "app.tmpl"\ndest = "{dest}"\nkeys = ["/app"]\nreload_comand = "x"\n'},
        {"app.tmpl": TEMPLATE},
    )
    args = ["-backend", "file", "-file", str(data), "-confdir", str(root), "-interval", "1"]
    daemon = ConfpyDaemon(args, tmp_path / "confpy.log").start()
    try:
        wait_until(lambda: read(dest) == "a=1\n", 10, "the first render")
        data.write_text("app:\n  a: 2\n")
        wait_until(lambda: read(dest) == "a=2\n", 10, "a render at a later tick, conf.d read again")
        time.sleep(1.5)  # a tick or two more
        assert len(daemon.log_lines('unknown field "reload_comand"')) == 1, daemon.log()
    finally:
        assert daemon.stop() == 0
