"""confpy -onetime end to end, as a cron job runs it, against a real etcd (v2 API).

The seed scenario (issue 3): Registrator writes ``/nginx-80/<container id> = ip:port``;
``confpy -onetime -backend etcd -node 127.0.0.1:2379 -confdir /etc/confd`` renders the
nginx upstream, checks it, swaps it in and reloads. Each test keeps its keys under its
own ``etcd_prefix``. Then bad input, each failing with one clear line, exit 1 and the
destination untouched; and the file and env backends once each.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from cli_helpers import Run, make_confdir, run_confpy, stage_files
from servers import EtcdServer, FaultServer, dead_endpoint

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "registrator-nginx"
CONTAINERS = {"3f1c2b9a7d10": "10.100.194.202:1234", "9e8d7c6b5a40": "10.100.194.203:1234"}
KNOWN = b"# known content, written by the test\n"

pytestmark = pytest.mark.timeout(30)


def toml_resource(**fields: object) -> str:
    """A ``[template]`` table; JSON string and array syntax is valid TOML."""
    lines = ["[template]"] + [f"{key} = {json.dumps(value)}" for key, value in fields.items()]
    return "\n".join(lines) + "\n"


@dataclass
class Site:
    """A confdir with the example's nginx resource, its dest and a reload counter."""

    confdir: Path
    dest: Path
    counter: Path

    @property
    def reloads(self) -> int:
        return len(self.counter.read_text().splitlines()) if self.counter.exists() else 0


@pytest.fixture()
def site(tmp_path: Path, etcd_prefix: str) -> Site:
    dest = tmp_path / "nginx" / "nginx.conf"
    dest.parent.mkdir()
    counter = tmp_path / "reloads"
    confdir = make_confdir(
        tmp_path / "confd",
        {
            "nginx.toml": toml_resource(
                src="nginx.conf.tmpl",
                dest=str(dest),
                prefix=etcd_prefix,
                keys=["/nginx-80"],
                mode="0644",
                check_cmd="grep -q upstream {{.src}} && ! grep -q 10.66.66.66 {{.src}}",
                reload_cmd=f"echo reload >> {counter}",
            )
        },
        {"nginx.conf.tmpl": (EXAMPLE / "templates" / "nginx.conf.tmpl").read_text()},
    )
    return Site(confdir, dest, counter)


def onetime(etcd: EtcdServer, confdir: Path, *args: str, **kwargs: object) -> Run:
    return run_confpy(
        "-onetime", "-backend", "etcd", "-node", etcd.endpoint, "-confdir", str(confdir), *args,
        **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


def snapshot(path: Path) -> tuple[bytes, int, int, int]:
    st = path.stat()
    return path.read_bytes(), st.st_ino, st.st_mtime_ns, st.st_mode


def register(etcd: EtcdServer, prefix: str, containers: dict[str, str]) -> None:
    for container, address in containers.items():
        etcd.put(f"{prefix}/nginx-80/{container}", address)


# -- the seed walk-through --------------------------------------------------------------


def test_seed_walkthrough(etcd: EtcdServer, etcd_prefix: str, site: Site) -> None:
    register(etcd, etcd_prefix, CONTAINERS)

    # First run: writes the file (as the example's committed output) and reloads once.
    first = onetime(etcd, site.confdir)
    assert first.code == 0, first.stderr
    assert site.dest.read_bytes() == (EXAMPLE / "expected" / "nginx.conf").read_bytes()
    assert site.reloads == 1
    assert first.errors == []
    info = first.messages("INFO")
    assert info[:3] == ["Backend set to etcd", "Starting confd", f"Backend source(s) set to http://{etcd.endpoint}"]
    assert info[3:] == [f"Target config {site.dest} out of sync", f"Target config {site.dest} has been updated"]
    written = snapshot(site.dest)

    # Second run: in sync, nothing written, no reload.
    second = onetime(etcd, site.confdir)
    assert second.code == 0, second.stderr
    assert snapshot(site.dest) == written
    assert site.reloads == 1
    assert second.messages("INFO")[3:] == []

    # A changed key: rewritten and reloaded once.
    etcd.put(f"{etcd_prefix}/nginx-80/9e8d7c6b5a40", "10.100.194.209:4321")
    third = onetime(etcd, site.confdir)
    assert third.code == 0, third.stderr
    text = site.dest.read_text()
    assert "server 10.100.194.209:4321;  # container 9e8d7c6b5a40" in text
    assert "10.100.194.203" not in text
    assert site.reloads == 2
    md5_lines = [m for m in third.messages("INFO") if " has md5sum " in m]
    assert len(md5_lines) == 1 and md5_lines[0].startswith(f"{site.dest} has md5sum ")

    # Every container gone (an empty directory): the template's fallback.
    etcd.delete(f"{etcd_prefix}/nginx-80", recursive=True)
    etcd.mkdir(f"{etcd_prefix}/nginx-80")
    fourth = onetime(etcd, site.confdir)
    assert fourth.code == 0, fourth.stderr
    assert "server 127.0.0.1:1 down;  # no container registered" in site.dest.read_text()
    assert site.reloads == 3
    assert stage_files(str(site.dest)) == []


def test_failing_check_leaves_the_old_file(etcd: EtcdServer, etcd_prefix: str, site: Site) -> None:
    register(etcd, etcd_prefix, CONTAINERS)
    assert onetime(etcd, site.confdir).code == 0
    before = snapshot(site.dest)
    etcd.put(f"{etcd_prefix}/nginx-80/bad", "10.66.66.66:1")  # check_cmd rejects this one
    run = onetime(etcd, site.confdir)
    assert run.code == 1
    # confd's words first, then which resource, dest and command; no empty output line.
    check = 'check_cmd "grep -q upstream {{.src}} && ! grep -q 10.66.66.66 {{.src}}"'
    failed = f"Config check failed: exit status 1 (resource nginx.toml, dest {site.dest}, {check})"
    assert [(e.level, e.message) for e in run.logs if e.level in ("ERROR", "FATAL")] == [
        ("ERROR", failed),
        ("FATAL", failed),
    ]
    assert snapshot(site.dest) == before
    assert site.reloads == 1
    assert stage_files(str(site.dest)) == []


def test_noop_changes_nothing(etcd: EtcdServer, etcd_prefix: str, site: Site) -> None:
    register(etcd, etcd_prefix, CONTAINERS)
    assert onetime(etcd, site.confdir).code == 0
    before = snapshot(site.dest)
    etcd.put(f"{etcd_prefix}/nginx-80/new", "10.1.1.1:80")
    run = onetime(etcd, site.confdir, "-noop")
    assert run.code == 0, run.stderr
    assert snapshot(site.dest) == before
    assert site.reloads == 1
    assert run.messages("WARNING") == [f"Noop mode enabled. {site.dest} will not be modified"]
    assert any(m.startswith(f"{site.dest} has md5sum ") for m in run.messages("INFO"))


def test_a_failed_reload_runs_again_on_the_next_run(tmp_path: Path, etcd: EtcdServer, etcd_prefix: str) -> None:
    etcd.put(f"{etcd_prefix}/k", "v1")
    dest = tmp_path / "out.conf"
    counter = tmp_path / "reloads"
    state = tmp_path / "state.json"
    # The reload fails the first time only (the service was down, say).
    reload_cmd = f"echo reload >> {counter}; echo failing; echo twice; test $(wc -l < {counter}) -ge 2"
    confdir = make_confdir(
        tmp_path / "confd",
        {"a.toml": toml_resource(src="a.tmpl", dest=str(dest), prefix=etcd_prefix, keys=["/k"],
                                 reload_cmd=reload_cmd)},
        {"a.tmpl": '{{getv "/k"}}'},
    )  # fmt: skip
    run = onetime(etcd, confdir, "-state-file", str(state))
    assert run.code == 1
    failed = f"exit status 1 (resource a.toml, dest {dest}, reload_cmd {json.dumps(reload_cmd)})"
    # The output indented under the line it explains; the FATAL line repeats the error alone.
    assert [(e.level, e.message) for e in run.logs if e.level in ("ERROR", "FATAL")] == [
        ("ERROR", f"{failed}\n    failing\n    twice"),
        ("FATAL", failed),
    ]
    assert dest.read_text() == "v1"  # already replaced
    assert f"Target config {dest} has been updated" not in run.messages("INFO")
    assert str(confdir / "conf.d" / "a.toml") in json.loads(state.read_text())["pending"]
    # The next run finds the file in sync, and still owes the reload: it runs it.
    again = onetime(etcd, confdir, "-state-file", str(state))
    assert again.code == 0, again.stderr
    assert counter.read_text() == "reload\nreload\n"
    assert f"The reload of {dest} failed in an earlier run; running it again (resource a.toml)" in again.messages("INFO")
    assert json.loads(state.read_text())["pending"] == {}
    # Paid: the run after that has nothing to do.
    third = onetime(etcd, confdir, "-state-file", str(state))
    assert third.code == 0, third.stderr
    assert counter.read_text() == "reload\nreload\n"


def test_sync_only_writes_without_check_or_reload(etcd: EtcdServer, etcd_prefix: str, site: Site) -> None:
    register(etcd, etcd_prefix, {**CONTAINERS, "bad": "10.66.66.66:1"})
    run = onetime(etcd, site.confdir, "-sync-only")
    assert run.code == 0, run.stderr
    assert "10.66.66.66:1" in site.dest.read_text()  # the check would have refused it
    assert site.reloads == 0


def test_global_prefix_replaces_the_resource_prefix(etcd: EtcdServer, etcd_prefix: str, site: Site) -> None:
    register(etcd, etcd_prefix + "/other", {"c1": "10.9.9.9:99"})
    run = onetime(etcd, site.confdir, "-prefix", etcd_prefix.lstrip("/") + "/other")
    assert run.code == 0, run.stderr
    assert "server 10.9.9.9:99;  # container c1" in site.dest.read_text()


def test_missing_key_fails_that_resource_only(tmp_path: Path, etcd: EtcdServer, etcd_prefix: str) -> None:
    etcd.put(f"{etcd_prefix}/app/name", "demo")
    confdir = make_confdir(
        tmp_path / "confd",
        {
            "a-bad.toml": toml_resource(src="bad.tmpl", dest=str(tmp_path / "bad.conf"), prefix=etcd_prefix, keys=["/app"]),
            "b-good.toml": toml_resource(src="good.tmpl", dest=str(tmp_path / "good.conf"), prefix=etcd_prefix, keys=["/app"]),
        },
        {"bad.tmpl": 'name={{getv "/app/name"}}\n{{getv "/app/missing"}}\n', "good.tmpl": 'name={{getv "/app/name"}}\n'},
    )  # fmt: skip
    run = onetime(etcd, confdir)
    assert run.code == 1
    expected = (
        'template: bad.tmpl:2:2: executing "bad.tmpl" at <getv "/app/missing">: '
        f"error calling getv: key does not exist: /app/missing (key {etcd_prefix}/app/missing in the store, resource a-bad.toml)"
    )
    assert [(e.level, e.message) for e in run.logs if e.level in ("ERROR", "FATAL")] == [
        ("ERROR", expected),
        ("FATAL", expected),
    ]
    assert not (tmp_path / "bad.conf").exists()
    assert (tmp_path / "good.conf").read_text() == "name=demo\n"
    assert stage_files(str(tmp_path / "bad.conf")) == []


def test_missing_keys_and_directories_are_absent(tmp_path: Path, etcd: EtcdServer, etcd_prefix: str) -> None:
    # Deliberate divergence: confd 0.16.0's v2 backend failed with "100: Key not found"
    # (confd issue #585); here a missing key is simply absent.
    etcd.put(f"{etcd_prefix}/present/k", "v")
    dest = tmp_path / "out.conf"
    confdir = make_confdir(
        tmp_path / "confd",
        {"a.toml": toml_resource(src="a.tmpl", dest=str(dest), prefix=etcd_prefix,
                                 keys=["/nothing-here", "/present", "/not/a/dir"])},
        {"a.tmpl": 'ls={{ls "/nothing-here"}} gets={{len (gets "/nothing-here/*")}} '
                   'exists={{exists "/not/a/dir"}} lsdir={{lsdir "/"}} k={{getv "/present/k"}}\n'},
    )  # fmt: skip
    run = onetime(etcd, confdir)
    assert run.code == 0, run.stderr
    assert dest.read_text() == "ls=[] gets=0 exists=false lsdir=[] k=v\n"


@pytest.mark.parametrize("form", ["host:port", "http-url", "url-with-slash"])
def test_node_forms(tmp_path: Path, etcd: EtcdServer, etcd_prefix: str, form: str) -> None:
    node = {"host:port": etcd.endpoint, "http-url": etcd.url, "url-with-slash": etcd.url + "/"}[form]
    etcd.put(f"{etcd_prefix}/k", form)
    dest = tmp_path / "out"
    confdir = make_confdir(
        tmp_path / "confd",
        {"a.toml": toml_resource(src="a.tmpl", dest=str(dest), keys=[f"{etcd_prefix}/k"])},
        {"a.tmpl": f'{{{{getv "{etcd_prefix}/k"}}}}'},
    )
    run = run_confpy("-onetime", "-backend", "etcd", "-node", node, "-confdir", str(confdir))
    assert run.code == 0, run.stderr
    assert dest.read_text() == form


def test_first_node_dead_second_alive(tmp_path: Path, etcd: EtcdServer, etcd_prefix: str) -> None:
    etcd.put(f"{etcd_prefix}/k", "from-second-node")
    dest = tmp_path / "out"
    confdir = make_confdir(
        tmp_path / "confd",
        {"a.toml": toml_resource(src="a.tmpl", dest=str(dest), prefix=etcd_prefix, keys=["/k"])},
        {"a.tmpl": '{{getv "/k"}}'},
    )
    dead = dead_endpoint()
    run = run_confpy(
        "-onetime", "-backend", "etcd", "-node", dead, "-node", etcd.endpoint, "-confdir", str(confdir),
        "-backend-timeout", "2s",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert dest.read_text() == "from-second-node"
    assert f"Backend source(s) set to http://{dead}, http://{etcd.endpoint}" in run.messages("INFO")


def test_nodes_from_etcdctl_peers(tmp_path: Path, etcd: EtcdServer, etcd_prefix: str) -> None:
    etcd.put(f"{etcd_prefix}/k", "peers")
    dest = tmp_path / "out"
    confdir = make_confdir(
        tmp_path / "confd",
        {"a.toml": toml_resource(src="a.tmpl", dest=str(dest), prefix=etcd_prefix, keys=["/k"])},
        {"a.tmpl": '{{getv "/k"}}'},
    )
    dead = f"http://{dead_endpoint()}"
    run = run_confpy("-onetime", "-confdir", str(confdir), env={"ETCDCTL_PEERS": f"{dead},{etcd.url}"})
    assert run.code == 0, run.stderr
    assert dest.read_text() == "peers"
    assert f"Backend source(s) set to {dead}, {etcd.url}" in run.messages("INFO")


def test_onetime_goes_on_past_failures_and_ends_with_a_summary(
    tmp_path: Path, etcd: EtcdServer, etcd_prefix: str
) -> None:
    etcd.put(f"{etcd_prefix}/k", "v")
    confdir = make_confdir(
        tmp_path / "confd",
        {
            "a.toml": toml_resource(src="missing.tmpl", dest=str(tmp_path / "a"), prefix=etcd_prefix, keys=["/k"]),
            "b.toml": toml_resource(src="b.tmpl", dest=str(tmp_path / "b"), prefix=etcd_prefix, keys=["/k"]),
            "c.toml": toml_resource(src="c.tmpl", dest=str(tmp_path / "c"), prefix=etcd_prefix, keys=["/k"]),
        },
        {"b.tmpl": '{{getv "/k"}}', "c.tmpl": '{{getv "/nope"}}'},
    )  # fmt: skip
    run = onetime(etcd, confdir)
    assert run.code == 1
    missing = f"Missing template: {confdir}/templates/missing.tmpl"
    last = (
        'template: c.tmpl:1:2: executing "c.tmpl" at <getv "/nope">: error calling getv: key does not exist: /nope'
        f" (key {etcd_prefix}/nope in the store, resource c.toml, whose keys ({etcd_prefix}/k) do not cover it)"
    )
    # Each failure at ERROR, then a FATAL line naming every resource that failed.
    assert [(e.level, e.message) for e in run.logs if e.level in ("ERROR", "FATAL")] == [
        ("ERROR", missing),
        ("ERROR", last),
        ("FATAL", "2 of 3 resources failed: a.toml, c.toml"),
    ]
    assert (tmp_path / "b").read_text() == "v"


def test_keys_fetched_once_for_all_resources(tmp_path: Path, etcd: EtcdServer, etcd_prefix: str) -> None:
    # Several resources over the same keys: each renders from the one consistent read.
    register(etcd, etcd_prefix, CONTAINERS)
    resources = {
        f"r{i}.toml": toml_resource(src="n.tmpl", dest=str(tmp_path / f"out{i}"), prefix=etcd_prefix,
                                    keys=["/nginx-80"] if i % 2 else ["/nginx-80/3f1c2b9a7d10"])
        for i in range(4)
    }  # fmt: skip
    confdir = make_confdir(tmp_path / "confd", resources, {"n.tmpl": '{{range gets "/nginx-80/*"}}{{.Value}} {{end}}'})
    run = onetime(etcd, confdir)
    assert run.code == 0, run.stderr
    both = "10.100.194.202:1234 10.100.194.203:1234 "
    assert [(tmp_path / f"out{i}").read_text() for i in range(4)] == ["10.100.194.202:1234 ", both] * 2


# -- bad input: one clear line, exit 1, the destination untouched -------------------------


KNOWN_MTIME_NS = 1_000_000_000_000_000_000  # 2001-09-09


@pytest.fixture()
def known_dest(tmp_path: Path) -> Path:
    """An existing dest: KNOWN content, mode 0644, an mtime no write would give it."""
    dest = tmp_path / "out" / "app.conf"
    dest.parent.mkdir()
    dest.write_bytes(KNOWN)
    dest.chmod(0o644)
    os.utime(dest, ns=(KNOWN_MTIME_NS, KNOWN_MTIME_NS))
    return dest


def assert_failed_cleanly(run: Run, dest: Path) -> str:
    """Exit 1, one clear error in confd's format, and ``known_dest`` as it was."""
    assert run.code == 1, run.stderr
    message = run.one_error()
    assert "Traceback" not in run.stderr
    st = dest.stat()
    assert (dest.read_bytes(), st.st_mtime_ns, st.st_mode) == (KNOWN, KNOWN_MTIME_NS, 0o100644)
    assert stage_files(str(dest)) == []
    return message


def simple_site(tmp_path: Path, dest: Path, prefix: str, template: str | bytes = '{{getv "/k" "d"}}', **fields: object) -> Path:
    resource = {"src": "a.tmpl", "dest": str(dest), "prefix": prefix, "keys": ["/k"], **fields}
    return make_confdir(tmp_path / "confd", {"a.toml": toml_resource(**resource)}, {"a.tmpl": template})


def test_malformed_toml(tmp_path: Path, etcd: EtcdServer, etcd_prefix: str, known_dest: Path) -> None:
    confdir = simple_site(tmp_path, known_dest, etcd_prefix)
    (confdir / "conf.d" / "b.toml").write_text('[template]\nsrc = "a.tmpl"\ndest = "x\n')
    run = onetime(etcd, confdir)
    message = assert_failed_cleanly(run, known_dest)
    assert message.startswith(f"Cannot process template resource {confdir}/conf.d/b.toml - ")
    assert "line 3" in message
    # Fatal before anything is processed: the valid a.toml did not run either.
    assert [e.level for e in run.logs if e.level != "INFO"] == ["FATAL"]


def test_mode_as_integer(tmp_path: Path, etcd: EtcdServer, etcd_prefix: str, known_dest: Path) -> None:
    confdir = simple_site(tmp_path, known_dest, etcd_prefix)
    (confdir / "conf.d" / "a.toml").write_text(
        f'[template]\nsrc = "a.tmpl"\ndest = "{known_dest}"\nmode = 0644\n'
    )
    message = assert_failed_cleanly(onetime(etcd, confdir), known_dest)
    assert message.endswith('a.toml - line 4: field mode must be a string, not an integer (write it as a string, e.g. mode = "0644")')


def test_bad_mode_string(tmp_path: Path, etcd: EtcdServer, etcd_prefix: str, known_dest: Path) -> None:
    confdir = simple_site(tmp_path, known_dest, etcd_prefix, mode="rw-r--r--")
    message = assert_failed_cleanly(onetime(etcd, confdir), known_dest)
    assert message.startswith(f"{confdir}/conf.d/a.toml: line ")
    assert 'mode "rw-r--r--" is not a file mode' in message


def test_missing_src(tmp_path: Path, etcd: EtcdServer, known_dest: Path) -> None:
    confdir = make_confdir(tmp_path / "confd", {"a.toml": toml_resource(dest=str(known_dest))})
    message = assert_failed_cleanly(onetime(etcd, confdir), known_dest)
    assert message == f"Cannot process template resource {confdir}/conf.d/a.toml - empty src template"


def test_missing_dest(tmp_path: Path, etcd: EtcdServer, etcd_prefix: str, known_dest: Path) -> None:
    confdir = make_confdir(
        tmp_path / "confd",
        {"a.toml": toml_resource(src="a.tmpl", prefix=etcd_prefix, keys=["/k"])},
        {"a.tmpl": "x"},
    )
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    run = onetime(etcd, confdir, cwd=workdir)
    assert run.code == 1
    message = run.one_error()
    assert message.startswith(f"{confdir}/conf.d/a.toml: ")
    assert "dest" in message
    assert list(workdir.iterdir()) == []  # confd would leave "..<digits>" here


def test_unknown_backend(tmp_path: Path, etcd_prefix: str, known_dest: Path) -> None:
    confdir = simple_site(tmp_path, known_dest, etcd_prefix)
    run = run_confpy("-onetime", "-backend", "etcd2", "-confdir", str(confdir))
    message = assert_failed_cleanly(run, known_dest)
    assert message.startswith("Invalid backend 'etcd2'")
    assert all(name in message for name in ("env", "etcd", "file"))


@pytest.mark.timeout(20)
def test_unreachable_etcd_fails_fast(tmp_path: Path, etcd_prefix: str, known_dest: Path) -> None:
    confdir = simple_site(tmp_path, known_dest, etcd_prefix)
    dead = dead_endpoint()
    run = run_confpy("-onetime", "-node", dead, "-backend-timeout", "1s", "-confdir", str(confdir))
    message = assert_failed_cleanly(run, known_dest)
    assert dead in message
    assert "connection refused" in message
    assert run.elapsed < 5


@pytest.mark.timeout(20)
def test_silent_etcd_fails_within_the_backend_timeout(
    tmp_path: Path, etcd_prefix: str, known_dest: Path, fault_server: type[FaultServer]
) -> None:
    slow = fault_server("slow", delay=30)
    confdir = simple_site(tmp_path, known_dest, etcd_prefix)
    run = run_confpy("-onetime", "-node", slow.endpoint, "-backend-timeout", "1s", "-confdir", str(confdir))
    message = assert_failed_cleanly(run, known_dest)
    assert slow.endpoint in message
    assert run.elapsed < 5
    assert slow.requests, "the server was asked"


def test_template_syntax_error(tmp_path: Path, etcd: EtcdServer, etcd_prefix: str, known_dest: Path) -> None:
    confdir = simple_site(tmp_path, known_dest, etcd_prefix, template="upstream {\n  {{range}}\n}\n")
    message = assert_failed_cleanly(onetime(etcd, confdir), known_dest)
    assert message.startswith(f"Unable to process template {confdir}/templates/a.tmpl, template: a.tmpl:2: ")
    assert "(line 2, column " in message


def test_missing_template_file(tmp_path: Path, etcd: EtcdServer, etcd_prefix: str, known_dest: Path) -> None:
    confdir = simple_site(tmp_path, known_dest, etcd_prefix)
    (confdir / "templates" / "a.tmpl").unlink()
    message = assert_failed_cleanly(onetime(etcd, confdir), known_dest)
    assert message == f"Missing template: {confdir}/templates/a.tmpl"


def test_non_utf8_template(tmp_path: Path, etcd: EtcdServer, etcd_prefix: str, known_dest: Path) -> None:
    confdir = simple_site(tmp_path, known_dest, etcd_prefix, template=b"upstream {\n  caf\xe9 {{.}}\n}\n")
    message = assert_failed_cleanly(onetime(etcd, confdir), known_dest)
    assert message.startswith(f"Unable to process template {confdir}/templates/a.tmpl, template: a.tmpl:2:")
    assert "UTF-8" in message and "(line 2, column 6)" in message


def test_dest_directory_missing(tmp_path: Path, etcd: EtcdServer, etcd_prefix: str) -> None:
    dest = tmp_path / "nodir" / "app.conf"
    confdir = simple_site(tmp_path, dest, etcd_prefix)
    run = onetime(etcd, confdir)
    assert run.code == 1
    assert run.one_error() == f"cannot stage {dest}: directory {tmp_path / 'nodir'} does not exist"
    assert not (tmp_path / "nodir").exists()


def test_dest_directory_not_writable(tmp_path: Path, etcd: EtcdServer, etcd_prefix: str, known_dest: Path) -> None:
    # We run as root, for whom mode bits do not stop writes: make the directory immutable.
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(known_dest.parent)], capture_output=True).returncode:
        pytest.skip("cannot make a directory immutable here (chattr +i)")
    try:
        confdir = simple_site(tmp_path, known_dest, etcd_prefix)
        run = onetime(etcd, confdir)
    finally:
        subprocess.run([chattr, "-i", str(known_dest.parent)], check=True)
    message = assert_failed_cleanly(run, known_dest)
    assert message == f"cannot stage {known_dest}: Operation not permitted ({known_dest.parent})"


def test_dest_directory_forbidden(tmp_path: Path, etcd: EtcdServer, etcd_prefix: str) -> None:
    # /sys refuses new files even to root.
    confdir = simple_site(tmp_path, Path("/sys/confpy-test.conf"), etcd_prefix)
    run = onetime(etcd, confdir)
    assert run.code == 1
    message = run.one_error()
    assert message.startswith("cannot stage /sys/confpy-test.conf: ") and message.endswith(" (/sys)")
    assert "Permission denied" in message or "Read-only file system" in message


@pytest.mark.timeout(30)
def test_v2_api_disabled(tmp_path: Path, etcd_v2_off: EtcdServer, known_dest: Path) -> None:
    confdir = simple_site(tmp_path, known_dest, "/t-v2off")
    run = run_confpy("-onetime", "-node", etcd_v2_off.endpoint, "-confdir", str(confdir))
    message = assert_failed_cleanly(run, known_dest)
    assert etcd_v2_off.endpoint in message
    assert "--enable-v2" in message and "-backend etcdv3" in message


# -- the file and env backends, and the demo ---------------------------------------------


def test_file_backend(tmp_path: Path) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("app:\n  port: 0777\n  debug: yes\n  hosts: [a, b]\n  name: demo\n")
    override = tmp_path / "override.json"
    override.write_text('{"app": {"name": "override"}}')
    dest = tmp_path / "out.conf"
    confdir = make_confdir(
        tmp_path / "confd",
        {"a.toml": toml_resource(src="a.tmpl", dest=str(dest), prefix="/app", keys=["/"])},
        {"a.tmpl": '{{getv "/port"}} {{getv "/debug"}} {{getvs "/hosts/*"}} {{getv "/name"}}\n'},
    )
    run = run_confpy(
        "-onetime", "-backend", "file", "-file", str(data), "-file", str(override), "-confdir", str(confdir)
    )
    assert run.code == 0, run.stderr
    assert dest.read_text() == "511 true [a b] override\n"


def test_env_backend(tmp_path: Path) -> None:
    dest = tmp_path / "out.conf"
    confdir = make_confdir(
        tmp_path / "confd",
        {"a.toml": toml_resource(src="a.tmpl", dest=str(dest), prefix="/myapp", keys=["/database"])},
        {"a.tmpl": '{{getv "/database/url"}} {{getv "/database/user"}} {{ls "/database"}}\n'},
    )
    env = {"MYAPP_DATABASE_URL": "db://x", "MYAPP_DATABASE_USER": "u", "MYAPP_OTHER": "no"}
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(confdir), env=env)
    assert run.code == 0, run.stderr
    assert dest.read_text() == "db://x u [url user]\n"


def test_demo_command_line(tmp_path: Path) -> None:
    # `make demo`'s run, with -sync-only, in a copy of the example (its dest is relative
    # to the working directory).
    copy = tmp_path / "examples" / "registrator-nginx"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("out"))
    out = copy / "out" / "nginx.conf"
    out.parent.mkdir()  # as make demo does
    run = run_confpy(
        "-onetime", "-backend", "file", "-file", "examples/registrator-nginx/data.yaml",
        "-confdir", "examples/registrator-nginx", "-sync-only", cwd=tmp_path,
    )  # fmt: skip
    assert run.code == 0, run.stderr
    text = out.read_text()
    assert "        server 10.100.194.202:1234;  # container 3f1c2b9a7d10\n" in text
    assert "        server 10.100.194.203:1234;  # container 9e8d7c6b5a40\n" in text
    assert text == (EXAMPLE / "expected" / "nginx.conf").read_text()
    assert "Target config examples/registrator-nginx/out/nginx.conf has been updated" in run.messages("INFO")


def test_keys_with_special_characters(tmp_path: Path, etcd: EtcdServer, etcd_prefix: str) -> None:
    names = ["a b", "x%y", "q?z", "h#1", "caf\u00e9", "plus+sign", "semi;colon", "amp&x=1"]
    for i, name in enumerate(names):
        etcd.put(quote(f"{etcd_prefix}/svc/{name}"), f"v{i}")  # the fixture does not quote
    dest = tmp_path / "out"
    confdir = make_confdir(
        tmp_path / "confd",
        {"a.toml": toml_resource(src="a.tmpl", dest=str(dest), prefix=etcd_prefix, keys=["/svc"])},
        {"a.tmpl": '{{range gets "/svc/*"}}{{base .Key}}={{.Value}}\n{{end}}{{getv "/svc/x%y"}}\n'},
    )
    run = onetime(etcd, confdir)
    assert run.code == 0, run.stderr
    expected = sorted((name, f"v{i}") for i, name in enumerate(names))
    assert dest.read_text() == "".join(f"{k}={v}\n" for k, v in expected) + "v1\n"


# -- resources run one after the other, as in confd -----------------------------------------


def test_a_resource_sees_the_files_written_before_it(tmp_path: Path) -> None:
    # confd processes resources strictly one after the other (render, compare, check,
    # replace, reload), so a template may test for a file an earlier resource writes.
    first = tmp_path / "a.conf"
    second = tmp_path / "b.conf"
    confdir = make_confdir(
        tmp_path / "confd",
        {
            "a.toml": toml_resource(src="a.tmpl", dest=str(first)),
            "b.toml": toml_resource(src="b.tmpl", dest=str(second)),
        },
        {"a.tmpl": "A\n", "b.tmpl": f'{{{{if fileExists "{first}"}}}}yes{{{{else}}}}no{{{{end}}}}\n'},
    )
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(confdir))
    assert run.code == 0, run.stderr
    assert first.read_text() == "A\n"
    assert second.read_text() == "yes\n"


def test_two_resources_with_one_dest(tmp_path: Path) -> None:
    # The second resource compares with what the first one just wrote: in sync, so it
    # neither rewrites nor reloads.
    dest = tmp_path / "shared.conf"
    counter = tmp_path / "reloads"
    resource = toml_resource(src="same.tmpl", dest=str(dest), reload_cmd=f"echo $0 >> {counter}")
    confdir = make_confdir(
        tmp_path / "confd", {"a.toml": resource, "b.toml": resource}, {"same.tmpl": "same\n"}
    )
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(confdir))
    assert run.code == 0, run.stderr
    assert dest.read_text() == "same\n"
    assert counter.read_text().count("\n") == 1
    assert run.messages("INFO").count(f"Target config {dest} out of sync") == 1
