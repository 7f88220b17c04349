"""Go's strconv rules that templates depend on: quoting, unquoting and number literals.

Go strings are bytes; ours are ``str``. A byte that is not valid UTF-8 (from a ``\\x80``
escape, say) is kept as a lone surrogate U+DC80..U+DCFF, the ``surrogateescape``
convention, so it is written back out as the same byte.
"""

from __future__ import annotations

import math
import unicodedata

__all__ = [
    "NumError",
    "is_print",
    "parse_float",
    "parse_int",
    "quote",
    "quote_rune",
    "unquote",
    "unquote_char",
]

_LOWER_HEX = "0123456789abcdef"
_SIMPLE_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}
_UNESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


class NumError(ValueError):
    """strconv's syntax error (``invalid syntax``) or range error."""


def is_print(ch: str) -> bool:
    """Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and ASCII space."""
    if ch == " ":
        return True
    if "\udc80" <= ch <= "\udcff":
        return False
    return unicodedata.category(ch)[0] in "LMNPS"


def _escape(ch: str, quote_char: str, ascii_only: bool) -> str:
    if ch == quote_char or ch == "\\":
        return "\\" + ch
    code = ord(ch)
    if "\udc80" <= ch <= "\udcff":  # a raw invalid byte
        byte = code - 0xDC00
        return "\\x" + _LOWER_HEX[byte >> 4] + _LOWER_HEX[byte & 0xF]
    if ascii_only:
        if code < 0x80 and is_print(ch):
            return ch
    elif is_print(ch):
        return ch
    simple = _SIMPLE_ESCAPES.get(ch)
    if simple is not None:
        return simple
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def quote(s: str, *, ascii_only: bool = False) -> str:
    """strconv.Quote (or QuoteToASCII): a double-quoted Go string literal."""
    if s.isascii() and s.isprintable() and '"' not in s and "\\" not in s:
        return '"' + s + '"'
    return '"' + "".join(_escape(ch, '"', ascii_only) for ch in s) + '"'


def quote_rune(code: int, *, ascii_only: bool = False) -> str:
    """strconv.QuoteRune: a single-quoted Go character literal."""
    if code < 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        code = 0xFFFD
    return "'" + _escape(chr(code), "'", ascii_only) + "'"


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
