# ruff: noqa: RUF001 (the case-mapping table is made of look-alike letters on purpose)
"""confd 0.16.0's function map: names, Go signatures, behaviour and Go's error texts.

Expected error texts were recorded with the gotmpl-oracle (Go 1.19's strconv,
encoding/json, encoding/base64 and strings); where confd differs from the oracle on
purpose (div/mod by zero panic, reverse in place, sortByLength) confd's source is followed.
"""

from __future__ import annotations

import inspect
import os
import socket
import struct
import threading
import time
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

import confpy.dnslookup
import confpy.golang.time
from confpy import dnslookup
from confpy.dnslookup import SRV, ResolvConf, SRVList, is_domain_name
from confpy.funcs import FuncError, GoPanic, HostIO, confd_funcs
from confpy.golang.strconv import NumError
from confpy.golang.strconv import quote as go_quote
from confpy.golang.time import GoTime
from confpy.gotemplate.values import IntList, StringList, go_type_name
from confpy.store import KVPair, KVPairList, KVPairs, KVStore

STORE = KVStore(
    {
        "/app/db/user": "admin",
        "/app/db/password": "secret",
        "/app/name": "web",
        "/app/x": "1",
    }
)


@pytest.fixture()
def f() -> dict[str, Any]:
    return confd_funcs(STORE, environ={"HOME": "/home/u", "EMPTY": "", "TZ": "UTC"})


def call(fn: Any, *args: Any) -> tuple[bool, str]:
    """(is_error, text): the Go view of a call, the error text or the value as text."""
    try:
        return False, str(fn(*args))
    except (FuncError, GoPanic, NumError) as exc:
        return True, str(exc)


JSON_ERRORS = [
    ("{bad", "invalid character 'b' looking for beginning of object key string"),
    ("", "unexpected end of JSON input"),
    (" ", "unexpected end of JSON input"),
    ("[1]", "json: cannot unmarshal array into Go value of type map[string]interface {}"),
    ('"s"', "json: cannot unmarshal string into Go value of type map[string]interface {}"),
    ("1", "json: cannot unmarshal number into Go value of type map[string]interface {}"),
    ("true", "json: cannot unmarshal bool into Go value of type map[string]interface {}"),
    ('{"a" 1}', "invalid character '1' after object key"),
    ('{"a":1,}', "invalid character '}' looking for beginning of object key string"),
    ('{"a":1 "b"}', "invalid character '\"' after object key:value pair"),
    ("{,}", "invalid character ',' looking for beginning of object key string"),
    ('{"a":tru}', "invalid character '}' in literal true (expecting 'e')"),
    ('{"a":01}', "invalid character '1' after object key:value pair"),
    ('{"a":-}', "invalid character '}' in numeric literal"),
    ('{"a":1.}', "invalid character '}' after decimal point in numeric literal"),
    ('{"a":1e}', "invalid character '}' in exponent of numeric literal"),
    ('{"a":"\\x"}', "invalid character 'x' in string escape code"),
    ('{"a":"\\u12g4"}', "invalid character 'g' in \\u hexadecimal character escape"),
    ('{"a":"\t"}', "invalid character '\\t' in string literal"),
    ("{} x", "invalid character 'x' after top-level value"),
    ("{}}", "invalid character '}' after top-level value"),
    ('{"a":NaN}', "invalid character 'N' looking for beginning of value"),
    ("é", "invalid character 'Ã' looking for beginning of value"),
    ('{"a":"x"', "unexpected end of JSON input"),
    ("\ufeff{}", "invalid character 'ï' looking for beginning of value"),
    ("{'a':1}", "invalid character '\\'' looking for beginning of object key string"),
    ('{"a":-01}', "invalid character '1' after object key:value pair"),
    ('{"a":.5}', "invalid character '.' looking for beginning of value"),
    ('{"a":1e+}', "invalid character '}' in exponent of numeric literal"),
    ('{"a":truex}', "invalid character 'x' after object key:value pair"),
    ('{"a":nul}', "invalid character '}' in literal null (expecting 'l')"),
    ('{"a":falsy}', "invalid character 'y' in literal false (expecting 'e')"),
    ('{"a":1e400}', "json: cannot unmarshal number 1e400 into Go value of type float64"),
    ('{"a":1e400,"b":1e500}', "json: cannot unmarshal number 1e400 into Go value of type float64"),
    ('{"a":"\x1f"}', "invalid character '\\x1f' in string literal"),
    ('{"a":-Infinity}', "invalid character 'I' in numeric literal"),
    ('{"a":[}', "invalid character '}' looking for beginning of value"),
    ('{"a":{"b":}}', "invalid character '}' looking for beginning of value"),
    ('{"a"', "unexpected end of JSON input"),
    ('{"a":', "unexpected end of JSON input"),
    ('{"a":1', "unexpected end of JSON input"),
    ('{"a":"', "unexpected end of JSON input"),
    ('{"a":"\\u12', "invalid character ' ' in \\u hexadecimal character escape"),
    ('{"a":"\\"', "unexpected end of JSON input"),
    ('{"a":tr', "invalid character ' ' in literal true (expecting 'u')"),
    ("[", "unexpected end of JSON input"),
    ("]", "invalid character ']' looking for beginning of value"),
    ('{"\x00":1}', "invalid character '\\x00' in string literal"),
    ("\x01", "invalid character '\\x01' looking for beginning of value"),
    ('{"a":-', "invalid character ' ' in numeric literal"),
    ('{"a":1.', "invalid character ' ' after decimal point in numeric literal"),
    ('{"a":"b"]', "invalid character ']' after object key:value pair"),
    ('{"a":1}}', "invalid character '}' after top-level value"),
    ('{"a"}', "invalid character '}' after object key"),
    ("{1:2}", "invalid character '1' looking for beginning of object key string"),
    ('{"a":[1,2,]}', "invalid character ']' looking for beginning of value"),
    ("\xa0{}", "invalid character 'Â' looking for beginning of value"),
    ("[\x80]", "invalid character 'Â' looking for beginning of value"),
    (
        '{"a":123456789012345678901234567890e300}',
        "json: cannot unmarshal number 123456789012345678901234567890e300 into Go value of type float64",
    ),
]

JSON_ARRAY_ERRORS = [
    ("{}", "json: cannot unmarshal object into Go value of type []interface {}"),
    ('{"a":1e400}', "json: cannot unmarshal object into Go value of type []interface {}"),
    ('[1e400, "x"]', "json: cannot unmarshal number 1e400 into Go value of type float64"),
    ("[1,2", "unexpected end of JSON input"),
    ("[1 2]", "invalid character '2' after array element"),
    ("[,]", "invalid character ',' looking for beginning of value"),
    ('"s"', "json: cannot unmarshal string into Go value of type []interface {}"),
    ("1", "json: cannot unmarshal number into Go value of type []interface {}"),
    ("true", "json: cannot unmarshal bool into Go value of type []interface {}"),
    ("[1e400,1e500]", "json: cannot unmarshal number 1e400 into Go value of type float64"),
    ("[1,]", "invalid character ']' looking for beginning of value"),
    ("[[[", "unexpected end of JSON input"),
    ("]]", "invalid character ']' looking for beginning of value"),
    ('[{"a":1e400}]', "json: cannot unmarshal number 1e400 into Go value of type float64"),
]

BASE64_DECODE = [
    ("!!", True, "illegal base64 data at input byte 0"),
    ("YQ", True, "illegal base64 data at input byte 0"),
    ("YQ=", True, "illegal base64 data at input byte 3"),
    ("YQ==", False, "a"),
    ("YWJj", False, "abc"),
    ("YWJ", True, "illegal base64 data at input byte 0"),
    ("Y", True, "illegal base64 data at input byte 0"),
    ("YQ==YQ==", True, "illegal base64 data at input byte 4"),
    ("YQ==\n", False, "a"),
    ("Y\nQ==", False, "a"),
    ("YQ=a", True, "illegal base64 data at input byte 2"),
    ("YR==", False, "a"),
    ("====", True, "illegal base64 data at input byte 0"),
    ("=", True, "illegal base64 data at input byte 0"),
    ("YWJjZA=", True, "illegal base64 data at input byte 7"),
    ("YWJjZA", True, "illegal base64 data at input byte 4"),
    ("YWJj\r\nZGVm", False, "abcdef"),
    ("YW Jj", True, "illegal base64 data at input byte 2"),
    ("Zm9v\n", False, "foo"),
    ("é", True, "illegal base64 data at input byte 0"),
    ("YQ=\n=", False, "a"),
    ("YWJjZA==X", True, "illegal base64 data at input byte 8"),
    ("YWJjZGVmZ2hp!", True, "illegal base64 data at input byte 12"),
    ("YWJjZGVmZ2hpamts", False, "abcdefghijkl"),
    ("YWJjZGVm\nZ2hpamts\n", False, "abcdefghijkl"),
    ("Y===", True, "illegal base64 data at input byte 1"),
    ("YWJjZA=\n", True, "illegal base64 data at input byte 8"),
    ("YWJjZA=\n\n=", False, "abcd"),
    ("YWJjZA=\nx", True, "illegal base64 data at input byte 7"),
    ("", False, ""),
    ("\n", False, ""),
    ("YW=j", True, "illegal base64 data at input byte 2"),
    ("-_8=", True, "illegal base64 data at input byte 0"),
    ("YWJjZGVmZ2hpamtsbW5v====", True, "illegal base64 data at input byte 20"),
    ("YWJjZA==\n\n", False, "abcd"),
    ("\rY\rW\rJ\rj\r", False, "abc"),
    ("YWJjZA=\r", True, "illegal base64 data at input byte 8"),
    ("YW\nJ", True, "illegal base64 data at input byte 1"),
    ("YWJ\n=", False, "ab"),
    ("Y\n=\n=", True, "illegal base64 data at input byte 2"),
    ("AAAA====", True, "illegal base64 data at input byte 4"),
    ("5pel5pys6Kqe", False, "日本語"),
    ("aGk=", False, "hi"),
]

# --- the map itself ------------------------------------------------------------------

CONFD_NAMES = {
    # memkv
    "get", "gets", "getv", "getvs", "exists", "ls", "lsdir",
    # newFuncMap
    "base", "split", "json", "jsonArray", "dir", "map", "getenv", "join", "datetime",
    "toUpper", "toLower", "contains", "replace", "trimSuffix", "lookupIP", "lookupIPV4",
    "lookupIPV6", "lookupSRV", "fileExists", "base64Encode", "base64Decode", "parseBool",
    "reverse", "sortByLength", "sortKVByLength", "add", "sub", "div", "mod", "mul", "seq",
    "atoi",
}  # fmt: skip

P, V = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.VAR_POSITIONAL
SIGNATURES: dict[str, tuple[list[tuple[Any, Any]], Any]] = {
    "get": ([(P, str)], KVPair),
    "gets": ([(P, str)], KVPairs),
    "getv": ([(P, str), (V, str)], str),
    "getvs": ([(P, str)], StringList),
    "exists": ([(P, str)], bool),
    "ls": ([(P, str)], StringList),
    "lsdir": ([(P, str)], StringList),
    "base": ([(P, str)], str),
    "dir": ([(P, str)], str),
    "split": ([(P, str), (P, str)], StringList),
    "join": ([(P, StringList), (P, str)], str),
    "json": ([(P, str)], dict[str, Any]),
    "jsonArray": ([(P, str)], list[Any]),
    "map": ([(V, Any)], dict[str, Any]),
    "getenv": ([(P, str), (V, str)], str),
    "datetime": ([], GoTime),
    "toUpper": ([(P, str)], str),
    "toLower": ([(P, str)], str),
    "contains": ([(P, str), (P, str)], bool),
    "replace": ([(P, str), (P, str), (P, str), (P, int)], str),
    "trimSuffix": ([(P, str), (P, str)], str),
    "lookupIP": ([(P, str)], StringList),
    "lookupIPV4": ([(P, str)], StringList),
    "lookupIPV6": ([(P, str)], StringList),
    "lookupSRV": ([(P, str), (P, str), (P, str)], SRVList),
    "fileExists": ([(P, str)], bool),
    "base64Encode": ([(P, str)], str),
    "base64Decode": ([(P, str)], str),
    "parseBool": ([(P, str)], bool),
    "atoi": ([(P, str)], int),
    "add": ([(P, int), (P, int)], int),
    "sub": ([(P, int), (P, int)], int),
    "mul": ([(P, int), (P, int)], int),
    "div": ([(P, int), (P, int)], int),
    "mod": ([(P, int), (P, int)], int),
    "seq": ([(P, int), (P, int)], IntList),
    "reverse": ([(P, Any)], Any),
    "sortByLength": ([(P, StringList)], StringList),
    "sortKVByLength": ([(P, KVPairList)], KVPairList),
}


def test_map_has_exactly_confds_names(f: dict[str, Any]) -> None:
    assert set(f) == CONFD_NAMES
    assert set(SIGNATURES) == CONFD_NAMES


@pytest.mark.parametrize("name", sorted(CONFD_NAMES))
def test_go_signature_annotations(f: dict[str, Any], name: str) -> None:
    fn = f[name]
    # funcs.py imports the DNS and time types lazily (not at start-up): name them here.
    hints = typing.get_type_hints(fn, localns={**vars(confpy.dnslookup), **vars(confpy.golang.time)})
    params = [(p.kind, hints.get(p.name)) for p in inspect.signature(fn).parameters.values()]
    expected_params, expected_result = SIGNATURES[name]
    assert params == expected_params
    assert hints["return"] == expected_result


# --- store functions through the map ------------------------------------------------------


def test_store_functions(f: dict[str, Any]) -> None:
    assert f["getv"]("/app/name") == "web"
    assert f["getv"]("/missing", "") == ""
    with pytest.raises(KeyError) as info:
        f["get"]("/missing")
    assert str(info.value) == "key does not exist: /missing"
    assert [p.Key for p in f["gets"]("/app/db/*")] == ["/app/db/password", "/app/db/user"]
    assert f["getvs"]("/app/db/*") == ["admin", "secret"]
    assert f["ls"]("/app") == ["db", "name", "x"] and f["lsdir"]("/app") == ["db"]
    assert f["exists"]("/app/x") and not f["exists"]("/app")


# --- strings and paths (Go outputs recorded with the oracle) ----------------------------------


@pytest.mark.parametrize(
    ("s", "sep", "expected"),
    [
        ("a,b,c", ",", ["a", "b", "c"]),
        ("", ",", [""]),
        ("", "", []),
        ("abc", "", ["a", "b", "c"]),
        ("日本", "", ["日", "本"]),
        ("a,,b", ",", ["a", "", "b"]),
        ("abc", "abc", ["", ""]),
        ("aaa", "aa", ["", "a"]),
    ],
)
def test_split(f: dict[str, Any], s: str, sep: str, expected: list[str]) -> None:
    result = f["split"](s, sep)
    assert result == expected and type(result) is StringList


def test_join(f: dict[str, Any]) -> None:
    assert f["join"](StringList(["a", "b"]), ", ") == "a, b"
    assert f["join"](StringList(), "-") == ""


@pytest.mark.parametrize(
    ("s", "old", "new", "n", "expected"),
    [
        ("aaaa", "a", "b", -1, "bbbb"),
        ("aaaa", "a", "b", 2, "bbaa"),
        ("aaaa", "a", "b", 0, "aaaa"),
        ("abc", "", "-", -1, "-a-b-c-"),
        ("abc", "", "-", 2, "-a-bc"),
        ("abc", "", "-", 10, "-a-b-c-"),
        ("", "", "-", -1, "-"),
        ("日本", "", "-", -1, "-日-本-"),
        ("aaaa", "a", "b", -5, "bbbb"),
        ("aaaa", "aa", "b", -1, "bb"),
    ],
)
def test_replace(f: dict[str, Any], s: str, old: str, new: str, n: int, expected: str) -> None:
    assert f["replace"](s, old, new, n) == expected


def test_contains_and_trim_suffix(f: dict[str, Any]) -> None:
    assert f["contains"]("abc", "") is True and f["contains"]("abc", "d") is False
    assert f["trimSuffix"]("a.txt", ".txt") == "a" and f["trimSuffix"]("a", "") == "a"
    assert f["trimSuffix"]("a.txt.txt", ".txt") == "a.txt"


def test_base_and_dir(f: dict[str, Any]) -> None:
    # Go's path.Base and path.Dir themselves: tests/golang/test_path.py.
    assert (f["base"]("//a//b//"), f["dir"]("//a//b//")) == ("b", "/a/b")
    assert (f["base"](""), f["dir"]("")) == (".", ".")


def test_to_upper_and_lower(f: dict[str, Any]) -> None:
    # Go's strings.ToUpper/ToLower themselves: tests/golang/test_strings.py.
    assert (f["toUpper"]("hello ß ᾳ"), f["toLower"]("ΣΑΣ İ")) == ("HELLO ß ᾼ", "σασ i")


# --- strconv, encodings ---------------------------------------------------------------------


def test_atoi_and_parse_bool_return_strconvs_errors(f: dict[str, Any]) -> None:
    # strconv.Atoi and ParseBool themselves are tested in tests/golang/test_strconv.py.
    assert call(f["atoi"], "-42") == (False, "-42")
    assert call(f["atoi"], "x") == (True, 'strconv.Atoi: parsing "x": invalid syntax')
    assert call(f["parseBool"], "T") == (False, "True")
    assert call(f["parseBool"], "yes") == (True, 'strconv.ParseBool: parsing "yes": invalid syntax')


@pytest.mark.parametrize(("s", "is_error", "text"), BASE64_DECODE)
def test_base64_decode(f: dict[str, Any], s: str, is_error: bool, text: str) -> None:
    assert call(f["base64Decode"], s) == (is_error, text)


def test_base64_decode_keeps_bytes_that_are_not_utf8(f: dict[str, Any]) -> None:
    decoded = f["base64Decode"]("/+8=")  # bytes ff ef
    assert decoded.encode("utf-8", "surrogateescape") == b"\xff\xef"
    assert go_quote(decoded) == '"\\xff\\xef"'  # as Go's %q prints it
    assert f["base64Encode"](decoded) == "/+8="


@pytest.mark.parametrize(
    ("s", "encoded"),
    [
        ("", ""),
        ("a", "YQ=="),
        ("ab", "YWI="),
        ("abc", "YWJj"),
        ("日本語", "5pel5pys6Kqe"),
        ("\x00ÿ", "AMO/"),
    ],
)
def test_base64_encode(f: dict[str, Any], s: str, encoded: str) -> None:
    assert f["base64Encode"](s) == encoded


@pytest.mark.parametrize(("data", "message"), JSON_ERRORS)
def test_json_errors(f: dict[str, Any], data: str, message: str) -> None:
    assert call(f["json"], data) == (True, message)


@pytest.mark.parametrize(("data", "message"), JSON_ARRAY_ERRORS)
def test_json_array_errors(f: dict[str, Any], data: str, message: str) -> None:
    assert call(f["jsonArray"], data) == (True, message)


def test_json_values(f: dict[str, Any]) -> None:
    value = f["json"]('{"a":1.5e21,"b":[1,{"c":null}],"d":true,"e":"x","f":-0,"g":1e-400}')
    assert value == {"a": 1.5e21, "b": [1.0, {"c": None}], "d": True, "e": "x", "f": 0.0, "g": 0.0}
    assert type(value) is dict and type(value["b"]) is list
    assert all(type(n) is float for n in (value["a"], value["b"][0], value["f"]))  # float64
    assert str(value["f"]) == "-0.0"
    assert f["json"]("  {} ") == {}
    assert f["json"]('{"a":1,"a":2}') == {"a": 2.0}
    assert f["json"]("null") == {}  # Go's nil map prints map[]
    assert f["jsonArray"]("null") == [] and f["jsonArray"]("[]") == []
    assert f["jsonArray"]('[1,"x",null,true,-0.5]') == [1.0, "x", None, True, -0.5]
    assert f["json"]('{"a":9007199254740993}') == {"a": 9007199254740992.0}


def test_json_strings_like_go(f: dict[str, Any]) -> None:
    assert f["json"](r'{"a":"\ud83d\ude00"}') == {"a": "😀"}
    assert f["json"](r'{"a":"\ud800"}') == {"a": "\ufffd"}  # a lone surrogate
    assert f["json"](r'{"a":"\ud800\u0041"}') == {"a": "\ufffdA"}
    assert f["json"](r'{"a":"\udc00\ud800"}') == {"a": "\ufffd\ufffd"}
    assert f["json"](r'{"a":"\/\b\f\n\r\t\\"}') == {"a": "/\b\f\n\r\t\\"}
    invalid_utf8 = b'{"a":"\xff"}'.decode("utf-8", "surrogateescape")
    assert f["json"](invalid_utf8) == {"a": "\ufffd"}


def test_map(f: dict[str, Any]) -> None:
    assert f["map"]("a", 1, "b", "x") == {"a": 1, "b": "x"}
    assert f["map"]() == {}
    assert call(f["map"], "a") == (True, "invalid map call")
    assert call(f["map"], 1, 2) == (True, "map keys must be strings")
    assert call(f["map"], None, 2) == (True, "map keys must be strings")


# --- arithmetic --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "a", "b", "expected"),
    [
        ("add", 1, 2, 3),
        ("sub", 1, 2, -1),
        ("mul", 6, 7, 42),
        ("div", -7, 2, -3),  # Go's int arithmetic: tests/golang/test_arith.py
        ("mod", -7, 3, -1),
        ("add", 9223372036854775807, 1, -9223372036854775808),
        ("div", -9223372036854775808, -1, -9223372036854775808),
    ],
)
def test_arithmetic(f: dict[str, Any], name: str, a: int, b: int, expected: int) -> None:
    assert f[name](a, b) == expected


@pytest.mark.parametrize("name", ["div", "mod"])
def test_division_by_zero_is_a_runtime_panic(f: dict[str, Any], name: str) -> None:
    assert call(f[name], 1, 0) == (True, "runtime error: integer divide by zero")


def test_seq(f: dict[str, Any]) -> None:
    assert f["seq"](1, 3) == [1, 2, 3] and type(f["seq"](1, 3)) is IntList
    assert f["seq"](3, 1) == []  # no descending sequence: Go prints []
    assert f["seq"](-1, 1) == [-1, 0, 1]
    assert f["seq"](2, 2) == [2]


# --- slices -------------------------------------------------------------------------------


def test_reverse_string_slice_in_place(f: dict[str, Any]) -> None:
    values = StringList(["a", "b", "c"])
    assert f["reverse"](values) is values
    assert values == ["c", "b", "a"]


def test_reverse_of_gets_is_a_no_op(f: dict[str, Any]) -> None:
    pairs = f["gets"]("/app/db/*")
    assert f["reverse"](pairs) is pairs
    assert [p.Key for p in pairs] == ["/app/db/password", "/app/db/user"]


def test_reverse_of_getvs_ls_and_sorted_pairs_works(f: dict[str, Any]) -> None:
    assert f["reverse"](f["getvs"]("/app/db/*")) == ["secret", "admin"]
    assert f["reverse"](f["ls"]("/app")) == ["x", "name", "db"]
    by_length = f["sortKVByLength"](f["gets"]("/app/*"))
    assert go_type_name(by_length) == "[]memkv.KVPair"
    assert [p.Key for p in f["reverse"](by_length)] == ["/app/name", "/app/x"]


def test_reverse_leaves_other_types_alone(f: dict[str, Any]) -> None:
    for value in ([1, 2], IntList([1, 2]), "ab", {"a": 1}, None, 5):
        before = value.copy() if isinstance(value, (list, dict)) else value
        assert f["reverse"](value) == before


def test_sort_by_length_in_place_by_bytes_and_stable(f: dict[str, Any]) -> None:
    values = StringList(["ccc", "é", "bb", "a", "dd", "b"])
    assert f["sortByLength"](values) is values
    # "é" is 2 bytes long, so it ties with "bb" and "dd" and keeps its place among them
    assert values == ["a", "b", "é", "bb", "dd", "ccc"]


def test_sort_kv_by_length(f: dict[str, Any]) -> None:
    pairs = KVPairList(
        [KVPair("/aaa", "1"), KVPair("/b", "2"), KVPair("/cc", "3"), KVPair("/d", "4")]
    )
    assert f["sortKVByLength"](pairs) is pairs
    assert [p.Key for p in pairs] == ["/b", "/d", "/cc", "/aaa"]
    named = f["gets"]("/app/*")  # memkv.KVPairs goes in, []memkv.KVPair comes out
    result = f["sortKVByLength"](named)
    assert type(result) is KVPairList and [p.Key for p in result] == ["/app/x", "/app/name"]


# --- host I/O ---------------------------------------------------------------------------------


def test_getenv_empty_counts_as_unset(f: dict[str, Any]) -> None:
    assert f["getenv"]("HOME") == "/home/u"
    assert f["getenv"]("HOME", "dflt") == "/home/u"
    assert f["getenv"]("EMPTY", "dflt") == "dflt"
    assert f["getenv"]("EMPTY") == ""
    assert f["getenv"]("NOPE") == ""
    assert f["getenv"]("NOPE", "a", "b") == "a"


def test_getenv_reads_the_live_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    funcs = confd_funcs(KVStore())
    monkeypatch.setenv("CONFPY_TEST_VAR", "v1")
    assert funcs["getenv"]("CONFPY_TEST_VAR") == "v1"
    monkeypatch.setenv("CONFPY_TEST_VAR", "v2")
    assert funcs["getenv"]("CONFPY_TEST_VAR") == "v2"


def test_datetime_is_now_in_the_local_zone() -> None:
    now = HostIO(environ={"TZ": ""}).datetime()
    assert isinstance(now, GoTime) and abs(now.Unix() - time.time()) < 5
    assert now.String().endswith(" +0000 UTC") and " m=" not in now.String()
    try:
        ZoneInfo("Asia/Tokyo")
    except ZoneInfoNotFoundError:
        pytest.skip("no IANA time zone database")
    tokyo = HostIO(environ={"TZ": "Asia/Tokyo"}).datetime()
    assert tokyo.Format("MST -0700") == "JST +0900"


def test_file_exists(f: dict[str, Any], tmp_path: Path) -> None:
    present = tmp_path / "present"
    present.write_text("x")
    assert f["fileExists"](str(present)) is True
    assert f["fileExists"](str(tmp_path)) is True
    assert f["fileExists"](str(tmp_path / "absent")) is False
    assert f["fileExists"]("") is False
    # only "does not exist" is false: ENOTDIR and EINVAL (a NUL byte) count as existing
    assert f["fileExists"](str(present / "child")) is True
    assert f["fileExists"]("a\x00b") is True


def test_lookup_ip_localhost(f: dict[str, Any]) -> None:
    ips = f["lookupIP"]("localhost")
    assert "127.0.0.1" in ips or "::1" in ips
    assert ips == sorted(ips) and type(ips) is StringList
    assert all("." in ip for ip in f["lookupIPV4"]("localhost"))
    assert all(":" in ip for ip in f["lookupIPV6"]("localhost"))


def test_lookup_ip_literals(f: dict[str, Any]) -> None:
    assert f["lookupIP"]("10.0.0.1") == ["10.0.0.1"]
    assert f["lookupIP"]("::ffff:1.2.3.4") == ["1.2.3.4"]  # Go prints mapped IPv4 dotted
    assert f["lookupIPV6"]("::1") == ["::1"] and f["lookupIPV4"]("::1") == []
    assert f["lookupIPV4"]("10.0.0.1") == ["10.0.0.1"] and f["lookupIPV6"]("10.0.0.1") == []


def test_lookup_ip_sorts_as_strings(f: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    answers = ["10.0.0.9", "10.0.0.10", "2001:db8::1", "fe80::1%eth0", "::ffff:10.0.0.8"]
    monkeypatch.setattr(
        dnslookup.socket,
        "getaddrinfo",
        lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, 0)) for ip in answers],
    )
    assert f["lookupIP"]("any") == ["10.0.0.10", "10.0.0.8", "10.0.0.9", "2001:db8::1", "fe80::1"]
    assert f["lookupIPV4"]("any") == ["10.0.0.10", "10.0.0.8", "10.0.0.9"]
    assert f["lookupIPV6"]("any") == ["2001:db8::1", "fe80::1"]


def test_lookup_ip_errors_give_an_empty_list(
    f: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert f["lookupIP"]("") == []

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(dnslookup.socket, "getaddrinfo", fail)
    assert f["lookupIP"]("no.such.host") == [] and type(f["lookupIP"]("x")) is StringList
    assert f["lookupIPV4"]("no.such.host") == [] and f["lookupIPV6"]("no.such.host") == []


# --- lookupSRV against a tiny local DNS server ----------------------------------------------


def _encode_name(name: str) -> bytes:
    if name == "@":  # a compression pointer to the question's name
        return b"\xc0\x0c"
    return (
        b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".") if p) + b"\x00"
    )


class FakeDNS:
    """An authoritative DNS server on 127.0.0.1, UDP and TCP on one port, for SRV queries.

    ``zones`` maps a lower-case FQDN to SRV records (priority, weight, port, target); other
    names get NXDOMAIN. ``mode``: "normal", "truncate" (UDP answers are truncated, TCP
    has them), "stray" (a reply with a wrong id comes first), "servfail", "lame", "cname"
    (a CNAME record precedes the SRVs).
    """

    def __init__(
        self, zones: dict[str, list[tuple[int, int, int, str]]], mode: str = "normal"
    ) -> None:
        self.zones, self.mode = zones, mode
        self.queries: list[tuple[str, str]] = []  # (transport, name)
        self._stop = threading.Event()
        for _ in range(20):  # find a port free for both UDP and TCP
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tcp.bind(("127.0.0.1", 0))
            self.port = self.tcp.getsockname()[1]
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                self.udp.bind(("127.0.0.1", self.port))
                break
            except OSError:
                self.tcp.close()
                self.udp.close()
        self.tcp.listen()
        self.tcp.settimeout(0.05)
        self.udp.settimeout(0.05)
        self._threads = [
            threading.Thread(target=t, daemon=True) for t in (self._serve_udp, self._serve_tcp)
        ]
        for thread in self._threads:
            thread.start()

    def conf(self, **changes: Any) -> ResolvConf:
        settings = {
            "servers": (("127.0.0.1", self.port),),
            "search": (),
            "timeout": 1.0,
            "attempts": 1,
        }
        settings.update(changes)
        return ResolvConf(**settings)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self.tcp.close()
        self.udp.close()

    def _answer(self, query: bytes, transport: str) -> bytes:
        off, labels = 12, []
        while query[off]:
            labels.append(query[off + 1 : off + 1 + query[off]].decode())
            off += query[off] + 1
        question = query[12 : off + 5]
        name = ".".join(labels) + "."
        self.queries.append((transport, name))
        records = self.zones.get(name.lower())
        flags = 0x8000 | 0x0100 | 0x0400 | 0x0080  # response, RD, AA, RA
        rcode = 3 if records is None else 0
        if self.mode == "servfail":
            rcode, records = 2, None
        if self.mode == "lame":
            flags, rcode, records = 0x8000, 0, None
        body, count = b"", 0
        if self.mode == "truncate" and transport == "udp":
            flags |= 0x0200
        elif records:
            if self.mode == "cname":
                target = _encode_name("elsewhere.example.")
                body += b"\xc0\x0c" + struct.pack(">HHIH", 5, 1, 60, len(target)) + target
                count += 1
            for prio, weight, port, host in records:
                rdata = struct.pack(">HHH", prio, weight, port) + _encode_name(host)
                body += b"\xc0\x0c" + struct.pack(">HHIH", 33, 1, 60, len(rdata)) + rdata
                count += 1
        header = query[:2] + struct.pack(">HHHHH", flags | rcode, 1, count, 0, 0)
        return header + question + body

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            try:
                query, peer = self.udp.recvfrom(4096)
            except OSError:
                continue
            reply = self._answer(query, "udp")
            if self.mode == "stray":  # a forged reply first: the client must wait for ours
                bad_id = struct.pack(">H", (struct.unpack(">H", reply[:2])[0] + 1) & 0xFFFF)
                self.udp.sendto(bad_id + reply[2:], peer)
            self.udp.sendto(reply, peer)

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                size = struct.unpack(">H", conn.recv(2))[0]
                query = b""
                while len(query) < size:
                    query += conn.recv(size - len(query))
                reply = self._answer(query, "tcp")
                conn.sendall(struct.pack(">H", len(reply)) + reply)


SRV_ZONE = {
    "_http._tcp.example.com.": [
        (10, 5, 8080, "b.example.com."),
        (10, 5, 80, "a.example.com."),
        (20, 0, 9, "a.example.com."),  # port 9 sorts after port 80: "a...920" > "a...80105"
        (1, 1, 10, "a.example.com."),
    ]
}


@pytest.fixture()
def dns() -> Iterator[FakeDNS]:
    server = FakeDNS(SRV_ZONE)
    try:
        yield server
    finally:
        server.stop()


def _srv(records: list[SRV]) -> list[tuple[str, int, int, int]]:
    return [(r.Target, r.Port, r.Priority, r.Weight) for r in records]


def test_lookup_srv_sorted_by_target_port_priority_weight_string(dns: FakeDNS) -> None:
    lookup = confd_funcs(KVStore(), resolv_conf=dns.conf())["lookupSRV"]
    records = lookup("http", "tcp", "example.com")
    assert type(records) is SRVList and go_type_name(records) == "[]*net.SRV"
    assert _srv(records) == [
        ("a.example.com.", 10, 1, 1),  # "a.example.com.1011"
        ("a.example.com.", 80, 10, 5),  # "a.example.com.80105"
        ("a.example.com.", 9, 20, 0),  # "a.example.com.9200"
        ("b.example.com.", 8080, 10, 5),
    ]
    assert go_type_name(records[0]) == "*net.SRV"
    assert dns.queries == [("udp", "_http._tcp.example.com.")]


def test_lookup_srv_missing_name_gives_empty_list(dns: FakeDNS) -> None:
    lookup = confd_funcs(KVStore(), resolv_conf=dns.conf())["lookupSRV"]
    assert lookup("ldap", "tcp", "example.com") == []
    assert lookup("", "", "nowhere.example.com") == []
    assert lookup("bad name", "tcp", "example.com") == []  # not a domain name: never sent
    assert ("udp", "_bad name._tcp.example.com.") not in dns.queries


def test_lookup_srv_with_empty_service_queries_the_name(dns: FakeDNS) -> None:
    lookup = confd_funcs(KVStore(), resolv_conf=dns.conf())["lookupSRV"]
    assert len(lookup("", "", "_http._tcp.example.com")) == 4


@pytest.mark.parametrize("mode", ["truncate", "stray", "cname"])
def test_lookup_srv_protocol_paths(mode: str) -> None:
    zone = {"_x._udp.example.org.": [(1, 2, 3, "t.example.org."), (0, 0, 53, "@")]}
    server = FakeDNS(zone, mode=mode)
    try:
        records = confd_funcs(KVStore(), resolv_conf=server.conf())["lookupSRV"](
            "x", "udp", "example.org"
        )
        assert _srv(records) == [("_x._udp.example.org.", 53, 0, 0), ("t.example.org.", 3, 1, 2)]
        if mode == "truncate":  # RFC 5966: the truncated UDP answer is retried over TCP
            assert [t for t, _ in server.queries] == ["udp", "tcp"]
    finally:
        server.stop()


@pytest.mark.parametrize("mode", ["servfail", "lame"])
def test_lookup_srv_bad_servers_give_empty_list(mode: str) -> None:
    server = FakeDNS(SRV_ZONE, mode=mode)
    try:
        conf = server.conf(attempts=2)
        assert (
            confd_funcs(KVStore(), resolv_conf=conf)["lookupSRV"]("http", "tcp", "example.com")
            == []
        )
        assert len(server.queries) == 2  # each attempt asks again (the name exists)
    finally:
        server.stop()


def test_lookup_srv_tries_the_next_server(dns: FakeDNS) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # bound but never answers
        conf = dns.conf(servers=(silent.getsockname(), ("127.0.0.1", dns.port)), timeout=0.3)
        records = confd_funcs(KVStore(), resolv_conf=conf)["lookupSRV"](
            "http", "tcp", "example.com"
        )
    assert len(records) == 4


def test_lookup_srv_no_server_gives_empty_list() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        conf = ResolvConf(servers=(silent.getsockname(),), timeout=0.2, attempts=1)
        start = time.monotonic()
        assert confd_funcs(KVStore(), resolv_conf=conf)["lookupSRV"]("a", "tcp", "b.c") == []
    assert time.monotonic() - start < 3


def test_lookup_srv_search_list_order(dns: FakeDNS) -> None:
    lookup = confd_funcs(KVStore(), resolv_conf=dns.conf(search=("example.com.",)))["lookupSRV"]
    assert lookup("http", "tcp", "") == []  # "_http._tcp." is rooted: tried alone, NXDOMAIN
    assert [name for _, name in dns.queries] == ["_http._tcp."]
    dns.queries.clear()
    zone_name = "_http._tcp.example.com."
    dns.zones["_http._tcp.svc.example.com."] = dns.zones[zone_name]
    assert len(lookup("http", "tcp", "svc")) == 4
    # enough dots (ndots 1): the name as given first, then with the search suffix
    assert [name for _, name in dns.queries] == ["_http._tcp.svc.", "_http._tcp.svc.example.com."]
    dns.queries.clear()
    lookup = confd_funcs(KVStore(), resolv_conf=dns.conf(search=("example.com.",), ndots=5))[
        "lookupSRV"
    ]
    assert len(lookup("http", "tcp", "svc")) == 4
    assert [name for _, name in dns.queries] == ["_http._tcp.svc.example.com."]


def test_resolv_conf_parsing(tmp_path: Path) -> None:
    path = tmp_path / "resolv.conf"
    path.write_text(
        "# comment\n; another\nnameserver 10.0.0.1\nnameserver not-an-ip\n"
        "nameserver fe80::1%eth0\nnameserver 10.0.0.2\nnameserver 10.0.0.3\n"
        "domain ignored.example\nsearch a.example b.example.\n"
        "options ndots:3 timeout:0 attempts:4 use-vc rotate\n"
    )
    conf = ResolvConf.load(str(path))
    assert conf.servers == (("10.0.0.1", 53), ("fe80::1%eth0", 53), ("10.0.0.2", 53))
    assert conf.search == ("a.example.", "b.example.")
    assert (conf.ndots, conf.timeout, conf.attempts, conf.use_tcp) == (3, 1.0, 4, True)
    assert conf.name_list("x.y") == ["x.y.a.example.", "x.y.b.example.", "x.y."]
    assert conf.name_list("x.y.") == ["x.y."]
    assert conf.name_list("hidden.onion") == []


def test_resolv_conf_defaults(tmp_path: Path) -> None:
    conf = ResolvConf.load(str(tmp_path / "missing"))
    assert conf.servers == (("127.0.0.1", 53), ("::1", 53))
    assert (conf.ndots, conf.attempts) == (1, 2)


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("_http._tcp.example.com", True),
        ("example.com.", True),
        (".", True),
        ("", False),
        ("a..b", False),
        ("-a.b", False),
        ("a-.b", False),
        ("123.456", False),  # all numeric
        ("a b.c", False),
        ("é.com", False),
        ("a" * 64 + ".com", False),
    ],
)
def test_is_domain_name(name: str, valid: bool) -> None:
    assert is_domain_name(name) is valid


# --- through the Go template engine -------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('{{getv "/app/name"}}', "web"),
        ('{{reverse (gets "/app/db/*")}}', "[{/app/db/password secret} {/app/db/user admin}]"),
        ("{{seq 3 1}}", "[]"),
        ('{{getenv "EMPTY" "d"}}', "d"),
        ("{{mod -7 3}}", "-1"),
        ('{{(json "{\\"a\\":1.5e21}").a}}', "1.5e+21"),
        ('{{datetime.Format "MST"}}', "UTC"),
        (
            '{{getv "/x"}}',
            'ERROR template: t:1:2: executing "t" at <getv "/x">: error calling getv: '
            "key does not exist: /x",
        ),
        (
            "{{div 1 0}}",
            'ERROR template: t:1:2: executing "t" at <div 1 0>: error calling div: '
            "runtime error: integer divide by zero",
        ),
    ],
)
def test_through_the_engine(f: dict[str, Any], template: str, expected: str) -> None:
    gotemplate = pytest.importorskip("confpy.gotemplate")
    try:
        out = gotemplate.Template("t", funcs=f).parse(template).execute(None)
    except gotemplate.TemplateError as exc:
        out = f"ERROR {exc}"
    assert out == expected


def test_env_is_not_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONFPY_UNSET", raising=False)
    assert confd_funcs(KVStore())["getenv"]("CONFPY_UNSET", "dflt") == "dflt"
    assert "CONFPY_UNSET" not in os.environ
