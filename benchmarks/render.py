"""Render an nginx upstream block over 1,000 servers; print executions per second.

The same upstream is timed with confpy's Go engine, with its Jinja2 engine (the
sandboxed environment confpy renders with, and a plain jinja2.Environment with the same
options, for the sandbox's cost), and in Go itself.

When the Go oracle is available (GOTMPL_ORACLE, or gotmpl-oracle on PATH, or
../shared/tools/gotmpl-oracle/gotmpl-oracle from the repository root), the same template
and data are timed in Go too and the ratio is printed. Usage: python benchmarks/render.py [--servers N] [--seconds S]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from confpy.gotemplate import Template
from confpy.jinja import make_environment

TEMPLATE = """\
upstream app {
{{- range $i, $s := .servers}}
  {{- if $s.up}}
    server {{printf "%s:%d" $s.ip $s.port}} weight={{index $s "weight"}}{{if eq $i 0}} backup{{end}};
  {{- else}}
    # {{$s.name}} is down
  {{- end}}
{{- end}}
}
"""


# The same upstream in Jinja2: {%- trims as {{- does, loop.index0 is $i.
JINJA_TEMPLATE = """\
upstream app {
{%- for s in servers %}
  {%- if s.up %}
    server {{ "%s:%d" % (s.ip, s.port) }} weight={{ s["weight"] }}{% if loop.index0 == 0 %} backup{% endif %};
  {%- else %}
    # {{ s.name }} is down
  {%- endif %}
{%- endfor %}
}
"""


def make_data(count: int) -> dict[str, object]:
    servers = [
        {
            "name": f"app-{i}",
            "ip": f"10.0.{i // 256}.{i % 256}",
            "port": 8000 + i % 100,
            "up": i % 10 != 0,
            "weight": 1 + i % 5,
        }
        for i in range(count)
    ]
    return {"servers": servers}


def find_oracle() -> str | None:
    beside_repo = Path(__file__).resolve().parents[1] / ".." / "shared" / "tools" / "gotmpl-oracle" / "gotmpl-oracle"
    for candidate in (os.environ.get("GOTMPL_ORACLE"), shutil.which("gotmpl-oracle"), str(beside_repo)):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def time_python(data: dict[str, object], seconds: float) -> tuple[float, str]:
    template = Template("nginx.tmpl").parse(TEMPLATE)
    output = template.execute(data)
    runs = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        template.execute(data)
        runs += 1
    return (time.perf_counter() - start) / runs, output


def time_jinja(data: dict[str, object], seconds: float, *, sandboxed: bool) -> tuple[float, float, str]:
    """(compile ms, seconds per execution, output) in confpy's environment, or a plain one."""
    import jinja2

    env = make_environment()
    if not sandboxed:
        env = jinja2.Environment(
            undefined=env.undefined,
            autoescape=env.autoescape,
            keep_trailing_newline=env.keep_trailing_newline,
            finalize=env.finalize,
        )
    start = time.perf_counter()
    template = env.from_string(JINJA_TEMPLATE)
    compile_ms = (time.perf_counter() - start) * 1000
    output = template.render(data)
    runs = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        template.render(data)
        runs += 1
    return compile_ms, (time.perf_counter() - start) / runs, output


def time_go(oracle: str, data: dict[str, object], repeat: int) -> tuple[float, str]:
    case = [{"name": "nginx.tmpl", "template": TEMPLATE, "data": data, "repeat": repeat}]
    done = subprocess.run([oracle], input=json.dumps(case), capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)[0]
    if result["error"]:
        raise SystemExit(f"Go failed: {result['error']}")
    return result["ns_per_op"] / 1e9, result["output"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    data = make_data(args.servers)

    start = time.perf_counter()
    Template("nginx.tmpl").parse(TEMPLATE)
    parse_ms = (time.perf_counter() - start) * 1000

    per_run, output = time_python(data, args.seconds)
    print(f"template: nginx upstream, {args.servers} servers, {len(output)} bytes out")
    print(f"confpy parse+compile: {parse_ms:.2f} ms")
    print(f"confpy execute: {per_run * 1000:.3f} ms/op, {1 / per_run:,.0f} executions/s")
    for label, sandboxed in (("confpy Jinja2 engine (sandboxed)", True), ("plain Jinja2 (no sandbox)", False)):
        compile_ms, jinja_per_run, jinja_output = time_jinja(data, args.seconds, sandboxed=sandboxed)
        same = "identical output" if jinja_output == output else "OUTPUT DIFFERS"
        print(
            f"{label}: compile {compile_ms:.2f} ms, execute {jinja_per_run * 1000:.3f} ms/op, "
            f"{1 / jinja_per_run:,.0f} executions/s, {jinja_per_run / per_run:.2f}x the Go engine ({same})"
        )
    oracle = find_oracle()
    if oracle is None:
        print("Go: oracle not found (set GOTMPL_ORACLE); no ratio")
        return
    go_per_run, go_output = time_go(oracle, data, repeat=max(10, int(args.seconds / max(per_run, 1e-6) / 4)))
    same = "identical output" if go_output == output else "OUTPUT DIFFERS"
    print(f"Go text/template execute: {go_per_run * 1000:.3f} ms/op, {1 / go_per_run:,.0f} executions/s ({same})")
    print(f"ratio confpy/Go: {per_run / go_per_run:.2f}x")


if __name__ == "__main__":
    main()
