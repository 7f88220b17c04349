"""Go's ``json.Marshal`` (Go 1.19) over the values templates hold, for ``toJson``.

What Go does and Python's json module does not: map keys sorted, no spaces, ``<``, ``>``
and ``&`` escaped as ``\\u003c``..., U+2028/U+2029 escaped, bytes that are not UTF-8 as
U+FFFD, floats in ES6 form (``1e+21``, ``1e-7``, ``100``), NaN and infinities refused, a
struct (``KVPair``, ``net.SRV``) as an object of its fields, a ``time.Time`` as its
RFC 3339 text.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from .golang.strconv import format_float
from .gotemplate.values import MISSING, go_type_name

__all__ = ["MarshalError", "marshal"]


class MarshalError(ValueError):
    """A value json.Marshal refuses; ``str()`` is Go's error text."""


_HEX = "0123456789abcdef"
# Go's encodeState.string: what each ASCII byte becomes (HTML-safe, as json.Marshal).
_ASCII: dict[int, str] = {}
for _b in range(0x80):
    _c = chr(_b)
    if _c in "<>&" or _b < 0x20:
        _ASCII[_b] = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(_c, f"\\u00{_HEX[_b >> 4]}{_HEX[_b & 15]}")
    elif _c in '"\\':
        _ASCII[_b] = "\\" + _c
_SPECIAL = frozenset(chr(b) for b in _ASCII) | {"\u2028", "\u2029"}


def _string(s: str) -> str:
    if not _SPECIAL.intersection(s) and s.isascii():
        return f'"{s}"'
    out = ['"']
    for ch in s:
        code = ord(ch)
        if code < 0x80:
            out.append(_ASCII.get(code, ch))
        elif ch in "\u2028\u2029":
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:  # a byte that is not UTF-8 (surrogate escape)
            out.append("\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _float(f: float) -> str:
    if math.isnan(f) or math.isinf(f):
        raise MarshalError(f"json: unsupported value: {format_float(f, 'g', -1)}")
    magnitude = abs(f)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = format_float(f, "e", -1)
        mantissa, _, exponent = text.partition("e")
        if exponent.startswith("-0"):  # Go cleans e-09 up to e-9 (but keeps e+21)
            exponent = "-" + exponent[2:]
        return f"{mantissa}e{exponent}"
    return format_float(f, "f", -1)


def _encode(value: Any, out: list[str], depth: int) -> None:
    if depth > 1000:
        raise MarshalError(f"json: unsupported value: encountered a cycle via {go_type_name(value)}")
    if value is None or value is MISSING:
        out.append("null")
    elif value is True or value is False:
        out.append("true" if value else "false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out, depth + 1)
        out.append("]")
    elif isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise MarshalError(f"json: unsupported type: {go_type_name(value)}")
        out.append("{")
        for i, key in enumerate(sorted(value)):
            if i:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _encode(value[key], out, depth + 1)
        out.append("}")
    elif go_type_name(value) == "time.Time":
        year = int(value.Format("2006"))
        if not 0 <= year <= 9999:
            raise MarshalError("json: error calling MarshalJSON for type time.Time: Time.MarshalJSON: year outside of range [0,9999]")
        out.append(_string(value.Format("2006-01-02T15:04:05.999999999Z07:00")))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        out.append("{")
        for i, field in enumerate(dataclasses.fields(value)):
            if i:
                out.append(",")
            out.append(_string(field.name))
            out.append(":")
            _encode(getattr(value, field.name), out, depth + 1)
        out.append("}")
    else:
        raise MarshalError(f"json: unsupported type: {go_type_name(value)}")


def marshal(value: Any) -> str:
    """``json.Marshal(value)`` as text; MarshalError for what Go refuses."""
    out: list[str] = []
    _encode(value, out, 0)
    return "".join(out)
