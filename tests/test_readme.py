"""The README's commands, run as written: a new user copies them word for word.

Every ``confpy`` command line in the README's shell blocks must parse; the getting-started
block runs in this checkout; the walk-through runs in a copy of the examples against an
etcd and an nginx of its own. The only changes made to what the README says: free ports
in place of etcd's 2379 and nginx's 8080, the etcd started by the test instead of the
first block, and the ``.venv`` activation done by putting its bin directory on PATH.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import _start_etcd
from servers import free_port

from confpy.goflag import HelpRequested
from confpy.settings import build_flagset

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
BIN = Path(sys.executable).parent


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, re.S)


def block_with(line_start: str) -> str:
    [found] = [block for block in shell_blocks(README) if any(line.startswith(line_start) for line in block.splitlines())]
    return found


def commands(block: str) -> list[str]:
    """The block's command lines, comments dropped."""
    lines = (re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def run_bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=100, check=False
    )


def user_env(home: Path) -> dict[str, str]:
    """A shell with the virtual environment activated, as the README asks."""
    path = f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}:/usr/sbin:/sbin"
    # Not make's own variables: under `make test`, the block's make would be a sub-make
    # and print "Entering directory" lines a user's shell does not.
    inherited = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    return {**inherited, "PATH": path, "VIRTUAL_ENV": str(BIN.parent), "HOME": str(home), "TZ": "UTC",
            "CONFPY_STATE_FILE": str(home / "state.json")}  # fmt: skip


def test_every_confpy_command_line_in_the_readme_parses() -> None:
    lines = [line for block in shell_blocks(README) for line in commands(block) if line.startswith("confpy ")]
    assert len(lines) >= 6, lines  # the test is looking at the right thing
    for line in lines:
        flagset = build_flagset("confpy")
        try:
            given, positional = flagset.parse(shlex.split(line)[1:])
        except HelpRequested:
            continue
        assert positional == [], line  # a flag Go's rules would stop at
        assert given, line


def test_getting_started_as_written(tmp_path: Path) -> None:
    block = block_with("make install")
    steps = [line for line in commands(block) if line != "make test"]  # the one running this
    assert steps == ["make install", ". .venv/bin/activate", "confpy -version", "make demo"]
    done = run_bash("\n".join(steps), REPO, user_env(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^confpy \d+\.\d+\.\d+ \(confd 0\.16\.0 compatible", done.stdout, re.M), done.stdout
    expected = (REPO / "examples" / "registrator-nginx" / "expected" / "nginx.conf").read_text()
    assert done.stdout.endswith(expected), done.stdout
    assert "Deprecat" not in done.stdout + done.stderr  # no packaging warnings on the way


def test_the_walk_through_as_written(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    etcd_block = block_with("etcd --enable-v2=true")
    assert commands(etcd_block) == ["etcd --enable-v2=true --data-dir /tmp/walkthrough.etcd"]
    etcd = _start_etcd(tmp_path_factory, "readme-etcd")  # the same, on free ports
    try:
        work = tmp_path / "repo"
        shutil.copytree(REPO / "examples", work / "examples", ignore=shutil.ignore_patterns("out"))
        nginx_port = free_port()
        template = work / "examples" / "registrator-nginx" / "templates" / "nginx.conf.tmpl"
        template.write_text(template.read_text().replace("listen 8080;", f"listen 127.0.0.1:{nginx_port};"))
        env = user_env(tmp_path)

        def as_written(block: str) -> str:
            return block.replace("127.0.0.1:2379", etcd.endpoint)

        first = run_bash(as_written(block_with("mkdir -p examples/registrator-nginx/out")), work, env)
        assert first.returncode == 0, first.stdout + first.stderr
        expected = (REPO / "examples" / "registrator-nginx" / "expected" / "nginx.conf").read_text()
        assert first.stdout.endswith(expected.replace("listen 8080;", f"listen 127.0.0.1:{nginx_port};"))

        if shutil.which("nginx", path=env["PATH"]) is None:
            pytest.fail("nginx is not installed (Debian package nginx-light); `make test` installs it", pytrace=False)
        nginx_block = block_with("nginx -p examples/registrator-nginx/out")
        try:
            second = run_bash(as_written(nginx_block), work, env)
        finally:
            subprocess.run(
                ["nginx", "-s", "quit", "-p", "examples/registrator-nginx/out", "-c", "nginx.conf"],
                cwd=work, env=env, capture_output=True, timeout=20, check=False,
            )  # fmt: skip
        assert second.returncode == 0, second.stdout + second.stderr
        assert "server 127.0.0.1:9000;  # container c0ffee000001" in second.stdout
        assert "Target config examples/registrator-nginx/out/nginx.conf has been updated" in second.stderr
    finally:
        etcd.stop()
