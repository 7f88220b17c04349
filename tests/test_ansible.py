"""The Ansible role (slow, run by `make test-slow`): examples/ansible/playbook.yml run with
`ansible-playbook -c local` into a scratch root. It installs confpy into a virtual
environment (from wheels built here), lays down confd.toml, conf.d, templates and the
systemd unit, and enables the service; the service start is skipped where systemd is
not running (or, as here, the root is not /), and the playbook says so."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ansible"


def test_the_role_installs_confpy_into_a_scratch_root(tmp_path: Path) -> None:
    playbook = Path(sys.executable).with_name("ansible-playbook")
    if not playbook.exists():
        pytest.fail("ansible-playbook is missing: `make test-slow` installs confpy[test-slow]", pytrace=False)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "-w", str(wheels),
                    f"{ROOT}[metrics]"], check=True, timeout=600)  # fmt: skip
    target = tmp_path / "root"
    dest_dir = tmp_path / "out"
    dest_dir.mkdir()
    # The example's conf.d, with the dest moved into the scratch directory and without
    # nginx's commands (no nginx here).
    confd = tmp_path / "confd"
    shutil.copytree(EXAMPLE / "confd", confd)
    resource = confd / "conf.d" / "nginx.toml"
    lines = resource.read_text().replace("/etc/nginx/conf.d", str(dest_dir)).splitlines()
    resource.write_text("".join(f"{line}\n" for line in lines if not line.startswith(("check_cmd", "reload_cmd"))))
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp")}
    done = subprocess.run(
        [str(playbook), "-i", "localhost,", "-c", "local", str(EXAMPLE / "playbook.yml"),
         "-e", f"ansible_python_interpreter={sys.executable}",  # not whatever discovery finds
         "-e", f"confpy_root={target}", "-e", f"confpy_confd_src={confd}",
         "-e", f"confpy_python={Path(sys.base_prefix) / 'bin' / 'python3'}",  # this venv's own Python
         "-e", f"confpy_pip_extra_args='--no-index --find-links {wheels}'",
         "-e", f'{{"confpy_dest_dirs": ["{dest_dir}"]}}'],
        capture_output=True, text=True, timeout=600, check=False, env=env,
    )  # fmt: skip
    print(done.stdout)  # the playbook's own account, with why the service was not started
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "failed=0" in done.stdout
    assert "Not starting confpy.service:" in done.stdout

    venv = target / "opt" / "confpy"
    version = subprocess.run([str(venv / "bin" / "confpy"), "-version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("confpy 0.1.0")
    subprocess.run([str(venv / "bin" / "python"), "-c", "import prometheus_client"], check=True)  # confpy[metrics]
    confdir = target / "etc" / "confd"
    toml = (confdir / "confd.toml").read_text()
    for line in ('backend = "etcd"', 'nodes = ["http://127.0.0.1:2379"]', 'confdir = "/etc/confd"', "watch = true",
                 'log-format = "json"', 'metrics_addr = "127.0.0.1:9180"'):  # fmt: skip
        assert f"\n{line}\n" in toml, toml
    assert (confdir / "templates" / "nginx.conf.tmpl").read_bytes() == (EXAMPLE / "confd/templates/nginx.conf.tmpl").read_bytes()
    unit = (target / "etc" / "systemd" / "system" / "confpy.service").read_text()
    example = (ROOT / "examples" / "systemd" / "confpy.service").read_text()
    assert "ExecStart=/opt/confpy/bin/confpy -config-file /etc/confd/confd.toml\n" in unit
    assert f"ReadWritePaths={dest_dir}\n" in unit
    # The rest of the unit is the example's, hardening and all.
    body = [line for line in unit.split("[Unit]", 1)[1].splitlines() if not line.startswith(("ExecStart=", "ReadWritePaths="))]
    expected = [line for line in example.split("[Unit]", 1)[1].splitlines() if not line.startswith(("ExecStart=", "ReadWritePaths="))]
    assert body == expected
    wants = target / "etc" / "systemd" / "system" / "multi-user.target.wants" / "confpy.service"
    assert wants.is_symlink()  # enabled

    # The installed confpy renders the installed conf.d (the role's confd.toml points at
    # /etc/confd: -confdir says where it is in the scratch root).
    data = tmp_path / "keys.yaml"
    data.write_text('nginx-80:\n  a: "10.0.0.1:80"\n')
    run = subprocess.run([str(venv / "bin" / "confpy"), "-onetime", "-backend", "file", "-file", str(data),
                          "-confdir", str(confdir), "-config-file", str(confdir / "confd.toml")],
                         capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert (dest_dir / "upstream.conf").read_text() == "upstream app {\n    server 10.0.0.1:80;\n}\n"
