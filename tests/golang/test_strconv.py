"""confpy.golang.strconv against Go 1.19's strconv.

The ``recorded`` tests replay every case of ``recorded/strconv.json``, written by the Go
program in ``recorder/`` (how to re-record: ``go_recorded.py``). The tables below them
were recorded earlier with the gotmpl-oracle and Go 1.19 programs, for confd's ``atoi``
and ``parseBool``, Go's flag package and the file backend; they moved here with the code.
"""

from __future__ import annotations

import math
import sys
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from go_recorded import float_bits, go_float, go_str, load, mismatches, replay

from confpy.golang.strconv import (
    ERR_RANGE,
    ERR_SYNTAX,
    InvalidSyntax,
    NumError,
    atoi,
    can_backquote,
    format_float,
    is_print,
    parse_bool,
    parse_float,
    parse_int,
    parse_uint,
    quote,
    quote_rune,
    unquote,
    unquote_char,
)

RECORDED = load("strconv")


def outcome(fn: Callable[..., Any], *args: Any) -> tuple[Any, str | None]:
    """(value, None) or (None, Go's error text)."""
    try:
        return fn(*args), None
    except NumError as exc:
        return None, str(exc)
    except InvalidSyntax as exc:
        return None, str(exc)


# --- recorded from Go ---------------------------------------------------------------------


@pytest.mark.parametrize(("section", "fn"), [("ParseInt", parse_int), ("ParseUint", parse_uint)])
def test_parse_int_and_uint_recorded(section: str, fn: Callable[[str, int, int], int]) -> None:
    replay(RECORDED[section], lambda s, base, bits, *go: (tuple(go), outcome(fn, go_str(s), base, bits)))


def test_atoi_and_parse_bool_recorded() -> None:
    replay(RECORDED["Atoi"], lambda s, *go: (tuple(go), outcome(atoi, go_str(s))))
    replay(RECORDED["ParseBool"], lambda s, *go: (tuple(go), outcome(parse_bool, go_str(s))))


def _parse_float_answers(s: str, bits: str | None, error: str | None) -> tuple[Any, Any]:
    value, our_error = outcome(parse_float, go_str(s))
    our_bits = None if value is None else float_bits(value)
    if value is not None and math.isnan(value) and bits is not None and math.isnan(go_float(bits)):
        our_bits = bits  # NaN payloads may differ
    return (bits, error), (our_bits, our_error)


def test_parse_float_recorded() -> None:
    replay(RECORDED["ParseFloat"], _parse_float_answers)


def test_format_float_recorded() -> None:
    replay(RECORDED["FormatFloat"], lambda bits, verb, prec, text: (text, format_float(go_float(bits), verb, prec)))


def _quote_answers(s: Any, *go: Any) -> tuple[Any, Any]:
    s = go_str(s)
    return go, (quote(s), quote(s, ascii_only=True), can_backquote(s))


def test_quote_recorded() -> None:
    replay(RECORDED["Quote"], _quote_answers)
    replay(RECORDED["QuoteRune"], lambda code, *go: (go, (quote_rune(code), quote_rune(code, ascii_only=True))))


def test_unquote_recorded() -> None:
    replay(RECORDED["Unquote"], lambda s, value, error: ((go_str(value), error), outcome(unquote, go_str(s))))


def _unquote_char_answers(s: Any, quote_char: str, value: Any, _multibyte: Any, tail: Any, error: Any) -> tuple[Any, Any]:
    try:
        char, rest = unquote_char(go_str(s), quote_char)
    except InvalidSyntax as exc:
        return (value, go_str(tail), error), (None, None, str(exc))
    code = ord(char)  # a high byte is held as a surrogate escape
    return (value, go_str(tail), error), (code - 0xDC00 if 0xDC80 <= code <= 0xDCFF else code, rest, None)


def test_unquote_char_recorded() -> None:
    replay(RECORDED["UnquoteChar"], _unquote_char_answers)


# strconv.py corrects Python's Unicode 14 tables (3.11) to Go 1.19's Unicode 13; a newer
# Python's additions are unknown to it.
@pytest.mark.skipif(
    unicodedata.unidata_version not in ("13.0.0", "14.0.0"),
    reason=f"strconv.py does not know Unicode {unicodedata.unidata_version}'s additions",
)
def test_is_print_over_every_rune() -> None:
    printable = bytearray(0x110000)
    for lo, hi in RECORDED["IsPrint"]:
        printable[lo : hi + 1] = b"\x01" * (hi - lo + 1)
    wrong = [hex(c) for c in range(0x110000) if is_print(chr(c)) != bool(printable[c])]
    assert not wrong, mismatches(wrong)


# --- moved here with the code: confd's atoi and parseBool (gotmpl-oracle, Go 1.19) ------

ATOI = [
    ("x", True, 'strconv.Atoi: parsing "x": invalid syntax'),
    ("", True, 'strconv.Atoi: parsing "": invalid syntax'),
    ("+", True, 'strconv.Atoi: parsing "+": invalid syntax'),
    ("-", True, 'strconv.Atoi: parsing "-": invalid syntax'),
    ("12a", True, 'strconv.Atoi: parsing "12a": invalid syntax'),
    (
        "99999999999999999999",
        True,
        'strconv.Atoi: parsing "99999999999999999999": value out of range',
    ),
    (
        "-99999999999999999999",
        True,
        'strconv.Atoi: parsing "-99999999999999999999": value out of range',
    ),
    ("9223372036854775807", False, "9223372036854775807"),
    (
        "9223372036854775808",
        True,
        'strconv.Atoi: parsing "9223372036854775808": value out of range',
    ),
    ("-9223372036854775808", False, "-9223372036854775808"),
    (
        "-9223372036854775809",
        True,
        'strconv.Atoi: parsing "-9223372036854775809": value out of range',
    ),
    (
        "99999999999999999999x",
        True,
        'strconv.Atoi: parsing "99999999999999999999x": value out of range',
    ),
    ("1_000", True, 'strconv.Atoi: parsing "1_000": invalid syntax'),
    (" 1", True, 'strconv.Atoi: parsing " 1": invalid syntax'),
    ("+5", False, "5"),
    ("0x10", True, 'strconv.Atoi: parsing "0x10": invalid syntax'),
    ("é", True, 'strconv.Atoi: parsing "é": invalid syntax'),
    ("a\tb", True, 'strconv.Atoi: parsing "a\\tb": invalid syntax'),
    ("\x00", True, 'strconv.Atoi: parsing "\\x00": invalid syntax'),
    ("日本", True, 'strconv.Atoi: parsing "日本": invalid syntax'),
    ("123456789012345678", False, "123456789012345678"),
    ("1234567890123456789", False, "1234567890123456789"),
    ("+-1", True, 'strconv.Atoi: parsing "+-1": invalid syntax'),
    ("\xa0", True, 'strconv.Atoi: parsing "\\u00a0": invalid syntax'),
    ("\u200b", True, 'strconv.Atoi: parsing "\\u200b": invalid syntax'),
    ("\x7f", True, 'strconv.Atoi: parsing "\\x7f": invalid syntax'),
    ("�", True, 'strconv.Atoi: parsing "�": invalid syntax'),
    ("0", False, "0"),
    ("-0", False, "0"),
    ("007", False, "7"),
    (
        "18446744073709551616",
        True,
        'strconv.Atoi: parsing "18446744073709551616": value out of range',
    ),
    (
        "x18446744073709551616",
        True,
        'strconv.Atoi: parsing "x18446744073709551616": invalid syntax',
    ),
    ("\u2028", True, 'strconv.Atoi: parsing "\\u2028": invalid syntax'),
    ("😀", True, 'strconv.Atoi: parsing "😀": invalid syntax'),
    ('a"b', True, 'strconv.Atoi: parsing "a\\"b": invalid syntax'),
    ("a\\b", True, 'strconv.Atoi: parsing "a\\\\b": invalid syntax'),
    ("\x1b[0m", True, 'strconv.Atoi: parsing "\\x1b[0m": invalid syntax'),
    ("1 ", True, 'strconv.Atoi: parsing "1 ": invalid syntax'),
]

PARSE_BOOL = [
    ("x", True, 'strconv.ParseBool: parsing "x": invalid syntax'),
    ("1", False, "true"),
    ("t", False, "true"),
    ("T", False, "true"),
    ("TRUE", False, "true"),
    ("true", False, "true"),
    ("True", False, "true"),
    ("0", False, "false"),
    ("f", False, "false"),
    ("F", False, "false"),
    ("FALSE", False, "false"),
    ("false", False, "false"),
    ("False", False, "false"),
    ("tRUE", True, 'strconv.ParseBool: parsing "tRUE": invalid syntax'),
    ("yes", True, 'strconv.ParseBool: parsing "yes": invalid syntax'),
    ("", True, 'strconv.ParseBool: parsing "": invalid syntax'),
    ("é", True, 'strconv.ParseBool: parsing "é": invalid syntax'),
    (" true", True, 'strconv.ParseBool: parsing " true": invalid syntax'),
]


def go_view(fn: Callable[[str], Any], s: str) -> tuple[bool, str]:
    """(is_error, text): the error text, or the value as Go prints it."""
    try:
        value = fn(s)
    except NumError as exc:
        return True, str(exc)
    return False, str(value).lower() if isinstance(value, bool) else str(value)


@pytest.mark.parametrize(("s", "is_error", "text"), ATOI)
def test_atoi(s: str, is_error: bool, text: str) -> None:
    assert go_view(atoi, s) == (is_error, text)


@pytest.mark.parametrize(("s", "is_error", "text"), PARSE_BOOL)
def test_parse_bool(s: str, is_error: bool, text: str) -> None:
    assert go_view(parse_bool, s) == (is_error, text)


def test_num_error_fields() -> None:
    with pytest.raises(NumError) as caught:
        parse_int("0x1g")
    assert (caught.value.func, caught.value.num, caught.value.err) == ("ParseInt", "0x1g", ERR_SYNTAX)
    with pytest.raises(NumError) as caught:
        parse_uint("256", 10, 8)
    assert caught.value.err == ERR_RANGE
    assert str(caught.value) == 'strconv.ParseUint: parsing "256": value out of range'


# --- moved here: Go's flag package reads -interval with ParseInt(s, 0, 64) ---------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("10", 10), ("010", 8), ("0x1f", 31), ("0o17", 15), ("0b101", 5), ("-010", -8), ("+7", 7),
     ("0", 0), ("1_000", 1000), ("0_10", 8)],
)  # fmt: skip
def test_parse_int_base_0(text: str, value: int) -> None:
    assert parse_int(text, 0, 64) == value


def test_parse_bool_flag_values() -> None:
    for text in ("1", "t", "T", "TRUE", "true", "True"):
        assert parse_bool(text) is True
    for text in ("0", "f", "F", "FALSE", "false", "False"):
        assert parse_bool(text) is False
    for text in ("yes", "tRUE", "", " true"):
        with pytest.raises(ValueError):
            parse_bool(text)


# --- moved here from the file backend: FormatFloat(v, 'f', -1, 64) ----------------------------


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1e10, "10000000000"),
        (1.5, "1.5"),
        (1.0, "1"),
        (0.1, "0.1"),
        (-0.0, "-0"),
        (123456.789e3, "123456789"),
        (5e-324, "0." + "0" * 323 + "5"),
    ],
)
def test_format_float_f_shortest(number: float, text: str) -> None:
    assert format_float(number, "f", -1) == text


# --- moved here from the function map's tests: Go's %q ---------------------------------------


def test_go_quote() -> None:
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    assert quote("\x00\x7f\n\u00a0\u200b😀é") == '"\\x00\\x7f\\n\\u00a0\\u200b😀é"'
    assert quote("\U000e0001") == '"\\U000e0001"'


def test_huge_inputs_do_not_reach_python_int_limits() -> None:
    digits = "1" * (sys.get_int_max_str_digits() + 10) if hasattr(sys, "get_int_max_str_digits") else "1" * 5000
    with pytest.raises(NumError, match="value out of range"):
        parse_int(digits)
    assert parse_uint("0" * 10_000 + "7", 10, 64) == 7
