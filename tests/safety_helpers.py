"""A one-resource site for the safety features' CLI tests (rollback, backup, timeouts,
diff): ``conf.d/app.toml`` renders the env backend's ``APP_V`` into its dest."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from cli_helpers import Run, make_confdir, run_confpy

__all__ = ["Site", "kill_if_running", "make_site", "process_running", "read_pid", "where"]

TEMPLATE = '{{getv "/app/v"}}\n'


@dataclass
class Site:
    confdir: Path
    dest: Path
    state: Path  # the pending-reload state file, one per test

    def run(self, value: str, *args: str) -> Run:
        """``confpy -onetime -backend env`` with ``APP_V=value``."""
        return run_confpy(
            "-onetime", "-backend", "env", "-confdir", str(self.confdir), "-state-file", str(self.state), *args,
            env={"APP_V": value},
        )  # fmt: skip

    def pending(self) -> dict[str, object]:
        """The reloads the state file says are owed."""
        if not self.state.exists():
            return {}
        return dict(json.loads(self.state.read_text())["pending"])


def make_site(tmp_path: Path, dest: Path | None = None, template: str = TEMPLATE, **fields: object) -> Site:
    dest = dest or tmp_path / "app.conf"
    lines = ["[template]", 'src = "app.tmpl"', f"dest = {json.dumps(str(dest))}", 'keys = ["/app"]']
    lines += [f"{key} = {json.dumps(value)}" for key, value in fields.items()]
    confdir = make_confdir(tmp_path / "confdir", {"app.toml": "\n".join(lines) + "\n"}, {"app.tmpl": template})
    return Site(confdir, dest, tmp_path / "state.json")


def where(site: Site, field: str, command: str) -> str:
    """The resource context confpy's errors end with."""
    return f"(resource app.toml, dest {site.dest}, {field} {json.dumps(command)})"


def read_pid(path: Path) -> int:
    return int(path.read_text().split()[0])


def process_running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting for init is not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rpartition(b")")[2].split()[0]
    except FileNotFoundError:
        return False
    return state not in (b"Z", b"X")


def kill_if_running(pid: int) -> None:
    if process_running(pid):
        os.kill(pid, signal.SIGKILL)
