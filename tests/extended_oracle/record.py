"""Record Go's standard library behind the extended template functions.

Builds ``gostd/`` (a small Go program, standard library only) with the local Go
toolchain, runs every case of ``cases.json`` through it and writes ``recorded.json``:
each case with the ``output`` and ``error`` Go produced. The recorded file is committed,
so tests/test_extfuncs.py runs without Go.

A case is ``{"name", "fn", "args"}`` with ``fn`` one of regexMatch, regexReplaceAll
(sprig's: regexp.MatchString, and MustCompile(...).ReplaceAllString with its panic
text), toJson (json.Marshal of the JSON argument decoded as confd's json does),
fromJson (json.Unmarshal into interface{}, shown marshalled), trimSpace, trimPrefix
(sprig's argument order), sha256sum, splitHostPort (output ``host|port``).

Usage::

    python tests/extended_oracle/record.py           # (re)write recorded.json
    python tests/extended_oracle/record.py --check   # compare, write nothing
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one_per_line(records: list[dict[str, object]]) -> str:
    """A JSON list with one record a line: small, and a diff shows which cases changed."""
    return "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n]\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with recorded.json, write nothing")
    args = parser.parse_args(argv)
    cases = json.loads((HERE / "cases.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as scratch:
        binary = Path(scratch) / "gostd"
        env = {**os.environ, "GOCACHE": os.environ.get("GOCACHE", str(Path(scratch) / "cache"))}
        env.setdefault("HOME", scratch)
        subprocess.run(["go", "build", "-o", str(binary), "."], cwd=HERE / "gostd", env=env, check=True)
        done = subprocess.run([str(binary)], input=json.dumps(cases).encode(), capture_output=True, check=True)
    results = json.loads(done.stdout)
    if [r["name"] for r in results] != [c["name"] for c in cases]:
        raise SystemExit("results do not match the cases")
    bad = [r for r in results if (r["error"] or "").startswith("bad case")]
    if bad:
        raise SystemExit(f"cases Go could not run: {bad}")
    records = [{**case, "output": result["output"], "error": result["error"]} for case, result in zip(cases, results)]
    text = one_per_line(records)
    target = HERE / "recorded.json"
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return 0
    if args.check:
        print("stale: recorded.json")
        return 1
    target.write_text(text, encoding="utf-8")
    print(f"wrote recorded.json: {len(records)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
