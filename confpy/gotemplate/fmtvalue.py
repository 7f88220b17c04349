"""Printing one operand under one verb, as Go's fmt does (Go 1.19).

This is Go's fmt/format.go plus the printArg/printValue half of fmt/print.go: padding,
booleans, integers and runes, floats and complex numbers, strings and bytes, pointers,
Error()/String() methods, maps, slices and structs, and the dispatch on a value's kind.
``print_arg`` takes a verb and its ``Flags`` already parsed; format strings, argument
indexes and ``*`` widths are :mod:`confpy.gotemplate.gofmt`'s, which keeps the public API.
The split follows Go's own and keeps both modules short. ``sorted_items`` (Go's
internal/fmtsort) lives here because map printing needs it; ``range`` uses it too.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..golang.strconv import can_backquote, format_float, is_print, quote_with
from .values import MISSING, go_type_name, is_struct, struct_fields

__all__ = ["PLAIN", "Flags", "float_v", "print_arg", "sorted_items"]

_MASK64 = (1 << 64) - 1
_MAX_RUNE = 0x10FFFF


class Flags(NamedTuple):
    """The flags, width and precision of one verb (Go's ``fmtFlags`` plus wid/prec).

    ``wid`` 0 means no width, ``prec`` -1 no precision. For %v, Go moves the + and # flags
    to ``plus_v`` (field names) and ``sharp_v`` (Go syntax).
    """

    plus: bool = False
    minus: bool = False
    sharp: bool = False
    space: bool = False
    zero: bool = False
    wid: int = 0
    prec: int = -1
    plus_v: bool = False
    sharp_v: bool = False


PLAIN = Flags()


# --- padding -----------------------------------------------------------------------------


def _pad(s: str, f: Flags) -> str:
    """Pad to the width in runes; zeros (the 0 flag) go on the left like spaces."""
    n = f.wid - len(s)
    if n <= 0:
        return s
    fill = ("0" if f.zero else " ") * n
    return s + fill if f.minus else fill + s


def _pad_spaces(s: str, f: Flags) -> str:
    """Pad with spaces whatever the 0 flag says (numbers did their zero padding already)."""
    n = f.wid - len(s)
    if n <= 0:
        return s
    return s + " " * n if f.minus else " " * n + s


# --- errors and nil ----------------------------------------------------------------------


def _bad_verb(verb: str, value: Any, f: Flags) -> str:
    """``%!verb(type=value)``: the value printed with %v and the current flags."""
    if value is None or value is MISSING:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({go_type_name(value)}={_print_value(value, 'v', f, 0, False)})"


# --- booleans and integers ---------------------------------------------------------------


def _fmt_bool(v: bool, verb: str, f: Flags) -> str:
    if verb == "t" or verb == "v":
        return _pad("true" if v else "false", f)
    return _bad_verb(verb, v, f)


def _fmt_integer(u: int, base: int, verb: str, upper: bool, f: Flags) -> str:
    """One integer in a base, with precision/zero padding, # prefixes and sign flags."""
    negative = u < 0
    if negative:
        u = -u
    prec = f.prec
    if prec >= 0:
        if prec == 0 and u == 0:  # "%.0d" of 0 prints nothing but the padding
            return " " * f.wid
    elif f.zero and f.wid:
        # %05d pads with zeros after the sign: the zeros act as a precision.
        prec = f.wid - 1 if (negative or f.plus or f.space) else f.wid
    if base == 10:
        s = str(u)
    elif base == 16:
        s = format(u, "X" if upper else "x")
    else:
        s = format(u, "o" if base == 8 else "b")
    if len(s) < prec:
        s = "0" * (prec - len(s)) + s
    if f.sharp:
        if base == 16:
            s = ("0X" if upper else "0x") + s
        elif base == 2:
            s = "0b" + s
        elif base == 8 and s[0] != "0":
            s = "0" + s
    if verb == "O":
        s = "0o" + s
    if negative:
        s = "-" + s
    elif f.plus:
        s = "+" + s
    elif f.space:
        s = " " + s
    return _pad_spaces(s, f)


def _rune(c: int) -> str:
    """The character for %c/%q: invalid code points and surrogates become U+FFFD."""
    c &= _MASK64
    if c > _MAX_RUNE or 0xD800 <= c <= 0xDFFF:
        return "\ufffd"
    return chr(c)


def _fmt_unicode(u: int, f: Flags) -> str:
    """%U: ``U+0041``, and with # ``U+0041 'A'`` for printable runes."""
    u &= _MASK64
    s = "U+" + format(u, "X").rjust(f.prec if f.prec > 4 else 4, "0")
    if f.sharp and u <= _MAX_RUNE and is_print(chr(u)):
        s += " '" + chr(u) + "'"
    return _pad_spaces(s, f)


def _fmt_int(v: int, verb: str, f: Flags, unsigned: bool = False) -> str:
    """Go's pp.fmtInteger: dispatch an integer on its verb."""
    if verb == "d":
        return _fmt_integer(v, 10, verb, False, f)
    if verb == "v":
        if f.sharp_v and unsigned:  # %#v of a byte: 0x1
            return _fmt_integer(v, 16, verb, False, f._replace(sharp=True))
        return _fmt_integer(v, 10, verb, False, f)
    if verb == "x" or verb == "X":
        return _fmt_integer(v, 16, verb, verb == "X", f)
    if verb == "o" or verb == "O":
        return _fmt_integer(v, 8, verb, False, f)
    if verb == "b":
        return _fmt_integer(v, 2, verb, False, f)
    if verb == "c":
        return _pad(_rune(v), f)
    if verb == "q":
        return _pad(quote_with(_rune(v), "'", f.plus), f)
    if verb == "U":
        return _fmt_unicode(v, f)
    return _bad_verb(verb, v, f)


# --- floats and complex numbers ----------------------------------------------------------


def _sharpen(num: str, verb: str, prec: int) -> str:
    """The # flag on floats: keep a decimal point and (for %g/%x) the trailing zeros."""
    digits = (6 if prec < 0 else prec) if verb in "gGx" else 0
    tail = ""
    has_point = False
    seen_nonzero = False
    for i in range(1, len(num)):
        c = num[i]
        if c == ".":
            has_point = True
        elif c in "pP" or (c in "eE" and verb not in "xX"):
            num, tail = num[:i], num[i:]
            break
        else:
            seen_nonzero = seen_nonzero or c != "0"
            if seen_nonzero:
                digits -= 1
    if not has_point:
        if num[1:] == "0":  # a lone 0 counts as one significant digit
            digits -= 1
        num += "."
    if digits > 0:
        num += "0" * digits
    return num + tail


def _fmt_float(x: float, verb: str, prec: int, f: Flags) -> str:
    """Go's fmt.fmtFloat: signs, # handling and zero padding around strconv's text."""
    if f.prec >= 0:
        prec = f.prec
    num = format_float(x, verb, prec)
    if num[0] != "-" and num[0] != "+":
        num = "+" + num
    if f.space and num[0] == "+" and not f.plus:
        num = " " + num[1:]
    if num[1] == "I" or num[1] == "N":
        # Infinities and NaN are not numbers to pad with zeros; NaN drops its sign.
        if num[1] == "N" and not f.space and not f.plus:
            num = num[1:]
        return _pad_spaces(num, f)
    if f.sharp and verb != "b":
        num = _sharpen(num, verb, prec)
    if f.plus or num[0] != "+":
        if f.zero and f.wid > len(num):  # sign first, then the zeros
            return num[0] + "0" * (f.wid - len(num)) + num[1:]
        return _pad(num, f)
    return _pad(num[1:], f)


def float_v(x: float) -> str:
    """%v of a float with no flags: the shortest %g."""
    r = repr(x)
    ax = abs(x)
    if "e" not in r and (1e-4 <= ax < 1e6 or x == 0):
        return r[:-2] if r.endswith(".0") else r
    return format_float(x, "g", -1)  # "+Inf" keeps its sign under %v, as in Go


def _fmt_float_verb(x: float, verb: str, f: Flags) -> str:
    """Go's pp.fmtFloat: the default precision of each float verb."""
    if verb == "v":
        if f is PLAIN:
            return float_v(x)
        return _fmt_float(x, "g", -1, f)
    if verb in "bgGxX":
        return _fmt_float(x, verb, -1, f)
    if verb in "feE":
        return _fmt_float(x, verb, 6, f)
    if verb == "F":
        return _fmt_float(x, "f", 6, f)
    return _bad_verb(verb, x, f)


def _fmt_complex(c: complex, verb: str, f: Flags) -> str:
    """(r+ii): both parts formatted like floats, the imaginary one always signed."""
    if verb not in "vbgGxXfFeE":
        return _bad_verb(verb, c, f)
    imag = _fmt_float_verb(c.imag, verb, f._replace(plus=True))
    return "(" + _fmt_float_verb(c.real, verb, f) + imag + "i)"


# --- strings and bytes -------------------------------------------------------------------

def _fmt_q(s: str, f: Flags) -> str:
    """%q of a string: Go-quoted, ASCII-only with +, backquoted with # when possible."""
    if f.prec >= 0:
        s = s[: f.prec]
    if f.sharp and can_backquote(s):
        return _pad("`" + s + "`", f)
    return _pad(quote_with(s, '"', f.plus), f)


def _fmt_hex_bytes(b: bytes, upper: bool, f: Flags) -> str:
    """%x/%X of a string or byte slice; space separates bytes, # adds 0x (to each with space)."""
    if 0 <= f.prec < len(b):
        b = b[: f.prec]
    if not b:
        return ("0" if f.zero else " ") * f.wid
    h = b.hex().upper() if upper else b.hex()
    prefix = ("0X" if upper else "0x") if f.sharp else ""
    if f.space:
        return _pad(" ".join(prefix + h[i : i + 2] for i in range(0, len(h), 2)), f)
    return _pad(prefix + h, f)


def _fmt_string(s: str, verb: str, f: Flags) -> str:
    """Go's pp.fmtString."""
    if verb == "s" or (verb == "v" and not f.sharp_v):
        if f.prec >= 0:
            s = s[: f.prec]
        return _pad(s, f) if f.wid else s
    if verb == "q" or verb == "v":
        return _fmt_q(s, f)
    if verb == "x" or verb == "X":
        return _fmt_hex_bytes(s.encode("utf-8", "surrogateescape"), verb == "X", f)
    return _bad_verb(verb, s, f)


def _fmt_bytes(b: bytes, verb: str, f: Flags, type_name: str) -> str:
    """Go's pp.fmtBytes: a []byte is a string for %s %q %x %X and a list of bytes otherwise."""
    if verb == "s":
        s = b.decode("utf-8", "replace")
        return _pad(s[: f.prec] if f.prec >= 0 else s, f)
    if verb == "q":
        return _fmt_q(b.decode("utf-8", "surrogateescape"), f)
    if verb == "x" or verb == "X":
        return _fmt_hex_bytes(b, verb == "X", f)
    if f.sharp_v and (verb == "v" or verb == "d"):
        sharp = f._replace(sharp=True)
        inner = ", ".join(_fmt_integer(c, 16, "v", False, sharp) for c in b)
        return type_name + "{" + inner + "}"
    return "[" + " ".join(_fmt_int(c, verb, f, True) for c in b) + "]"


# --- pointers ----------------------------------------------------------------------------


def _is_pointer_like(v: Any) -> bool:
    """Values that Go would hold by reference: slices, maps and functions."""
    return isinstance(v, (list, tuple, dict, bytes, bytearray)) or (
        callable(v) and not is_struct(v)
    )


def _fmt_pointer(v: Any, verb: str, f: Flags) -> str:
    """%p and %v of reference values. The address is the Python id: only approximate."""
    if not _is_pointer_like(v):
        return _bad_verb(verb, v, f)
    addr = id(v)
    if verb == "v" and f.sharp_v:
        return f"({go_type_name(v)})(0x{addr:x})"
    if verb == "v" or verb == "p":
        return _fmt_integer(addr, 16, "v", False, f._replace(sharp=not f.sharp))
    if verb in "bodxX":
        return _fmt_int(addr, verb, f, True)
    return _bad_verb(verb, v, f)


# --- methods, composites and dispatch ----------------------------------------------------


def _handle_methods(v: Any, verb: str, f: Flags) -> str | None:
    """Print through Error()/String() (GoString() for %#v) when the value has them."""
    if f.sharp_v:
        method = getattr(v, "GoString", None)
        name = "GoString"
        if not callable(method):
            return None
    elif verb in "vsxXq":
        if isinstance(v, BaseException):
            method, name = v.__str__, "Error"
        elif callable(getattr(v, "Error", None)):
            method, name = v.Error, "Error"
        elif callable(getattr(v, "String", None)):
            method, name = v.String, "String"
        else:
            return None
    else:
        return None
    try:
        s = method()
    except Exception as exc:  # Go recovers the panic and reports it in place
        return f"%!{verb}(PANIC={name} method: {print_arg(exc, 'v', PLAIN)})"
    if name == "GoString":
        return _pad(s[: f.prec] if f.prec >= 0 else s, f)
    return _fmt_string(s, verb, f)


def _sort_key(k: Any) -> tuple[Any, ...]:
    """internal/fmtsort order: numbers by value (NaN first), strings bytewise, false<true.

    Keys of different types (only in interface-keyed maps) are grouped by type name.
    """
    if isinstance(k, float):
        return ("float64", 0, 0.0) if k != k else ("float64", 1, k)
    if isinstance(k, complex):
        return ("complex128", 1, k.real, k.imag)
    if isinstance(k, tuple):
        return ("array", tuple(_sort_key(e) for e in k))
    if k is None or k is MISSING:
        return ("",)
    return (go_type_name(k), k)


def sorted_items(d: dict[Any, Any]) -> list[tuple[Any, Any]]:
    """A map's entries in Go's order (internal/fmtsort), for printing and for range."""
    if all(type(k) is str for k in d):
        return sorted(d.items(), key=lambda kv: kv[0])
    try:
        return sorted(d.items(), key=lambda kv: _sort_key(kv[0]))
    except TypeError:  # keys Python cannot order (structs): keep insertion order
        return list(d.items())


def _fields(v: Any) -> list[tuple[str, Any]]:
    if is_struct(v):
        return struct_fields(v)
    attrs = getattr(v, "__dict__", {})
    return [(k, a) for k, a in attrs.items() if not k.startswith("_")]


def _print_value(v: Any, verb: str, f: Flags, depth: int, methods: bool) -> str:
    """Go's printValue: print a value found inside another (depth > 0) or after reflection.

    ``methods`` is False while an error form is being printed (Go's ``erroring``), so that
    String() is not consulted again.
    """
    cls = v.__class__
    if cls is str:
        return _fmt_string(v, verb, f)
    if cls is int:
        return _fmt_int(v, verb, f)
    if cls is float:
        return _fmt_float_verb(v, verb, f)
    if depth > 0 and methods and v is not None and v is not MISSING:
        handled = _handle_methods(v, verb, f)
        if handled is not None:
            return handled
    if v is None or v is MISSING:  # a nil interface inside a slice, map or struct
        return "interface {}(nil)" if f.sharp_v else "<nil>"
    if isinstance(v, bool):
        return _fmt_bool(v, verb, f)
    if isinstance(v, int):
        return _fmt_int(v, verb, f)
    if isinstance(v, float):
        return _fmt_float_verb(v, verb, f)
    if isinstance(v, str):
        return _fmt_string(v, verb, f)
    if isinstance(v, complex):
        return _fmt_complex(v, verb, f)
    if isinstance(v, (bytes, bytearray)):
        return _fmt_bytes(bytes(v), verb, f, "[]uint8")
    depth += 1
    if isinstance(v, dict):
        inner = (", " if f.sharp_v else " ").join(
            _print_value(k, verb, f, depth, methods) + ":" + _print_value(e, verb, f, depth, methods)
            for k, e in sorted_items(v)
        )
        return (go_type_name(v) + "{" + inner + "}") if f.sharp_v else "map[" + inner + "]"
    if isinstance(v, (list, tuple)):
        if f.sharp_v:
            inner = ", ".join(_print_value(e, verb, f, depth, methods) for e in v)
            return go_type_name(v) + "{" + inner + "}"
        return "[" + " ".join(_print_value(e, verb, f, depth, methods) for e in v) + "]"
    if isinstance(v, BaseException):  # what errors.New returns: &errors.errorString{s}
        return "&" + _fmt_struct("errors.errorString", [("s", str(v))], verb, f, depth, methods)
    if _is_pointer_like(v):
        return _fmt_pointer(v, verb, f)
    return _fmt_struct(go_type_name(v), _fields(v), verb, f, depth, methods)


def _fmt_struct(type_name: str, fields: list[tuple[str, Any]], verb: str, f: Flags, depth: int,
                methods: bool) -> str:
    """{a b}; {Key:a Value:b} with %+v; main.T{Key:"a", Value:"b"} with %#v."""
    names = f.plus_v or f.sharp_v
    parts = [
        (name + ":" if names else "") + _print_value(field, verb, f, depth, methods)
        for name, field in fields
    ]
    if f.sharp_v:
        return type_name + "{" + ", ".join(parts) + "}"
    return "{" + " ".join(parts) + "}"


def print_arg(v: Any, verb: str, f: Flags) -> str:
    """Go's printArg: print one operand with one verb."""
    if verb == "T":
        if v is None or v is MISSING:
            return _pad("<nil>", f)
        s = go_type_name(v)
        return _pad(s[: f.prec] if f.prec >= 0 else s, f)
    cls = v.__class__
    if cls is str:
        return _fmt_string(v, verb, f)
    if cls is int:
        return _fmt_int(v, verb, f)
    if cls is float:
        return _fmt_float_verb(v, verb, f)
    if v is None or v is MISSING:
        return _pad("<nil>", f) if verb == "v" else _bad_verb(verb, v, f)
    if verb == "p":
        return _fmt_pointer(v, verb, f)
    if cls is bool:
        return _fmt_bool(v, verb, f)
    if cls is complex:
        return _fmt_complex(v, verb, f)
    if cls is bytes or cls is bytearray:
        return _fmt_bytes(bytes(v), verb, f, "[]byte")
    handled = _handle_methods(v, verb, f)
    if handled is not None:
        return handled
    return _print_value(v, verb, f, 0, True)
