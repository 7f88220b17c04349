"""confpy.gotemplate.gofmt against Go 1.19's fmt.

The fixture (fixtures/fmt_cases.json, made by fixtures/record_fmt.py) holds printf/print/
println calls with the output the real Go produced; each is replayed here with the same
arguments as Python values. Plain unit tests cover what templates cannot build (Stringers,
errors, structs, bytes, NaN and infinities).
"""

from __future__ import annotations

import ast
import dataclasses
import json
import math
from pathlib import Path
from typing import Any, ClassVar

import pytest

from confpy.gotemplate.gofmt import format_value, sprint, sprintf, sprintln
from confpy.gotemplate.values import MISSING, IntList, StringList

FIXTURE = Path(__file__).parent / "fixtures" / "fmt_cases.json"
CASES: list[dict[str, Any]] = json.loads(FIXTURE.read_text(encoding="utf-8"))

_MIN_INT, _MAX_INT = -(2**63), 2**63


def go_number(v: Any, numbers: str) -> Any:
    """A JSON number as the oracle decodes it: whole values that fit become int in int mode."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return v
    if numbers == "float":
        return float(v)
    if isinstance(v, int) and _MIN_INT <= v < _MAX_INT:
        return v
    f = float(v)
    if math.isfinite(f) and f == math.trunc(f) and _MIN_INT <= f < _MAX_INT:
        return int(f)
    return f


def go_data(v: Any, numbers: str) -> Any:
    if isinstance(v, dict):
        return {k: go_data(e, numbers) for k, e in v.items()}
    if isinstance(v, list):
        return [go_data(e, numbers) for e in v]
    return go_number(v, numbers)


def go_literal(text: str) -> Any:
    """A Go template constant: nil, bools, runes, complex, float64 or int."""
    if text == "nil":
        return None
    if text in ("true", "false"):
        return text == "true"
    if text.startswith("'"):
        return ord(ast.literal_eval(text))
    if text.endswith("i"):
        return complex(text[:-1] + "j")
    if text.lower().lstrip("-").startswith("0x"):
        return float.fromhex(text) if "p" in text.lower() else int(text, 16)
    if any(c in text for c in ".eE"):
        return float(text)
    return int(text, 10)


def build_arg(spec: dict[str, Any], data: dict[str, Any], numbers: str) -> Any:
    if "data" in spec:
        if spec["data"] not in data:
            return MISSING  # a missing map key: Go passes a nil interface
        return go_data(data[spec["data"]], numbers)
    if "lit" in spec:
        return go_literal(spec["lit"])
    if "str" in spec:
        return spec["str"]
    if "split" in spec:
        s, sep = spec["split"]
        return StringList(s.split(sep))
    if "seq" in spec:
        first, last = spec["seq"]
        return IntList(range(first, last + 1))
    if "json" in spec:
        return go_data(json.loads(spec["json"]), "float")
    if "jsonArray" in spec:
        return go_data(json.loads(spec["jsonArray"]), "float")
    raise ValueError(f"unknown argument spec {spec!r}")


def run_call(case: dict[str, Any]) -> str:
    call = case["call"]
    args = [build_arg(a, case["data"], case["numbers"]) for a in call["args"]]
    if call["fn"] == "printf":
        return sprintf(call["format"], *args)
    if call["fn"] == "print":
        return sprint(*args)
    return sprintln(*args)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_go(case: dict[str, Any]) -> None:
    assert case["error"] is None, case["error"]
    assert run_call(case) == case["output"], case["template"]


def test_fixture_is_large_enough() -> None:
    assert len(CASES) >= 250


# --- what templates cannot express -------------------------------------------------------


class Stringer:
    def __init__(self, text: str) -> None:
        self.text = text

    def String(self) -> str:
        return self.text


class Panicky:
    def String(self) -> str:
        raise ValueError("boom")


class CustomError:
    def Error(self) -> str:
        return "custom failure"


@dataclasses.dataclass
class KV:
    Key: str
    Value: Any


@dataclasses.dataclass
class Pair:
    go_type: ClassVar[str] = "memkv.KVPair"
    Key: str
    Value: str


@dataclasses.dataclass
class Named:
    Name: str

    def String(self) -> str:
        return "named:" + self.Name


def test_stringer() -> None:
    s = Stringer("hi")
    assert sprintf("%v|%s|%q|%x|%5s|", s, s, s, s, s) == 'hi|hi|"hi"|6869|   hi|'
    assert format_value(s) == "hi"
    assert sprint([s, s]) == "[hi hi]"
    assert sprintf("%v", {"k": s}) == "map[k:hi]"


def test_stringer_panics() -> None:
    assert sprintf("%v", Panicky()) == "%!v(PANIC=String method: boom)"
    assert sprintf("%s", Panicky()) == "%!s(PANIC=String method: boom)"


def test_errors() -> None:
    err = ValueError("bad thing")
    assert sprintf("%v|%s|%q", err, err, err) == 'bad thing|bad thing|"bad thing"'
    assert sprintf("%T", err) == "*errors.errorString"
    assert sprintf("%#v", err) == '&errors.errorString{s:"bad thing"}'
    assert sprint(CustomError()) == "custom failure"
    assert sprintf("%d", err) == "&{%!d(string=bad thing)}"


def test_structs() -> None:
    kv = KV("a", 1)
    assert sprintf("%v", kv) == "{a 1}"
    assert sprintf("%+v", kv) == "{Key:a Value:1}"
    assert sprintf("%#v", kv) == 'main.KV{Key:"a", Value:1}'
    assert sprintf("%T", kv) == "main.KV"
    assert sprintf("%v", KV("a", None)) == "{a <nil>}"
    assert sprintf("%#v", KV("a", None)) == 'main.KV{Key:"a", Value:interface {}(nil)}'
    assert sprintf("%v", [Pair("k", "v")]) == "[{k v}]"
    assert sprintf("%#v", Pair("k", "v")) == 'memkv.KVPair{Key:"k", Value:"v"}'
    assert sprintf("%d", KV("a", 1)) == "{%!d(string=a) 1}"
    assert sprintf("%v %d", Named("x"), Named("x")) == "named:x {%!d(string=x)}"
    assert sprintf("%#v", Named("x")) == 'main.Named{Name:"x"}'


def test_bytes() -> None:
    b = b"hi\xff"
    assert sprintf("%v", b) == "[104 105 255]"
    assert sprintf("%d", b) == "[104 105 255]"
    assert sprintf("%s", b"hi") == "hi"
    assert sprintf("%x|%X|% x|%#x", b, b, b, b) == "6869ff|6869FF|68 69 ff|0x6869ff"
    assert sprintf("%q", b) == '"hi\\xff"'
    assert sprintf("%#v", b"\x01\x0a") == "[]byte{0x1, 0xa}"
    assert sprintf("%#v", [b"\x01"]) == "[]interface {}{[]uint8{0x1}}"
    assert sprintf("%T", b) == "[]uint8"
    assert sprintf("%c", b"hi") == "[h i]"
    assert sprintf("%5.1s|", b"hi") == "    h|"


def test_nan_and_infinities() -> None:
    inf, nan = math.inf, math.nan
    assert sprint(inf, -inf, nan) == "+Inf -Inf NaN"
    assert sprintf("%f|%5.2f|%-6v|%06f", inf, -inf, nan, inf) == "+Inf| -Inf|NaN   |  +Inf"
    assert sprintf("%+v|% v|%+f|% f", nan, nan, inf, inf) == "NaN| NaN|+Inf| Inf"
    assert sprintf("%e|%g|%x|%b", nan, -inf, inf, nan) == "NaN|-Inf|+Inf|NaN"
    assert sprintf("%v", complex(inf, nan)) == "(+Inf+NaNi)"


def test_more_go_outputs() -> None:
    # Checked against a Go 1.19 program: cases the template fixture cannot build.
    assert sprintf("%x|%X|%#x|%#X|%#.0x|%#v|%+.3v|%#b", 1.0, 3.5, 3.5, 3.5, 1.5, 1e21,
                   1234.5678, 1.0) == (
        "0x1p+00|0X1.CP+01|0x1.c000p+01|0X1.CP+01|0x1.p+01|1e+21|1.23e+03|4503599627370496p-52")
    assert sprintf("%.3x|%.1x|%.0x|%x|%x|%.13x|%.20x", 1.99999, 1.96875, 1.5, 5e-324, 0.0,
                   math.pi, math.pi) == (
        "0x1.000p+01|0x1.0p+01|0x1p+01|0x1p-1074|0x0p+00|0x1.921fb54442d18p+01"
        "|0x1.921fb54442d180000000p+01")
    assert sprintf("%08.3f|%-08.3f|%+08v|%08v|%08s|%08q|%08x", -math.inf, math.inf, math.nan,
                   -1.5, "ab", "ab", "ab") == '    -Inf|+Inf    |     NaN|-00001.5|000000ab|0000"ab"|00006162'
    assert sprintf("%5.2T|%.2T|%x|%X|% #x", 1, None, "", "", "ab") == "   in|<nil>|||0x61 0x62"
    # Unicode 14 characters are not printable for Go 1.19's strconv.
    assert sprintf("%q|%+q", "\u08ce\u1ac9é", "é") == '"\\u08ce\\u1ac9é"|"\\u00e9"'


def test_format_value() -> None:
    assert format_value("x") == "x"
    assert format_value(80) == "80"
    assert format_value(-3) == "-3"
    assert format_value(1.5) == "1.5"
    assert format_value(1e6) == "1e+06"
    assert format_value(123456789.0) == "1.23456789e+08"
    assert format_value(1e-5) == "1e-05"
    assert format_value(True) == "true"
    assert format_value(None) == "<nil>"
    assert format_value(MISSING) == "<nil>"
    assert format_value(["a", 1, None]) == "[a 1 <nil>]"
    assert format_value({"b": 1, "a": [2]}) == "map[a:[2] b:1]"


def test_map_key_order() -> None:
    assert sprint({3: "c", -1: "a", 10: "b"}) == "map[-1:a 3:c 10:b]"
    assert sprint({math.nan: 1, 2.5: 2, -1.0: 3}) == "map[NaN:1 -1:3 2.5:2]"
    assert sprint({True: 1, False: 0}) == "map[false:0 true:1]"
    assert sprint({"b": 1, "B": 2, "a": 3, "é": 4}) == "map[B:2 a:3 b:1 é:4]"


def test_parsed_formats_are_reused() -> None:
    assert sprintf("%s:%d", "a", 1) == "a:1"
    assert sprintf("%s:%d", "b", 2) == "b:2"
    assert sprintf("%s:%d", "c") == "c:%!d(MISSING)"
