"""``confpy -onetime`` against a real etcd with Registrator's layout: wall time and requests.

Starts a throw-away etcd (Debian's etcd-server), writes ``/<service>-<port>/<id> =
"ip:port"`` for 500 services, and times ``confpy -onetime -backend etcd`` (the console
script, as cron runs it) for 1 and for 500 resources, each both with everything to write
and with everything already in sync. The number of HTTP reads is etcd's own count
(``/v2/stats/store`` getsSuccess). Prints the median of several runs.

Usage: python benchmarks/onetime.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from throwaway_etcd import throwaway_etcd

ROOT = Path(__file__).resolve().parents[1]
CONFPY = [str(Path(sys.executable).with_name("confpy"))]
TEMPLATE = """upstream app {
{{- range gets "/*/*"}}
    server {{.Value}};
{{- end}}
}
"""


def write_confdir(confdir: Path, out: Path, count: int) -> None:
    (confdir / "conf.d").mkdir(parents=True)
    (confdir / "templates").mkdir()
    (confdir / "templates" / "upstream.tmpl").write_text(TEMPLATE)
    for i in range(count):
        (confdir / "conf.d" / f"svc{i:03d}.toml").write_text(
            f'[template]\nsrc = "upstream.tmpl"\ndest = "{out / f"svc{i:03d}.conf"}"\n'
            f'keys = ["/svc{i}-80"]\ncheck_cmd = ""\nreload_cmd = ""\n'
        )


def gets(client: httpx.Client) -> int:
    return int(client.get("/v2/stats/store").json()["getsSuccess"])


def time_run(args: list[str], client: httpx.Client, env: dict[str, str]) -> tuple[float, int]:
    before = gets(client)
    started = time.perf_counter()
    done = subprocess.run([*CONFPY, *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"confpy failed ({done.returncode}):\n{done.stderr}")
    return elapsed, gets(client) - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    env = {**os.environ, "TZ": "UTC"}
    # Installed packages come byte-compiled; make sure this checkout is too, even where
    # PYTHONDONTWRITEBYTECODE is set, or start-up would measure the compiler.
    compile_env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "confpy")], env=compile_env, check=True)
    with tempfile.TemporaryDirectory(prefix="confpy-onetime-bench-") as tmp:
        work = Path(tmp)
        with throwaway_etcd(work) as url, httpx.Client(base_url=url) as client:
            for i in range(500):
                client.put(f"/v2/keys/svc{i}-80/{i:012x}", data={"value": f"10.0.{i // 250}.{i % 250}:8080"})
            for count in (1, 500):
                confdir, out = work / f"confdir{count}", work / f"out{count}"
                out.mkdir()
                write_confdir(confdir, out, count)
                argv = ["-onetime", "-backend", "etcd", "-node", url, "-confdir", str(confdir), "-log-level", "error"]
                write_times, in_sync_times = [], []
                requests = 0
                for _ in range(args.runs):
                    shutil.rmtree(out)
                    out.mkdir()
                    elapsed, requests = time_run(argv, client, env)
                    write_times.append(elapsed)
                    elapsed, _ = time_run(argv, client, env)
                    in_sync_times.append(elapsed)
                print(f"{count} resource(s), {requests} HTTP read(s) per run:")
                print(f"  everything to write: {statistics.median(write_times) * 1000:.0f} ms (median of {args.runs})")
                print(f"  everything in sync:  {statistics.median(in_sync_times) * 1000:.0f} ms")
        for what, code in (
            ("python -c pass", "pass"),
            ("python -c 'import httpx'", "import httpx"),
            ("python -c 'import httpx; httpx.Client()' (confpy's floor)", "import httpx; httpx.Client()"),
        ):
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                subprocess.run([sys.executable, "-c", code], check=True)
                times.append(time.perf_counter() - started)
            print(f"reference: {what} takes {statistics.median(times) * 1000:.0f} ms here")

if __name__ == "__main__":
    main()
