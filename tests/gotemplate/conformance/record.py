"""Record Go's behaviour for every conformance case.

Reads ``cases/<topic>.json``, runs them all through the gotmpl-oracle (real Go
``text/template``), and writes ``recorded/<topic>.json``: each case plus the
``output`` and ``error`` Go produced. The recorded files are committed so the
conformance tests run without Go.

Usage::

    python tests/gotemplate/conformance/record.py           # (re)write recorded/
    python tests/gotemplate/conformance/record.py --check   # compare, write nothing

The oracle binary is ``$GOTMPL_ORACLE``, by default ``../shared/tools/gotmpl-oracle/gotmpl-oracle``
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
CASES_DIR = HERE / "cases"
RECORDED_DIR = HERE / "recorded"
DEFAULT_ORACLE = str(HERE.parents[2] / ".." / "shared" / "tools" / "gotmpl-oracle" / "gotmpl-oracle")

# Canonical key order of a recorded case; anything else in a case file is a typo.
CASE_KEYS = ("name", "template", "data", "numbers", "missingkey", "left", "right", "template_name")
RESULT_KEYS = ("output", "error")
NUMBERS_MODES = ("int", "float")
MISSINGKEY_MODES = ("default", "zero", "error")


class CaseError(Exception):
    """A case file is malformed, or the oracle could not run a case as meant."""


def load_cases() -> dict[str, list[dict[str, Any]]]:
    """Every case file, by topic, validated and with keys in canonical order."""
    topics: dict[str, list[dict[str, Any]]] = {}
    seen: set[str] = set()
    for path in sorted(CASES_DIR.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, list):
            raise CaseError(f"{path.name}: want a JSON list of cases")
        cases = []
        for case in raw:
            cases.append(_validate(path.name, case, seen))
        topics[path.stem] = cases
    return topics


def _validate(fname: str, case: Any, seen: set[str]) -> dict[str, Any]:
    if not isinstance(case, dict):
        raise CaseError(f"{fname}: case is not an object: {case!r}")
    name = case.get("name")
    if not isinstance(name, str) or not name:
        raise CaseError(f"{fname}: case without a name: {case!r}")
    if name in seen:
        raise CaseError(f"{fname}: duplicate case name {name!r}")
    seen.add(name)
    unknown = set(case) - set(CASE_KEYS)
    if unknown:
        raise CaseError(f"{fname}:{name}: unknown keys {sorted(unknown)}")
    if not isinstance(case.get("template"), str):
        raise CaseError(f"{fname}:{name}: template must be a string")
    if case.get("numbers", "int") not in NUMBERS_MODES:
        raise CaseError(f"{fname}:{name}: bad numbers mode {case['numbers']!r}")
    if case.get("missingkey", "default") not in MISSINGKEY_MODES:
        raise CaseError(f"{fname}:{name}: bad missingkey mode {case['missingkey']!r}")
    for key in ("left", "right", "template_name"):
        if key in case and not isinstance(case[key], str):
            raise CaseError(f"{fname}:{name}: {key} must be a string")
    return {key: case[key] for key in CASE_KEYS if key in case}


def run_oracle(cases: list[dict[str, Any]], oracle: str) -> list[dict[str, Any]]:
    """Run the cases through the oracle in one process; results in input order."""
    # allow_nan=False: the oracle's JSON decoder rejects NaN/Infinity, so a
    # non-finite number in a case's data could never be recorded faithfully.
    payload = json.dumps(cases, ensure_ascii=False, allow_nan=False)
    proc = subprocess.run([oracle], input=payload.encode("utf-8"), capture_output=True, check=False)
    if proc.returncode != 0:
        raise CaseError(f"oracle exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    results = json.loads(proc.stdout.decode("utf-8"))
    if len(results) != len(cases):
        raise CaseError(f"oracle returned {len(results)} results for {len(cases)} cases")
    for case, result in zip(cases, results):
        if result.get("name") != case["name"]:
            raise CaseError(f"oracle result order mismatch at {case['name']!r}")
        err = result.get("error")
        # These prefixes come from the oracle harness, not from text/template:
        # the case itself is broken (bad data JSON, harness panic).
        if isinstance(err, str) and (err.startswith("data: ") or err.startswith("panic: ")):
            raise CaseError(f"{case['name']}: oracle could not run the case: {err}")
    return results


def render(cases: list[dict[str, Any]], results: list[dict[str, Any]]) -> str:
    """The recorded file's text: deterministic key order and formatting."""
    records = []
    for case, result in zip(cases, results):
        record = dict(case)
        for key in RESULT_KEYS:
            record[key] = result.get(key)
        records.append(record)
    return json.dumps(records, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="compare with recorded/, write nothing"
    )
    args = parser.parse_args(argv)
    oracle = os.environ.get("GOTMPL_ORACLE", DEFAULT_ORACLE)

    topics = load_cases()
    flat = [case for cases in topics.values() for case in cases]
    results = run_oracle(flat, oracle)

    stale: list[str] = []
    offset = 0
    RECORDED_DIR.mkdir(exist_ok=True)
    for topic, cases in topics.items():
        text = render(cases, results[offset : offset + len(cases)])
        offset += len(cases)
        target = RECORDED_DIR / f"{topic}.json"
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        stale.append(topic)
        if not args.check:
            target.write_text(text, encoding="utf-8")
    # A recorded file whose case file is gone would keep testing deleted cases.
    orphans = sorted(p.stem for p in RECORDED_DIR.glob("*.json") if p.stem not in topics)

    n_errors = sum(1 for r in results if r.get("error") is not None)
    print(f"{len(flat)} cases in {len(topics)} topics, {n_errors} with a Go error")
    if args.check:
        for topic in stale:
            print(f"stale: recorded/{topic}.json")
        for topic in orphans:
            print(f"orphan: recorded/{topic}.json has no cases/{topic}.json")
        return 1 if stale or orphans else 0
    for topic in stale:
        print(f"wrote recorded/{topic}.json")
    for topic in orphans:
        (RECORDED_DIR / f"{topic}.json").unlink()
        print(f"removed orphan recorded/{topic}.json")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CaseError as exc:
        print(f"record.py: {exc}", file=sys.stderr)
        sys.exit(2)
