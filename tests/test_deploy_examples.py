"""The deployment examples: every Kubernetes manifest parses and is wired as the README
says (volumes, ports, probes, the shared process namespace), the ConfigMap's conf.d and
templates render with confpy, the systemd unit and the cron line hold what they promise."""

from __future__ import annotations

import configparser
import fcntl
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_helpers import run_confpy

pytestmark = pytest.mark.timeout(30)

ROOT = Path(__file__).resolve().parents[1]
KUBERNETES = ROOT / "examples" / "kubernetes"


def manifests() -> list[dict[str, Any]]:
    documents = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            assert isinstance(document, dict), path
            assert {"apiVersion", "kind", "metadata"} <= document.keys(), path
            documents.append(document)
    return documents


def find(kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in manifests() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, (kind, name)
    return matches[0]


def container(pod: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in pod["containers"] if c["name"] == name)


def mounts(c: dict[str, Any]) -> dict[str, str]:
    return {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}


def test_every_manifest_parses_and_the_sidecar_is_wired() -> None:
    kinds = sorted(d["kind"] for d in manifests())
    assert kinds == ["ConfigMap", "Deployment", "Deployment", "Service"]
    deployment = find("Deployment", "web")
    assert deployment["spec"]["selector"]["matchLabels"] == deployment["spec"]["template"]["metadata"]["labels"]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["shareProcessNamespace"] is True
    volumes = {v["name"]: v for v in pod["volumes"]}
    nginx, confpy = container(pod, "nginx"), container(pod, "confpy")
    for c in (nginx, confpy):
        assert set(mounts(c)) <= set(volumes), c["name"]  # every mount has its volume
    # The rendered files and nginx's pid file are shared, at the same paths in both.
    for shared in ("rendered", "run"):
        assert "emptyDir" in volumes[shared]
        assert mounts(nginx)[shared] == mounts(confpy)[shared]
    assert volumes["confd"]["configMap"]["name"] == find("ConfigMap", "web-confd")["metadata"]["name"]

    args = confpy["args"]
    assert "-watch" in args and args[args.index("-backend") + 1] == "etcd"
    assert args[args.index("-confdir") + 1] == mounts(confpy)["confd"]
    port = int(args[args.index("-metrics-addr") + 1].rpartition(":")[2])
    ports = {p["name"]: p["containerPort"] for p in confpy["ports"]}
    assert ports["metrics"] == port
    assert confpy["livenessProbe"]["httpGet"] == {"path": "/health", "port": "metrics"}
    assert confpy["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "metrics"}
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port)
    # etcd is where -node says.
    service = find("Service", "etcd")
    node = args[args.index("-node") + 1]
    assert node == f"http://{service['metadata']['name']}:{service['spec']['ports'][0]['port']}"


def test_the_configmap_renders_into_the_shared_directory(tmp_path: Path) -> None:
    """The ConfigMap's keys laid out as the volume's items put them, rendered by confpy
    (-onetime -sync-only against the file backend: no etcd, no nginx to signal). The
    dest is moved under tmp_path: the one path rewritten."""
    pod = find("Deployment", "web")["spec"]["template"]["spec"]
    data = find("ConfigMap", "web-confd")["data"]
    confd = tmp_path / "confd"
    items = next(v for v in pod["volumes"] if v["name"] == "confd")["configMap"]["items"]
    rendered_dir = mounts(container(pod, "confpy"))["rendered"]
    out = tmp_path / "rendered"
    out.mkdir()
    for item in items:
        path = confd / item["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data[item["key"]].replace(rendered_dir, str(out)))
    assert sorted(str(p.relative_to(confd)) for p in confd.rglob("*") if p.is_file()) == [
        "conf.d/nginx.toml", "templates/upstream.conf.tmpl",
    ]  # fmt: skip
    keys = tmp_path / "keys.yaml"
    keys.write_text('nginx-80:\n  3f1c2b9a7d10: "10.0.0.1:80"\n  9e8d7c6b5a40: "10.0.0.2:80"\n')
    run = run_confpy("-onetime", "-backend", "file", "-file", str(keys), "-confdir", str(confd), "-sync-only")
    assert run.code == 0, run.stderr
    text = (out / "default.conf").read_text()
    assert "upstream app {\n    server 10.0.0.1:80;\n    server 10.0.0.2:80;\n}\n" in text
    assert "listen 8080;" in text
    nginx_port = container(pod, "nginx")["ports"][0]["containerPort"]
    assert f"listen {nginx_port};" in text


def test_the_systemd_unit_is_type_notify_and_can_write_its_dests() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",), comment_prefixes=("#",))
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(ROOT / "examples" / "systemd" / "confpy.service")
    service = unit["Service"]
    assert service["Type"] == "notify"
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["ProtectSystem"] == "strict"
    assert service["NoNewPrivileges"] == "yes"
    assert "/etc/nginx/conf.d" in service["ReadWritePaths"].split()
    assert "AF_UNIX" in service["RestrictAddressFamilies"].split()  # the notify socket
    assert "WatchdogSec" in service
    command = shlex.split(service["ExecStart"])
    assert command[0].endswith("/confpy") and "-watch" in command


def cron_command() -> list[str]:
    lines = (ROOT / "examples" / "cron" / "confpy.cron").read_text().splitlines()
    entries = [line for line in lines if line and not line.startswith("#") and "=" not in line.split()[0]]
    assert len(entries) == 1
    fields = entries[0].split(None, 6)
    assert fields[:5] == ["*/5", "*", "*", "*", "*"] and fields[5] == "root"
    return shlex.split(fields[6].split(";")[0].split("2>>")[0])


def test_the_cron_line_is_guarded_by_flock_and_a_held_lock_exits_75(tmp_path: Path) -> None:
    command = cron_command()
    assert command[:5] == ["flock", "-n", "-E", "75", "/run/lock/confpy.lock"]
    assert command[6:8] == ["-onetime", "-config-file"]
    lock = tmp_path / "confpy.lock"
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        done = subprocess.run([*command[:4], str(lock), "true"], check=False, timeout=10)
    assert done.returncode == 75
    done = subprocess.run([*command[:4], str(lock), "sh", "-c", "exit 1"], check=False, timeout=10)
    assert done.returncode == 1  # confpy's own code passes through
