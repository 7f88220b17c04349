"""The state file of reloads owed to the next run (confpy.pending)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from cli_helpers import capture_logs

from confpy.pending import PendingReloads, default_state_file
from confpy.resources import TemplateResource


def resource(tmp_path: Path, name: str) -> TemplateResource:
    return TemplateResource(path=tmp_path / "conf.d" / name, src=tmp_path / "t", dest=f"/d/{name}", prefix="/", keys=())


def test_a_failure_is_owed_until_a_reload_works(tmp_path: Path) -> None:
    state = tmp_path / "state" / "state.json"
    app, web = resource(tmp_path, "app.toml"), resource(tmp_path, "web.toml")
    first = PendingReloads(state)
    assert first.owed([app, web]) == []
    assert not state.exists()  # nothing owed, nothing written
    first.update([app], [])
    document = json.loads(state.read_text())
    assert document["version"] == 1 and list(document["pending"]) == [str(app.path)]
    assert document["pending"][str(app.path)]["dest"] == "/d/app.toml"
    assert state.stat().st_mode & 0o777 == 0o600
    # The next run: owed, run, paid.
    second = PendingReloads(state)
    assert second.owed([app, web]) == [app]
    second.update([], [app])
    assert json.loads(state.read_text())["pending"] == {}
    assert [p.name for p in state.parent.iterdir() if p.name.startswith(".")] == []  # no stage file left


def test_a_reload_of_a_resource_not_owed_does_not_touch_the_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    app = resource(tmp_path, "app.toml")
    pending = PendingReloads(state)
    assert pending.owed([app]) == []
    state.write_text("not JSON: would be warned about if read")
    with capture_logs() as logs:
        pending.update([], [app])  # a daemon's every reload: no read, no lock, no write
    assert logs.messages() == []
    assert state.read_text() == "not JSON: would be warned about if read"


def test_a_broken_file_is_named_and_ignored(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{broken")
    with capture_logs() as logs:
        assert PendingReloads(state).owed([resource(tmp_path, "a.toml")]) == []
    assert [m for m in logs.messages(logging.WARNING) if str(state) in m]


def test_a_state_file_that_cannot_be_written_is_one_warning(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    pending = PendingReloads(blocker / "state.json")  # its directory is a file
    with capture_logs() as logs:
        pending.update([resource(tmp_path, "a.toml")], [])
        pending.update([resource(tmp_path, "b.toml")], [])
    warnings = logs.messages(logging.WARNING)
    assert len(warnings) == 1 and "a.toml" in warnings[0] and "the next run will not run it again" in warnings[0]


@pytest.mark.parametrize("euid", [0, 1000])
def test_where_the_state_file_is(monkeypatch: pytest.MonkeyPatch, euid: int) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: euid)
    assert default_state_file({"CONFPY_STATE_FILE": "/x/s.json", "HOME": "/h"}) == Path("/x/s.json")
    if euid == 0:
        assert default_state_file({"HOME": "/h"}) == Path("/var/lib/confpy/state.json")
    else:
        assert default_state_file({"HOME": "/h"}) == Path("/h/.local/state/confpy/state.json")
        assert default_state_file({"XDG_STATE_HOME": "/s"}) == Path("/s/confpy/state.json")
