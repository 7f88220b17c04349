"""Record Go's behaviour for the renderer's delimiter and include cases.

Reads ``cases/<topic>.json`` and writes ``recorded/<topic>.json``: each case plus the
``output`` and ``error`` the real Go ``text/template`` (the gotmpl-oracle) produced. The
recorded files are committed, so the tests (tests/test_delimiters.py,
tests/test_includes.py) run without Go.

A case is ``{"name", "template", "files"?, "left"?, "right"?}``: ``template`` is the
top template file ``x.tmpl`` as confpy renders it (with nil data, as confd does),
``files`` the other files of the templates directory, ``left``/``right`` the delimiters.
Go has no ``include``: the oracle gets the equivalent parsed file set instead, each file
as ``{{define "<name>"}}...{{end}}`` and the top template with ``include "`` written
``template "``, in every file (so a case uses only that form of include).

Usage::

    python tests/render_oracle/record.py           # (re)write recorded/
    python tests/render_oracle/record.py --check   # compare, write nothing

The oracle is ``$GOTMPL_ORACLE``, by default ``../shared/tools/gotmpl-oracle/gotmpl-oracle``
from the repository root.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_ORACLE = str(HERE.parents[1] / ".." / "shared" / "tools" / "gotmpl-oracle" / "gotmpl-oracle")
CASE_KEYS = ("name", "template", "files", "left", "right")
TOP_NAME = "x.tmpl"


def oracle_case(case: dict[str, Any]) -> dict[str, Any]:
    """The oracle's input for a case: one template text holding the whole file set."""
    left, right = case.get("left", "{{"), case.get("right", "}}")
    defines = "".join(
        f'{left}define "{name}"{right}{as_go(body)}{left}end{right}' for name, body in case.get("files", {}).items()
    )
    top = as_go(case["template"]) if "files" in case else case["template"]
    oracle = {"name": case["name"], "template_name": TOP_NAME, "template": defines + top}
    for key in ("left", "right"):
        if key in case:
            oracle[key] = case[key]
    return oracle


def as_go(text: str) -> str:
    return text.replace('include "', 'template "')


def load_cases() -> dict[str, list[dict[str, Any]]]:
    topics: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((HERE / "cases").glob("*.json")):
        cases = json.loads(path.read_text(encoding="utf-8"))
        for case in cases:
            unknown = set(case) - set(CASE_KEYS)
            if unknown:
                raise SystemExit(f"{path.name}:{case.get('name')}: unknown keys {sorted(unknown)}")
        topics[path.stem] = [{key: case[key] for key in CASE_KEYS if key in case} for case in cases]
    return topics


def run_oracle(cases: list[dict[str, Any]], oracle: str) -> list[dict[str, Any]]:
    payload = json.dumps([oracle_case(case) for case in cases], ensure_ascii=False)
    done = subprocess.run([oracle], input=payload.encode("utf-8"), capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"oracle exited {done.returncode}: {done.stderr.decode(errors='replace')}")
    results: list[dict[str, Any]] = json.loads(done.stdout.decode("utf-8"))
    if [r["name"] for r in results] != [c["name"] for c in cases]:
        raise SystemExit("the oracle's results do not match the cases")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with recorded/, write nothing")
    args = parser.parse_args(argv)
    oracle = os.environ.get("GOTMPL_ORACLE", DEFAULT_ORACLE)
    topics = load_cases()
    stale = []
    (HERE / "recorded").mkdir(exist_ok=True)
    for topic, cases in topics.items():
        results = run_oracle(cases, oracle)
        records = [{**case, "output": result["output"], "error": result["error"]} for case, result in zip(cases, results)]
        text = json.dumps(records, indent=1, ensure_ascii=False) + "\n"
        target = HERE / "recorded" / f"{topic}.json"
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        stale.append(topic)
        if not args.check:
            target.write_text(text, encoding="utf-8")
        print(f"{'stale' if args.check else 'wrote'}: recorded/{topic}.json")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
