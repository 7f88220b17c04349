"""Go's ``strconv``: integers in every base, bools, floats both ways, quoting.

Each function answers as its Go namesake (Go 1.19), errors included: a failed parse
raises ``NumError``, whose ``str()`` is Go's text (``strconv.Atoi: parsing "x": invalid
syntax``); ``Unquote`` and ``UnquoteChar`` raise ``InvalidSyntax`` (Go's bare
``strconv.ErrSyntax``).

Go strings are bytes; ours are ``str``. A byte that is not valid UTF-8 (from a ``\\x80``
escape, say) is kept as a lone surrogate U+DC80..U+DCFF, the ``surrogateescape``
convention, so it is written back out as the same byte.
"""

from __future__ import annotations

import functools
import math
import re
import struct
from bisect import bisect_right

__all__ = [
    "ERR_RANGE",
    "ERR_SYNTAX",
    "InvalidSyntax",
    "NumError",
    "atoi",
    "can_backquote",
    "format_float",
    "is_print",
    "parse_bool",
    "parse_float",
    "parse_int",
    "parse_uint",
    "quote",
    "quote_rune",
    "quote_with",
    "unquote",
    "unquote_char",
]

ERR_SYNTAX = "invalid syntax"  # strconv.ErrSyntax
ERR_RANGE = "value out of range"  # strconv.ErrRange


class NumError(ValueError):
    """``*strconv.NumError``: ``func`` failed on ``num`` because of ``err`` (ERR_SYNTAX,
    ERR_RANGE, or Go's ``invalid base N`` / ``invalid bit size N``)."""

    def __init__(self, func: str, num: str, err: str) -> None:
        super().__init__(func, num, err)
        self.func = func
        self.num = num
        self.err = err

    def __str__(self) -> str:
        return f"strconv.{self.func}: parsing {quote(self.num)}: {self.err}"


class InvalidSyntax(ValueError):
    """``strconv.ErrSyntax`` as ``Unquote`` and ``UnquoteChar`` return it."""

    def __init__(self) -> None:
        super().__init__(ERR_SYNTAX)


_UNESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


# Code points Python's Unicode (14.0 in 3.11) prints but Go 1.19's Unicode 13 tables do not
# (what was assigned in Unicode 14): strconv.IsPrint is isprintable() minus these ranges.
_NEWER_THAN_GO = """
61d 870-88e 898-89f 8b5 8c8-8d2 c3c c5d cdd 170d 1715 171f 180f 1ac1-1ace 1b4c 1b7d-1b7e
1dfa 20c0 2c2f 2c5f 2e53-2e5d 9ffd-9fff a7c0-a7c1 a7d0-a7d1 a7d3 a7d5-a7d9 a7f2-a7f4
fbc2 fd40-fd4f fdcf fdfe-fdff 10570-1057a 1057c-1058a 1058c-10592 10594-10595
10597-105a1 105a3-105b1 105b3-105b9 105bb-105bc 10780-10785 10787-107b0 107b2-107ba
10f70-10f89 11070-11075 110c2 116b9 11740-11746 11ab0-11abf 12f90-12ff2 16a70-16abe
16ac0-16ac9 1aff0-1aff3 1aff5-1affb 1affd-1affe 1b11f-1b122 1cf00-1cf2d 1cf30-1cf46
1cf50-1cfc3 1d1e9-1d1ea 1df00-1df1e 1e290-1e2ae 1e7e0-1e7e6 1e7e8-1e7eb 1e7ed-1e7ee
1e7f0-1e7fe 1f6dd-1f6df 1f7f0 1f979 1f9cc 1fa7b-1fa7c 1faa9-1faac 1fab7-1faba
1fac3-1fac5 1fad7-1fad9 1fae0-1fae7 1faf0-1faf6 2a6de-2a6df 2b735-2b738
"""
_NEWER_SPANS = [span.partition("-") for span in _NEWER_THAN_GO.split()]
_NEWER_STARTS = tuple(int(lo, 16) for lo, _, _ in _NEWER_SPANS)
_NEWER_ENDS = tuple(int(hi or lo, 16) for lo, _, hi in _NEWER_SPANS)


def is_print(ch: str) -> bool:
    """Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and ASCII space."""
    if not ch.isprintable():
        return False
    o = ord(ch)
    if o < 0x61D:
        return True
    i = bisect_right(_NEWER_STARTS, o) - 1
    return i < 0 or o > _NEWER_ENDS[i]


_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\v": "\\v"}


def quote_with(s: str, q: str, ascii_only: bool) -> str:
    """strconv.Quote / QuoteToASCII / QuoteRune: q is the quote character."""
    if s.isascii() and s.isprintable() and q not in s and "\\" not in s:
        return q + s + q  # nothing to escape: the common case
    out = [q]
    for ch in s:
        o = ord(ch)
        if ch == q or ch == "\\":
            out.append("\\" + ch)
        elif (o < 0x80 or not ascii_only) and is_print(ch):
            out.append(ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif 0xDC80 <= o <= 0xDCFF:  # an invalid UTF-8 byte kept by surrogateescape
            out.append(f"\\x{o - 0xDC00:02x}")
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\\ufffd")
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append(q)
    return "".join(out)


def quote(s: str, *, ascii_only: bool = False) -> str:
    """strconv.Quote (or QuoteToASCII): a double-quoted Go string literal."""
    return quote_with(s, '"', ascii_only)


def quote_rune(code: int, *, ascii_only: bool = False) -> str:
    """strconv.QuoteRune: a single-quoted Go character literal."""
    if code < 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        code = 0xFFFD
    return quote_with(chr(code), "'", ascii_only)


def unquote_char(s: str, quote_char: str) -> tuple[str, str]:
    """strconv.UnquoteChar: decode the first character or escape of ``s``.

    Returns (the decoded character, the rest). Raises InvalidSyntax.
    """
    if not s:
        raise InvalidSyntax()
    c = s[0]
    if c == quote_char and quote_char in "'\"":
        raise InvalidSyntax()
    if c != "\\":
        if "\ud800" <= c <= "\udfff":  # a byte that is not UTF-8: Go reads utf8.RuneError
            return "\ufffd", s[1:]
        return c, s[1:]
    if len(s) <= 1:
        raise InvalidSyntax()
    c, s = s[1], s[2:]
    simple = _UNESCAPES.get(c)
    if simple is not None:
        return simple, s
    if c in "xuU":
        n = {"x": 2, "u": 4, "U": 8}[c]
        digits = s[:n]
        if len(digits) < n or any(d not in "0123456789abcdefABCDEF" for d in digits):
            raise InvalidSyntax()
        value = int(digits, 16)
        if c == "x":
            return _byte_char(value), s[n:]
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise InvalidSyntax()
        return chr(value), s[n:]
    if "0" <= c <= "7":
        digits = c + s[:2]
        if len(digits) < 3 or any(d not in "01234567" for d in digits):
            raise InvalidSyntax()
        value = int(digits, 8)
        if value > 255:
            raise InvalidSyntax()
        return _byte_char(value), s[2:]
    if c in "'\"":
        if c != quote_char:
            raise InvalidSyntax()
        return c, s
    raise InvalidSyntax()


def _byte_char(value: int) -> str:
    """A single byte from an escape: ASCII as is, a high byte as a surrogate escape."""
    return chr(value) if value < 0x80 else chr(0xDC00 + value)


def _has_surrogate(s: str) -> bool:
    """Whether ``s`` holds a byte that is not UTF-8 (strict UTF-8 cannot encode those)."""
    if s.isascii():
        return False
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def unquote(s: str) -> str:
    """strconv.Unquote for a "..." or `...` literal."""
    if len(s) < 2 or s[0] != s[-1] or s[0] not in "\"`'":
        raise InvalidSyntax()
    quote_char, body = s[0], s[1:-1]
    if quote_char == "`":
        if "`" in body:
            raise InvalidSyntax()
        return body.replace("\r", "")
    if "\\" not in body and "\n" not in body and quote_char not in body and not _has_surrogate(body):
        if quote_char == "'" and len(body) > 1:  # Go 1.19 reads '' as ""
            raise InvalidSyntax()
        return body
    out: list[str] = []
    rest = body
    while rest:
        if rest[0] == "\n":
            raise InvalidSyntax()
        ch, rest = unquote_char(rest, quote_char)
        out.append(ch)
        if quote_char == "'" and rest:
            raise InvalidSyntax()
    return "".join(out)


# --- integers and bools: ParseUint, ParseInt, Atoi, ParseBool ---------------------------

_DIGIT_VALUES = {c: int(c, 36) for c in "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"}
_PREFIX_BASES = {"b": 2, "B": 2, "o": 8, "O": 8, "x": 16, "X": 16}


def _underscore_ok(s: str) -> bool:
    """Go's underscoreOK: an underscore only between digits, or after a base prefix."""
    saw = "^"  # ^ start, 0 a digit or base prefix, _ an underscore, ! anything else
    i = 0
    if s[:1] in ("+", "-"):
        s = s[1:]
    hexadecimal = False
    if len(s) >= 2 and s[0] == "0" and s[1] in _PREFIX_BASES:
        i = 2
        saw = "0"
        hexadecimal = s[1] in "xX"
    for c in s[i:]:
        if "0" <= c <= "9" or (hexadecimal and c in "abcdefABCDEF"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
    return saw != "_"


def _parse_uint(s: str, base: int, bit_size: int, func: str, num: str) -> int:
    """ParseUint's algorithm; errors name ``func`` and ``num`` (ParseInt passes its own)."""
    if not s:
        raise NumError(func, num, ERR_SYNTAX)
    base0 = base == 0
    s0 = s
    if base0:
        base = 10
        if s[0] == "0":
            if len(s) >= 3 and s[1] in _PREFIX_BASES:
                base, s = _PREFIX_BASES[s[1]], s[2:]
            else:
                base, s = 8, s[1:]  # a leading 0 means octal: 0777 is 511
    elif not 2 <= base <= 36:
        raise NumError(func, num, f"invalid base {base}")
    if bit_size == 0:
        bit_size = 64
    elif not 0 < bit_size <= 64:
        raise NumError(func, num, f"invalid bit size {bit_size}")
    underscores = base0 and "_" in s
    digits = s.replace("_", "") if underscores else s
    if base == 10 and digits.isascii() and digits.isdigit():
        run, bad = digits, False  # the usual case
    else:
        end = 0
        for c in digits:
            if _DIGIT_VALUES.get(c, 36) >= base:
                break
            end += 1
        run, bad = digits[:end], end < len(digits)
    # Go stops at the first digit that overflows, so an overflow before a bad character
    # is a range error. Past 64 significant digits any base overflows (and int() would
    # refuse a string that long).
    significant = run.lstrip("0")
    if len(significant) > 64 or (significant and int(significant, base) >> bit_size):
        raise NumError(func, num, ERR_RANGE)
    if bad or (underscores and not _underscore_ok(s0)):
        raise NumError(func, num, ERR_SYNTAX)
    return int(significant, base) if significant else 0


def parse_uint(s: str, base: int = 0, bit_size: int = 64) -> int:
    """strconv.ParseUint: base 0 takes the base from the prefix (0x, 0o, 0b, or 0 for
    octal) and allows underscores between digits; no sign."""
    return _parse_uint(s, base, bit_size, "ParseUint", s)


def _parse_int(s: str, base: int, bit_size: int, func: str) -> int:
    if not s:
        raise NumError(func, s, ERR_SYNTAX)
    negative = s[0] == "-"
    body = s[1:] if s[0] in "+-" else s
    try:
        magnitude = _parse_uint(body, base, bit_size, func, s)
    except NumError as exc:
        if exc.err != ERR_RANGE:
            raise
        magnitude = (1 << (bit_size or 64)) - 1  # Go goes on with the largest value
    cutoff = 1 << ((bit_size or 64) - 1)
    if magnitude > cutoff or (magnitude == cutoff and not negative):
        raise NumError(func, s, ERR_RANGE)
    return -magnitude if negative else magnitude


def parse_int(s: str, base: int = 0, bit_size: int = 64) -> int:
    """strconv.ParseInt: an optional sign, then what ParseUint reads; ``bit_size`` 0 is
    Go's int (64 bits)."""
    return _parse_int(s, base, bit_size, "ParseInt")


def atoi(s: str) -> int:
    """strconv.Atoi: ParseInt(s, 10, 0), its errors named Atoi."""
    if s.isascii() and s.isdigit() and len(s) < 19:
        return int(s)  # Go's fast path, and ours
    return _parse_int(s, 10, 0, "Atoi")


_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
          "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}  # fmt: skip


def parse_bool(s: str) -> bool:
    """strconv.ParseBool: 1, t, T, TRUE, true, True and their false counterparts."""
    value = _BOOLS.get(s)
    if value is None:
        raise NumError("ParseBool", s, ERR_SYNTAX)
    return value


# --- floats: ParseFloat -------------------------------------------------------------------

# Go's readFloat: sign, mantissa (digits, underscores, one dot), exponent; a hex mantissa
# needs a 'p' exponent. The mantissa must hold a digit; underscores are checked after.
@functools.cache  # compiled on first use: a one-shot run may parse no float at all
def _float_syntax() -> re.Pattern[str]:
    return re.compile(
        r"[+-]?(?:0[xX](?P<hex>[0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?)[pP][+-]?[0-9][0-9_]*"
        r"|(?P<dec>[0-9_]*(?:\.[0-9_]*)?)(?:[eE][+-]?[0-9][0-9_]*)?)"
    )


_SPECIAL_FLOATS = {"inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "infinity": math.inf,
                   "+infinity": math.inf, "-infinity": -math.inf, "nan": math.nan}  # fmt: skip


def parse_float(s: str) -> float:
    """strconv.ParseFloat(s, 64): Go's decimal and hex literal syntax, inf/infinity and
    nan in any case; overflow is a range error."""
    special = _SPECIAL_FLOATS.get(s.lower()) if len(s) <= 9 and s.isascii() else None
    if special is not None:
        return special
    match = _float_syntax().fullmatch(s)
    if match is None:
        raise NumError("ParseFloat", s, ERR_SYNTAX)
    mantissa = match["dec"] if match["hex"] is None else match["hex"]
    if mantissa.strip("._") == "" or ("_" in s and not _underscore_ok(s)):
        raise NumError("ParseFloat", s, ERR_SYNTAX)
    text = s.replace("_", "")
    try:
        value = float(text) if match["hex"] is None else float.fromhex(text)
    except OverflowError:
        value = math.inf
    if math.isinf(value):
        raise NumError("ParseFloat", s, ERR_RANGE)
    return value


def can_backquote(s: str) -> bool:
    """strconv.CanBackquote: no control characters but tab, no backquote, no BOM."""
    return not any(
        (ch < " " and ch != "\t") or ch in "`\x7f\ufeff" or "\ud800" <= ch <= "\udfff" for ch in s
    )


# --- floats: strconv.FormatFloat --------------------------------------------------------

_MASK64 = (1 << 64) - 1


def _shortest_digits(x: float) -> tuple[str, int]:
    """Shortest round-trip digits of x > 0 and the decimal point position (0.DIGITS * 10^dp).

    Python's repr and Go's Ryu both pick the shortest digits that read back as x.
    """
    mant, _, exp = repr(x).partition("e")
    whole, _, frac = mant.partition(".")
    digits = whole + frac
    dp = len(whole) + (int(exp) if exp else 0)
    stripped = digits.lstrip("0")
    dp -= len(digits) - len(stripped)
    return stripped.rstrip("0"), dp


def _exp_form(digits: str, dp: int, prec: int, e: str) -> str:
    """strconv's %e layout of a digit string: d.ddd e±dd."""
    s = digits[:1] or "0"
    if prec > 0:
        s += "." + digits[1 : prec + 1].ljust(prec, "0")
    exp = dp - 1 if digits else 0
    return f"{s}{e}{'-' if exp < 0 else '+'}{abs(exp):02d}"


def _fixed_form(digits: str, dp: int, prec: int) -> str:
    """strconv's %f layout of a digit string."""
    s = digits[:dp].ljust(dp, "0") if dp > 0 else "0"
    if prec > 0:
        frac = ("0" * -dp + digits) if dp < 0 else digits[dp:]
        s += "." + frac[:prec].ljust(prec, "0")
    return s


def _float_bits(x: float) -> tuple[bool, int, int]:
    """Sign, mantissa with the implicit bit, and unbiased exponent, as strconv sees them."""
    bits = struct.unpack("<Q", struct.pack("<d", x))[0]
    exp = (bits >> 52) & 0x7FF
    mant = bits & ((1 << 52) - 1)
    if exp == 0:
        exp = 1  # subnormal
    else:
        mant |= 1 << 52
    return bits >> 63 == 1, mant, exp - 1023


def _hex_float(x: float, prec: int, verb: str) -> str:
    """%x/%X of a float: -0x1.8p+01, rounding half to even at the requested hex digits."""
    neg, mant, exp = _float_bits(x)
    if mant == 0:
        exp = 0
    mant <<= 8  # leading 1 at bit 60
    while mant and not mant & (1 << 60):
        mant <<= 1
        exp -= 1
    if 0 <= prec < 15:
        shift = prec * 4
        extra = (mant << shift) & ((1 << 60) - 1)
        mant >>= 60 - shift
        if extra | (mant & 1) > 1 << 59:
            mant += 1
        mant <<= 60 - shift
        if mant & (1 << 61):
            mant >>= 1
            exp += 1
    hexdigits = "0123456789ABCDEF" if verb == "X" else "0123456789abcdef"
    s = ("-0" if neg else "0") + verb + str((mant >> 60) & 1)
    mant = (mant << 4) & _MASK64
    frac = ""
    for _ in range(prec if prec >= 0 else 15):  # shortest: until no bits are left
        if prec < 0 and not mant:
            break
        frac += hexdigits[(mant >> 60) & 15]
        mant = (mant << 4) & _MASK64
    if frac:
        s += "." + frac
    p = "P" if verb == "X" else "p"
    return f"{s}{p}{'-' if exp < 0 else '+'}{abs(exp):02d}"


def format_float(x: float, verb: str, prec: int) -> str:
    """strconv.FormatFloat(x, verb, prec, 64); prec -1 means shortest."""
    if x != x:
        return "NaN"
    if x in (math.inf, -math.inf):
        return "+Inf" if x > 0 else "-Inf"
    if verb == "b":
        neg, mant, exp = _float_bits(x)
        return f"{'-' if neg else ''}{mant}p{exp - 52:+d}"
    if verb == "x" or verb == "X":
        return _hex_float(x, prec, verb)
    if prec >= 0:
        # Python's fixed-precision formatting rounds the exact binary value half-to-even,
        # and its e/f/g layouts match strconv's (2-digit exponents, g trims zeros).
        return format(x, f".{prec}{verb}")
    sign = "-" if math.copysign(1.0, x) < 0 else ""
    digits, dp = _shortest_digits(abs(x)) if x else ("", 0)
    if verb == "e" or verb == "E":
        return sign + _exp_form(digits, dp, max(len(digits) - 1, 0), verb)
    if verb == "f":
        return sign + _fixed_form(digits, dp, max(len(digits) - dp, 0))
    # Shortest %g switches to %e below 1e-4 and from 1e+06 on (an exponent of 6 or more).
    if dp - 1 < -4 or dp - 1 >= 6:
        return sign + _exp_form(digits, dp, len(digits) - 1, "e" if verb == "g" else "E")
    return sign + _fixed_form(digits, dp, max(len(digits) - dp, 0))
