"""Conformance of confpy.gotemplate with Go 1.19's text/template.

Every case in ``conformance/recorded/*.json`` was run through the real Go
``text/template`` (``conformance/record.py`` and the gotmpl-oracle); this module
runs the same template, data and options through our engine and compares:

* a case Go rendered must render byte for byte the same;
* a case Go rejected must raise a ``TemplateError`` (never another exception),
  and across all such cases at least ``ERROR_TEXT_TARGET`` of our messages must
  equal Go's exactly.

The data is converted the way the oracle converts it (see ``go_data``), and the
oracle's custom functions come from ``conformance/oracle_funcs.py``.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import pytest

HERE = Path(__file__).resolve().parent
CONFORMANCE_DIR = HERE / "conformance"
CASES_DIR = CONFORMANCE_DIR / "cases"
RECORDED_DIR = CONFORMANCE_DIR / "recorded"

# Share of Go's error texts we must reproduce exactly.
ERROR_TEXT_TARGET = 0.90
MIN_CASES = 400

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1


class _RawNumber(str):
    """A JSON number kept as its literal text, so each case can convert it the
    way the oracle does under that case's ``numbers`` mode."""

    __slots__ = ()

    def __repr__(self) -> str:  # shows as the number it stands for
        return str.__str__(self)


def _load_json(path: Path) -> Any:
    return json.loads(
        path.read_text(encoding="utf-8"),
        parse_int=_RawNumber,
        parse_float=_RawNumber,
    )


def _load_recorded() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in sorted(RECORDED_DIR.glob("*.json")):
        for case in _load_json(path):
            case["topic"] = path.stem
            cases.append(case)
    return cases


ALL_CASES = _load_recorded()
OUTPUT_CASES = [c for c in ALL_CASES if c["error"] is None]
ERROR_CASES = [c for c in ALL_CASES if c["error"] is not None]
_BY_NAME = {c["name"]: c for c in ALL_CASES}


def _case_id(case: dict[str, Any]) -> str:
    return case["name"]


# --- data conversion, as the oracle's decodeData does --------------------------------


def _int_mode_number(text: str) -> int | float | str:
    """numbers="int": json.Number -> int when whole and in int64 range, else float64.

    Mirrors the oracle's convertNumbers: strconv.ParseInt first; failing that,
    Float64 (a literal out of float64 range stays the *string* Go got back);
    a whole float in [MinInt64, MaxInt64) becomes an int.
    """
    digits = text[1:] if text[:1] == "-" else text
    if digits.isdigit() and digits.isascii():
        value = int(text)
        if _INT64_MIN <= value <= _INT64_MAX:
            return value
    f = float(text)
    if math.isinf(f):
        return text
    if f.is_integer() and _INT64_MIN <= f < 2.0**63:
        return int(f)
    return f


def _convert(value: Any, numbers: str) -> Any:
    if isinstance(value, _RawNumber):
        return float(value) if numbers == "float" else _int_mode_number(value)
    if isinstance(value, list):
        return [_convert(v, numbers) for v in value]
    if isinstance(value, dict):
        return {k: _convert(v, numbers) for k, v in value.items()}
    return value  # str, bool, None


def go_data(case: dict[str, Any]) -> Any:
    """The case's data as the oracle hands it to Execute.

    Absent or null data is Go's nil; we pass None, which ``execute`` must treat
    like Go's ``Execute(w, nil)`` (``{{.}}`` prints ``<no value>``).
    """
    if "data" not in case:
        return None
    return _convert(case["data"], case.get("numbers", "int"))


# --- the engine ----------------------------------------------------------------------


def _load_oracle_funcs() -> ModuleType:
    # Loaded by path: tests/ is not a package, and this keeps working however
    # pytest sets up sys.path (rootdir, importmode, or a future __init__.py).
    name = "_gotemplate_conformance_oracle_funcs"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, CONFORMANCE_DIR / "oracle_funcs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class Engine(NamedTuple):
    template_cls: Any
    error_cls: type[BaseException]
    funcs: dict[str, Any]

    def __repr__(self) -> str:  # keep pytest's failure reports short
        return f"Engine({self.template_cls.__module__}.{self.template_cls.__name__})"


@functools.cache
def _engine() -> Engine:
    from confpy.gotemplate import Template, TemplateError

    return Engine(Template, TemplateError, _load_oracle_funcs().ORACLE_FUNCS)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return _engine()


class Outcome(NamedTuple):
    output: str | None
    error: BaseException | None


@functools.cache
def _run(name: str) -> Outcome:
    """Parse and execute one case with our engine (cached: the error-text test
    reuses the per-case runs instead of repeating slow cases)."""
    case = _BY_NAME[name]
    eng = _engine()
    tmpl = eng.template_cls(
        case.get("template_name") or case["name"],
        funcs=eng.funcs,
        delims=(case.get("left") or "{{", case.get("right") or "}}"),
        missingkey=case.get("missingkey", "default"),
    )
    try:
        tmpl.parse(case["template"])
        return Outcome(tmpl.execute(go_data(case)), None)
    except Exception as exc:  # judged by the callers: TemplateError or a bug
        return Outcome(None, exc)


# --- the corpus itself ---------------------------------------------------------------


def test_corpus_is_recorded_and_complete() -> None:
    """recorded/ holds exactly the cases of cases/, with the same inputs: a case
    edited or added without re-running record.py would test stale expectations."""
    assert len(ALL_CASES) >= MIN_CASES
    assert len(_BY_NAME) == len(ALL_CASES), "case names must be unique"
    case_files = sorted(p.stem for p in CASES_DIR.glob("*.json"))
    assert sorted(p.stem for p in RECORDED_DIR.glob("*.json")) == case_files
    for topic in case_files:
        inputs = _load_json(CASES_DIR / f"{topic}.json")
        recorded = [
            {k: v for k, v in c.items() if k not in ("output", "error", "topic")}
            for c in ALL_CASES
            if c["topic"] == topic
        ]
        # Compare values, not literal number text: record.py re-serialises data.
        assert _convert(recorded, "float") == _convert(inputs, "float"), (
            f"recorded/{topic}.json is stale: run tests/gotemplate/conformance/record.py"
        )
    for case in ALL_CASES:
        assert (case["output"] is None) != (case["error"] is None), case["name"]


# --- the engine against Go -----------------------------------------------------------


@pytest.mark.parametrize("case", OUTPUT_CASES, ids=_case_id)
def test_output_matches_go(engine: Engine, case: dict[str, Any]) -> None:
    outcome = _run(case["name"])
    if outcome.error is not None:
        pytest.fail(
            f"Go rendered {case['output']!r} but we raised "
            f"{type(outcome.error).__name__}: {outcome.error}"
        )
    assert outcome.output == case["output"]


@pytest.mark.parametrize("case", ERROR_CASES, ids=_case_id)
def test_error_raises_template_error(engine: Engine, case: dict[str, Any]) -> None:
    outcome = _run(case["name"])
    if outcome.error is None:
        pytest.fail(f"Go failed with {case['error']!r} but we rendered {outcome.output!r}")
    if not isinstance(outcome.error, engine.error_cls):
        raise AssertionError(
            f"want a TemplateError like Go's {case['error']!r}, "
            f"got {type(outcome.error).__name__}: {outcome.error}"
        ) from outcome.error


def test_error_texts_match_go(engine: Engine) -> None:
    """At least ERROR_TEXT_TARGET of Go's error messages reproduced exactly."""
    mismatches: list[tuple[str, str, str]] = []
    for case in ERROR_CASES:
        outcome = _run(case["name"])
        if outcome.error is None:
            ours = f"(no error; output {outcome.output!r})"
        elif not isinstance(outcome.error, engine.error_cls):
            ours = f"({type(outcome.error).__name__}) {outcome.error}"
        else:
            ours = str(outcome.error)
        if ours != case["error"]:
            mismatches.append((case["name"], case["error"], ours))
    matched = len(ERROR_CASES) - len(mismatches)
    ratio = matched / len(ERROR_CASES)
    if ratio < ERROR_TEXT_TARGET:
        report = "\n".join(f"{name}\n  go:   {go}\n  ours: {ours}" for name, go, ours in mismatches)
        pytest.fail(
            f"{matched}/{len(ERROR_CASES)} error texts match Go ({ratio:.1%}, "
            f"want {ERROR_TEXT_TARGET:.0%}); mismatches:\n{report}"
        )
