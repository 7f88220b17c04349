"""The Registrator/nginx example with a real nginx, as the README runs it: nginx started
on the rendered file, then confpy without ``-sync-only``: ``nginx -t`` on the stage file,
the file swapped in, ``nginx -s reload``; a config nginx rejects never gets in."""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cli_helpers import run_confpy
from servers import free_port

pytestmark = pytest.mark.timeout(60)

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = "examples/registrator-nginx"


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if found is None:
        pytest.fail("nginx is not installed (Debian package nginx-light); `make test` installs it", pytrace=False)
    return found


class _Backend(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"backend-ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def backend() -> Iterator[int]:
    """A container's service: answers every GET with ``backend-ok``; yields its port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Backend)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def get(port: int) -> tuple[int, str]:
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
    except httpx.HTTPError as exc:
        return 0, str(exc)
    return answer.status_code, answer.text


def test_the_example_checks_swaps_and_reloads_a_real_nginx(tmp_path: Path, backend: int) -> None:
    nginx = nginx_binary()
    env = {"PATH": f"{os.path.dirname(nginx)}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    # The example as a user has it (dest relative to the directory it runs in), on a free port.
    shutil.copytree(REPO / EXAMPLE, tmp_path / EXAMPLE, ignore=shutil.ignore_patterns("out"))
    (tmp_path / EXAMPLE / "out").mkdir()
    port = free_port()
    template = tmp_path / EXAMPLE / "templates" / "nginx.conf.tmpl"
    template.write_text(template.read_text().replace("listen 8080;", f"listen 127.0.0.1:{port};"))
    data = tmp_path / "data.yaml"
    args = ["-onetime", "-backend", "file", "-file", "data.yaml", "-confdir", EXAMPLE]

    # No container yet: render, then start nginx on the file (the README's steps).
    data.write_text("nginx-80: {}\n")
    assert run_confpy(*args, "-sync-only", cwd=tmp_path, env=env).code == 0
    subprocess.run([nginx, "-p", f"{EXAMPLE}/out", "-c", "nginx.conf"], cwd=tmp_path, check=True, timeout=20)
    try:
        deadline = time.monotonic() + 10
        while get(port)[0] != 502:  # up, with its one upstream down
            assert time.monotonic() < deadline, get(port)
            time.sleep(0.1)

        # A container registers: checked with nginx -t, swapped in, nginx reloaded.
        data.write_text(f'nginx-80:\n  3f1c2b9a7d10: "127.0.0.1:{backend}"\n')
        run = run_confpy(*args, cwd=tmp_path, env=env)
        assert run.code == 0, run.stderr
        rendered = (tmp_path / EXAMPLE / "out" / "nginx.conf").read_text()
        assert f"server 127.0.0.1:{backend};  # container 3f1c2b9a7d10" in rendered
        deadline = time.monotonic() + 10
        while get(port) != (200, "backend-ok\n"):
            assert time.monotonic() < deadline, get(port)
            time.sleep(0.1)

        # An address nginx rejects: the check fails, the file and nginx stay as they were.
        data.write_text('nginx-80:\n  bad: "not an address"\n')
        run = run_confpy(*args, cwd=tmp_path, env=env)
        assert run.code == 1
        assert run.one_error().startswith("Config check failed: exit status 1 (resource nginx.toml, ")
        # nginx's own words, indented under the error
        assert 'invalid parameter "an"' in run.stderr and "test failed" in run.stderr
        assert (tmp_path / EXAMPLE / "out" / "nginx.conf").read_text() == rendered
        assert [p.name for p in (tmp_path / EXAMPLE / "out").glob(".nginx.conf*")] == []
        assert get(port) == (200, "backend-ok\n")
    finally:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            subprocess.run([nginx, "-s", "quit", "-p", f"{EXAMPLE}/out", "-c", "nginx.conf"], cwd=tmp_path, timeout=20)
