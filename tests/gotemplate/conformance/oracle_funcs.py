"""The gotmpl-oracle's function map, re-implemented for confpy.gotemplate.

Each function mirrors the Go function the oracle registers (see the oracle's
``main.go``): same name, same parameter types (declared through annotations,
which the engine turns into Go's argument checks), same results, and the same
error texts (a raised exception is the Go function's returned ``error``; the
engine prints ``error calling NAME: <str(exc)>``).

``datetime`` (``time.Now``) is left out: it is not deterministic, so no case
uses it.

Function names follow Go's (camelCase, and ``json`` shadows a Python name
inside this module only). No ``from __future__ import annotations`` here on
purpose: the engine reads the annotations as real types.

The functions that are Go's own (strings.ToUpper, path.Base, strconv.Atoi, int64
arithmetic...) come from ``confpy.golang``, which tests/golang checks against Go itself.
"""

import base64
import json as _json
import math
import operator
import re
from collections.abc import Callable
from typing import Any

from confpy.golang import path as gopath
from confpy.golang import strconv
from confpy.golang.arith import quo, rem, wrap64
from confpy.golang.strconv import quote
from confpy.golang.strings import go_bytes, to_lower, to_upper
from confpy.gotemplate.values import MISSING, IntList, StringList, go_type_name

__all__ = ["ORACLE_FUNCS", "GoError"]

class GoError(Exception):
    """An ``error`` value returned by a Go function; ``str()`` is its ``Error()``."""


# --- helpers -------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    """``%T`` of a value handed to an ``interface{}`` parameter."""
    # A missing value reaches an interface{} parameter as a nil interface.
    if value is MISSING:
        return "<nil>"
    return go_type_name(value)


def _go_string(b: bytes) -> str:
    """A Go string from bytes; invalid UTF-8 becomes U+FFFD per byte, the way Go's
    JSON encoder (and so the recorded outputs) shows such strings."""
    out: list[str] = []
    while b:
        try:
            out.append(b.decode("utf-8"))
            break
        except UnicodeDecodeError as exc:
            out.append(b[: exc.start].decode("utf-8"))
            out.append("\ufffd" * (exc.end - exc.start))
            b = b[exc.end :]
    return "".join(out)




def _to_strings(value: Any) -> list[str]:
    """The oracle's toStrings: a []string, or a []interface{} of strings only."""
    kind = _type_name(value)
    if kind == "[]string":
        return list(value)
    if kind == "[]interface {}":
        for i, elem in enumerate(value):
            if not isinstance(elem, str):
                raise GoError(f"element {i} is {_type_name(elem)}, not string")
        return list(value)
    raise GoError(f"want a list of strings, got {kind}")


# --- strings and paths ---------------------------------------------------------------


def split(s: str, sep: str) -> StringList:
    """strings.Split; an empty separator splits after each UTF-8 sequence."""
    if sep == "":
        return StringList(list(s))
    return StringList(s.split(sep))


def join(lst: Any, sep: str) -> str:
    """The oracle's join: strings.Join over a []string or []interface{} of strings."""
    return sep.join(_to_strings(lst))


def replace(s: str, old: str, new: str, n: int) -> str:
    """strings.Replace; n < 0 replaces every match."""
    if old == new or n == 0:
        return s
    return s.replace(old, new, n if n > 0 else -1)


def contains(s: str, substr: str) -> bool:
    """strings.Contains"""
    return substr in s


def trimSuffix(s: str, suffix: str) -> str:
    """strings.TrimSuffix"""
    return s.removesuffix(suffix)


# --- integers ------------------------------------------------------------------------


def _wrapping(op: Callable[[int, int], int]) -> Callable[[int, int], int]:
    """The oracle's a + b, a - b, a * b: Go int arithmetic, wrapping."""

    def apply(a: int, b: int) -> int:
        return wrap64(op(a, b))

    return apply


def div(a: int, b: int) -> int:
    """a / b; dividing by zero is an error"""
    if b == 0:
        raise GoError("integer divide by zero")
    return wrap64(quo(a, b))


def mod(a: int, b: int) -> int:
    """a % b (sign follows a); modulo zero is an error"""
    if b == 0:
        raise GoError("integer divide by zero")
    return rem(a, b)


def seq(first: int, last: int) -> IntList:
    """The ints first..last inclusive (empty when last < first)"""
    return IntList(range(first, last + 1))


# --- JSON ----------------------------------------------------------------------------

_JSON_SPACE = b" \t\r\n"
_HEX = b"0123456789abcdefABCDEF"


def _json_quote_char(c: int) -> str:
    """encoding/json's quoteChar: the byte shown as a Go character literal."""
    if c == 0x27:
        return "'\\''"
    if c == 0x22:
        return "'\"'"
    # Go converts the byte to a rune, so 0xC3 shows as 'Ã'.
    return "'" + quote(chr(c))[1:-1] + "'"


class _JSONScanner:
    """A port of encoding/json's validating scanner, for its exact error texts."""

    def __init__(self) -> None:
        self.step: Callable[[int], None] = self.begin_value
        self.stack: list[str] = []  # "key" | "value" | "array"
        self.end_top = False
        self.err: str | None = None

    def fail(self, c: int, context: str) -> None:
        self.step = self.error_state
        self.err = f"invalid character {_json_quote_char(c)} {context}"

    def error_state(self, c: int) -> None:
        pass

    def check(self, data: bytes) -> str | None:
        for c in data:
            self.step(c)
            if self.err is not None:
                return self.err
        if self.end_top:
            return None
        self.step(0x20)
        if self.end_top:
            return None
        return self.err or "unexpected end of JSON input"

    def push(self, c: int, state: str) -> None:
        self.stack.append(state)
        if len(self.stack) > 10000:
            self.fail(c, "exceeded max depth")

    def pop(self) -> None:
        self.stack.pop()
        if not self.stack:
            self.step = self.end_top_state
            self.end_top = True
        else:
            self.step = self.end_value

    def begin_value_or_empty(self, c: int) -> None:
        if c in _JSON_SPACE:
            return
        if c == 0x5D:  # ]
            self.end_value(c)
            return
        self.begin_value(c)

    def begin_value(self, c: int) -> None:
        if c in _JSON_SPACE:
            return
        if c == 0x7B:  # {
            self.step = self.begin_string_or_empty
            self.push(c, "key")
        elif c == 0x5B:  # [
            self.step = self.begin_value_or_empty
            self.push(c, "array")
        elif c == 0x22:
            self.step = self.in_string
        elif c == 0x2D:  # -
            self.step = self.neg
        elif c == 0x30:
            self.step = self.zero
        elif c == 0x74:
            self.step = self._literal("true", 1)
        elif c == 0x66:
            self.step = self._literal("false", 1)
        elif c == 0x6E:
            self.step = self._literal("null", 1)
        elif 0x31 <= c <= 0x39:
            self.step = self.one
        else:
            self.fail(c, "looking for beginning of value")

    def begin_string_or_empty(self, c: int) -> None:
        if c in _JSON_SPACE:
            return
        if c == 0x7D:  # }
            self.stack[-1] = "value"
            self.end_value(c)
            return
        self.begin_string(c)

    def begin_string(self, c: int) -> None:
        if c in _JSON_SPACE:
            return
        if c == 0x22:
            self.step = self.in_string
            return
        self.fail(c, "looking for beginning of object key string")

    def end_value(self, c: int) -> None:
        if not self.stack:
            self.step = self.end_top_state
            self.end_top = True
            self.end_top_state(c)
            return
        if c in _JSON_SPACE:
            self.step = self.end_value
            return
        state = self.stack[-1]
        if state == "key":
            if c == 0x3A:  # :
                self.stack[-1] = "value"
                self.step = self.begin_value
                return
            self.fail(c, "after object key")
        elif state == "value":
            if c == 0x2C:  # ,
                self.stack[-1] = "key"
                self.step = self.begin_string
                return
            if c == 0x7D:
                self.pop()
                return
            self.fail(c, "after object key:value pair")
        else:
            if c == 0x2C:
                self.step = self.begin_value
                return
            if c == 0x5D:
                self.pop()
                return
            self.fail(c, "after array element")

    def end_top_state(self, c: int) -> None:
        if c not in _JSON_SPACE:
            self.fail(c, "after top-level value")

    def in_string(self, c: int) -> None:
        if c == 0x22:
            self.step = self.end_value
        elif c == 0x5C:
            self.step = self.in_string_esc
        elif c < 0x20:
            self.fail(c, "in string literal")

    def in_string_esc(self, c: int) -> None:
        if c in b'bfnrt\\/"':
            self.step = self.in_string
        elif c == 0x75:  # u
            self.step = self._esc_u(4)
        else:
            self.fail(c, "in string escape code")

    def _esc_u(self, left: int) -> Callable[[int], None]:
        def step(c: int) -> None:
            if c in _HEX:
                self.step = self.in_string if left == 1 else self._esc_u(left - 1)
            else:
                self.fail(c, "in \\u hexadecimal character escape")

        return step

    def neg(self, c: int) -> None:
        if c == 0x30:
            self.step = self.zero
        elif 0x31 <= c <= 0x39:
            self.step = self.one
        else:
            self.fail(c, "in numeric literal")

    def one(self, c: int) -> None:
        if 0x30 <= c <= 0x39:
            return
        self.zero(c)

    def zero(self, c: int) -> None:
        if c == 0x2E:  # .
            self.step = self.dot
        elif c in b"eE":
            self.step = self.exp
        else:
            self.end_value(c)

    def dot(self, c: int) -> None:
        if 0x30 <= c <= 0x39:
            self.step = self.dot0
        else:
            self.fail(c, "after decimal point in numeric literal")

    def dot0(self, c: int) -> None:
        if 0x30 <= c <= 0x39:
            return
        if c in b"eE":
            self.step = self.exp
        else:
            self.end_value(c)

    def exp(self, c: int) -> None:
        if c in b"+-":
            self.step = self.exp_sign
            return
        self.exp_sign(c)

    def exp_sign(self, c: int) -> None:
        if 0x30 <= c <= 0x39:
            self.step = self.exp0
        else:
            self.fail(c, "in exponent of numeric literal")

    def exp0(self, c: int) -> None:
        if 0x30 <= c <= 0x39:
            return
        self.end_value(c)

    def _literal(self, word: str, pos: int) -> Callable[[int], None]:
        def step(c: int) -> None:
            want = word[pos]
            if c == ord(want):
                self.step = self.end_value if pos + 1 == len(word) else self._literal(word, pos + 1)
            else:
                self.fail(c, f"in literal {word} (expecting {want!r})")

        return step


_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_decode(s: str, target: str) -> Any:
    """json.Unmarshal into a map[string]interface{} ("object") or []interface{}."""
    data = go_bytes(s)
    err = _JSONScanner().check(data)
    if err is not None:
        raise GoError(err)
    text = _go_string(data)
    overflow: list[str] = []

    def parse_number(literal: str) -> float:
        # Go decodes every number into an interface{} as float64.
        value = float(literal)
        if math.isinf(value) and not overflow:
            overflow.append(literal)
        return value

    value = _json.loads(text, parse_int=parse_number, parse_float=parse_number)
    go_type = "map[string]interface {}" if target == "object" else "[]interface {}"
    if value is None:  # null leaves the Go map/slice nil: no error
        return {} if target == "object" else []
    kind = {dict: "object", list: "array", str: "string", bool: "bool"}.get(type(value), "number")
    if kind != target:
        raise GoError(f"json: cannot unmarshal {kind} into Go value of type {go_type}")
    if overflow:
        raise GoError(f"json: cannot unmarshal number {overflow[0]} into Go value of type float64")
    return _fix_surrogates(value)


def _fix_surrogates(value: Any) -> Any:
    # Go turns an unpaired \ud800-style escape into U+FFFD; Python keeps it.
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_fix_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_fix_surrogates(k): _fix_surrogates(v) for k, v in value.items()}
    return value


def json(s: str) -> dict:
    """Decode a JSON object (numbers are float64, as Go's json.Unmarshal gives)."""
    return _json_decode(s, "object")


def jsonArray(s: str) -> list:
    """Decode a JSON array (numbers are float64)."""
    return _json_decode(s, "array")


# --- base64 --------------------------------------------------------------------------

_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_DECODE = {c: i for i, c in enumerate(_B64_ALPHABET)}


def base64Encode(s: str) -> str:
    """base64.StdEncoding.EncodeToString"""
    return base64.b64encode(go_bytes(s)).decode("ascii")


def base64Decode(s: str) -> str:
    """base64.StdEncoding.DecodeString: a port of Go's decodeQuantum loop, so the
    "illegal base64 data at input byte N" offsets match."""
    src = go_bytes(s)
    out = bytearray()
    si = 0
    n = len(src)

    def corrupt(at: int) -> GoError:
        return GoError(f"illegal base64 data at input byte {at}")

    while si < n:
        dbuf = [0, 0, 0, 0]
        dlen = 4
        j = 0
        while j < 4:
            if si == n:
                if j == 0:
                    return _go_string(bytes(out))
                # j == 1, or padding required (StdEncoding pads)
                raise corrupt(si - j)
            c = src[si]
            si += 1
            if c in _B64_DECODE:
                dbuf[j] = _B64_DECODE[c]
                j += 1
                continue
            if c in (0x0A, 0x0D):  # newlines are ignored
                continue
            if c != 0x3D:  # not '='
                raise corrupt(si - 1)
            # Padding: only after 2 or 3 data bytes.
            if j in (0, 1):
                raise corrupt(si - 1)
            if j == 2:
                # "==" expected; the first '=' is consumed, skip newlines
                while si < n and src[si] in (0x0A, 0x0D):
                    si += 1
                if si == n:
                    raise corrupt(n)
                if src[si] != 0x3D:
                    raise corrupt(si - 1)
                si += 1
            while si < n and src[si] in (0x0A, 0x0D):
                si += 1
            if si < n:
                raise corrupt(si)  # trailing garbage
            dlen = j
            break
        val = dbuf[0] << 18 | dbuf[1] << 12 | dbuf[2] << 6 | dbuf[3]
        out.extend(val.to_bytes(3, "big")[: dlen - 1])
    return _go_string(bytes(out))


# --- lists ---------------------------------------------------------------------------


def reverse(value: Any) -> Any:
    """Reversed copy of a []string or []interface{}."""
    kind = _type_name(value)
    if kind == "[]string":
        return StringList(reversed(value))
    if kind == "[]interface {}":
        return list(reversed(value))
    raise GoError(f"reverse: want []string or []interface{{}}, got {kind}")


def sortByLength(value: Any) -> StringList:
    """Strings sorted by byte length; ties keep their input order."""
    try:
        strings = _to_strings(value)
    except GoError as exc:
        raise GoError(f"sortByLength: {exc}") from None
    return StringList(sorted(strings, key=lambda s: len(go_bytes(s))))


ORACLE_FUNCS: dict[str, Callable[..., Any]] = {
    "toUpper": to_upper,
    "toLower": to_lower,
    "split": split,
    "join": join,
    "replace": replace,
    "contains": contains,
    "trimSuffix": trimSuffix,
    "base": gopath.base,
    "dir": gopath.dir,
    "add": _wrapping(operator.add),
    "sub": _wrapping(operator.sub),
    "mul": _wrapping(operator.mul),
    "div": div,
    "mod": mod,
    "seq": seq,
    "atoi": strconv.atoi,
    "parseBool": strconv.parse_bool,
    "json": json,
    "jsonArray": jsonArray,
    "base64Encode": base64Encode,
    "base64Decode": base64Decode,
    "reverse": reverse,
    "sortByLength": sortByLength,
}
