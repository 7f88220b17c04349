"""Go's strconv rules that templates depend on: quoting, unquoting and number literals.

Go strings are bytes; ours are ``str``. A byte that is not valid UTF-8 (from a ``\\x80``
escape, say) is kept as a lone surrogate U+DC80..U+DCFF, the ``surrogateescape``
convention, so it is written back out as the same byte.
"""

from __future__ import annotations

import math
import struct
from bisect import bisect_right

__all__ = [
    "NumError",
    "can_backquote",
    "format_float",
    "is_print",
    "parse_float",
    "parse_int",
    "quote",
    "quote_rune",
    "quote_with",
    "unquote",
    "unquote_char",
]

_UNESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


class NumError(ValueError):
    """strconv's syntax error (``invalid syntax``) or range error."""


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

    Returns (the decoded character, the rest). Raises NumError on bad syntax.
    """
    if not s:
        raise NumError("invalid syntax")
    c = s[0]
    if c == quote_char and quote_char in "'\"":
        raise NumError("invalid syntax")
    if c != "\\":
        return c, s[1:]
    if len(s) <= 1:
        raise NumError("invalid syntax")
    c, s = s[1], s[2:]
    simple = _UNESCAPES.get(c)
    if simple is not None:
        return simple, s
    if c in "xuU":
        n = {"x": 2, "u": 4, "U": 8}[c]
        digits = s[:n]
        if len(digits) < n or any(d not in "0123456789abcdefABCDEF" for d in digits):
            raise NumError("invalid syntax")
        value = int(digits, 16)
        if c == "x":
            return _byte_char(value), s[n:]
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise NumError("invalid syntax")
        return chr(value), s[n:]
    if "0" <= c <= "7":
        digits = c + s[:2]
        if len(digits) < 3 or any(d not in "01234567" for d in digits):
            raise NumError("invalid syntax")
        value = int(digits, 8)
        if value > 255:
            raise NumError("invalid syntax")
        return _byte_char(value), s[2:]
    if c in "'\"":
        if c != quote_char:
            raise NumError("invalid syntax")
        return c, s
    raise NumError("invalid syntax")


def _byte_char(value: int) -> str:
    """A single byte from an escape: ASCII as is, a high byte as a surrogate escape."""
    return chr(value) if value < 0x80 else chr(0xDC00 + value)


def unquote(s: str) -> str:
    """strconv.Unquote for a "..." or `...` literal."""
    if len(s) < 2 or s[0] != s[-1] or s[0] not in "\"`'":
        raise NumError("invalid syntax")
    quote_char, body = s[0], s[1:-1]
    if quote_char == "`":
        if "`" in body:
            raise NumError("invalid syntax")
        return body.replace("\r", "")
    if "\\" not in body and "\n" not in body and quote_char not in body:
        if quote_char == "'" and len(body) != 1:
            raise NumError("invalid syntax")
        return body
    out: list[str] = []
    rest = body
    while rest:
        if rest[0] == "\n":
            raise NumError("invalid syntax")
        ch, rest = unquote_char(rest, quote_char)
        out.append(ch)
        if quote_char == "'" and rest:
            raise NumError("invalid syntax")
    return "".join(out)


def _underscore_ok(s: str) -> bool:
    """Underscores may only sit between digits, or between a base prefix and a digit."""
    saw = "^"
    i = 0
    if s[:1] in ("+", "-"):
        s = s[1:]
    is_hex = False
    if len(s) >= 2 and s[0] == "0" and s[1] in "bBoOxX":
        i = 2
        saw = "0"
        is_hex = s[1] in "xX"
    while i < len(s):
        c = s[i]
        if c.isdigit() or (is_hex and c in "abcdefABCDEF"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
        i += 1
    return saw != "_"


def parse_int(text: str, bits: int = 64, *, unsigned: bool = False) -> int:
    """strconv.ParseInt / ParseUint with base 0 (the literal's prefix picks the base)."""
    s = text
    negative = False
    if not unsigned and s[:1] in ("+", "-"):
        negative = s[0] == "-"
        s = s[1:]
    if not s:
        raise NumError("invalid syntax")
    base = 10
    body = s
    if s[0] == "0" and len(s) > 1:
        prefix = s[1].lower()
        if prefix in "xob":
            base = {"x": 16, "o": 8, "b": 2}[prefix]
            body = s[2:]
        else:
            base = 8
            body = s[1:]
    if "_" in body or "_" in s:
        if not _underscore_ok(text):
            raise NumError("invalid syntax")
        body = body.replace("_", "")
    if not body or not all(c in "0123456789abcdefABCDEF"[: base + (6 if base == 16 else 0)] for c in body):
        raise NumError("invalid syntax")
    value = int(body, base)
    if negative:
        value = -value
    if unsigned:
        if value >= 1 << bits:
            raise NumError("value out of range")
    elif not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
        raise NumError("value out of range")
    return value


def parse_float(text: str) -> float:
    """strconv.ParseFloat(text, 64) for Go literal syntax (decimal or hex, underscores)."""
    s = text
    if "_" in s:
        if not _underscore_ok(s):
            raise NumError("invalid syntax")
        s = s.replace("_", "")
    body = s.lstrip("+-")
    if len(s) - len(body) > 1 or not body:
        raise NumError("invalid syntax")
    lower = body.lower()
    if lower in ("inf", "infinity", "nan"):
        value = float(s)
    elif lower.startswith("0x"):
        if "p" not in lower:
            raise NumError("invalid syntax")  # a hex mantissa needs a 'p' exponent
        try:
            value = float.fromhex(s)
        except (ValueError, OverflowError) as exc:
            raise NumError("invalid syntax") from exc
    else:
        if not all(c in "0123456789.eE+-" for c in body) or body[0] in "eE":
            raise NumError("invalid syntax")
        try:
            value = float(s)
        except ValueError as exc:
            raise NumError("invalid syntax") from exc
    if math.isinf(value) and lower not in ("inf", "infinity"):
        raise NumError("value out of range")
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
