"""``confpy -onetime`` against a store with Registrator's layout: wall time and requests.

Starts a throw-away store (etcd by default; redis, zookeeper or consul with --backend,
see stores.py), writes ``/<service>-<port>/<id> = "ip:port"`` for 500 services, and
times ``confpy -onetime`` (the console script, as cron runs it) for 1 and for 500
resources, each both with everything to write and with everything already in sync. The
number of requests is the store's own count (etcd: /v2/stats/store getsSuccess; redis:
commands processed; zookeeper: packets received, the session's set-up and ping
included; consul: GETs served). Prints the median of several runs, and confpy's own
share: its time minus that of a Python that only imports the store's client library
and builds a client (the floor), run just before it.

Usage: python benchmarks/onetime.py [--backend etcd|redis|zookeeper|consul|all] [--runs 9]
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

from stores import BACKENDS, FLOORS, BenchStore, throwaway_store

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


def wall_time(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({done.returncode}):\n{done.stderr}")
    return elapsed


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="etcd")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    env = {**os.environ, "TZ": "UTC"}
    # Installed packages come byte-compiled; make sure this checkout is too, even where
    # PYTHONDONTWRITEBYTECODE is set, or start-up would measure the compiler.
    compile_env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "confpy")], env=compile_env, check=True)
    for backend in BACKENDS if args.backend == "all" else (args.backend,):
        with tempfile.TemporaryDirectory(prefix="confpy-onetime-bench-") as tmp:
            work = Path(tmp)
            with throwaway_store(backend, work) as store:
                measure(store, work, args.runs, env)


def measure(store: BenchStore, work: Path, runs: int, env: dict[str, str]) -> None:
    floor_code = FLOORS[store.backend]
    floor = [sys.executable, "-c", floor_code]
    print(f"{store.backend}: floor python -c '{floor_code}', run before each confpy run; 'own' is confpy minus it")
    store.put_many({f"/svc{i}-80/{i:012x}": f"10.0.{i // 250}.{i % 250}:8080" for i in range(500)})
    for count in (1, 500):
        confdir, out = work / f"confdir{count}", work / f"out{count}"
        out.mkdir()
        write_confdir(confdir, out, count)
        argv = ["-onetime", "-backend", store.backend, "-node", store.node, "-confdir", str(confdir), "-log-level", "error"]
        times: dict[str, list[float]] = {"write": [], "in sync": []}
        own: dict[str, list[float]] = {"write": [], "in sync": []}
        reads = 0
        for _ in range(runs):
            shutil.rmtree(out)
            out.mkdir()
            for case in ("write", "in sync"):
                # Paired with a floor run just before: this VM's speed drifts by a third
                # from minute to minute, and the pair drifts together.
                base = wall_time(floor, env)
                before = store.reads()
                elapsed = wall_time([*CONFPY, *argv], env)
                reads = store.reads() - before - (1 if store.backend == "redis" else 0)
                times[case].append(elapsed)
                own[case].append(elapsed - base)
        print(f"  {count} resource(s), {reads} request(s) per run, medians of {runs}:")
        for case, label in (("write", "everything to write"), ("in sync", "everything in sync ")):
            print(f"    {label}: {ms(statistics.median(times[case]))}, own {ms(statistics.median(own[case]))}")
    library = floor_code.split(";")[0]
    for what, code in (("python -c pass", "pass"), (f"python -c '{library}'", library), ("the floor", floor_code)):
        spent = [wall_time([sys.executable, "-c", code], env) for _ in range(runs)]
        print(f"  reference: {what} takes {ms(statistics.median(spent))} here")


if __name__ == "__main__":
    main()
