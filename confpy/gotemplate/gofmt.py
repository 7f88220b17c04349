"""Go's ``fmt`` printing (Go 1.19) for the values of :mod:`confpy.gotemplate.values`.

``sprint``, ``sprintln`` and ``sprintf`` behave as ``fmt.Sprint``, ``fmt.Sprintln`` and
``fmt.Sprintf`` would on the Go values our Python values stand for, error forms included
(``%!d(string=x)``, ``%!d(MISSING)``, ``%!(EXTRA int=1)``...). ``format_value`` is the ``%v``
text of one value, for the template engine's hot path.

The layout follows Go's split: a format string is parsed once into literals and
``_Directive`` records (cached); ``_print_arg``/``_print_value`` pick the formatter for a
value's kind; the ``_fmt_*`` functions each handle one family of verbs and return padded text.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from .strconv import can_backquote, format_float, is_print, quote_with
from .values import MISSING, go_type_name, is_struct, struct_fields

__all__ = ["format_value", "sprint", "sprintf", "sprintln"]

_MASK64 = (1 << 64) - 1
_MAX_RUNE = 0x10FFFF
_TOO_LARGE = 1_000_000  # Go refuses widths, precisions and indexes beyond this
_STAR = -2  # a width or precision taken from the arguments


class _F(NamedTuple):
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


_PLAIN = _F()


def _verb_flags(verb: str, plus: bool, minus: bool, sharp: bool, space: bool, zero: bool,
                wid: int, prec: int) -> _F:
    if not (plus or minus or sharp or space or zero or wid or prec >= 0):
        return _PLAIN
    if verb == "v":
        return _F(False, minus, False, space, zero, wid, prec, plus, sharp)
    return _F(plus, minus, sharp, space, zero, wid, prec)


# --- padding -----------------------------------------------------------------------------


def _pad(s: str, f: _F) -> str:
    """Pad to the width in runes; zeros (the 0 flag) go on the left like spaces."""
    n = f.wid - len(s)
    if n <= 0:
        return s
    fill = ("0" if f.zero else " ") * n
    return s + fill if f.minus else fill + s


def _pad_spaces(s: str, f: _F) -> str:
    """Pad with spaces whatever the 0 flag says (numbers did their zero padding already)."""
    n = f.wid - len(s)
    if n <= 0:
        return s
    return s + " " * n if f.minus else " " * n + s


# --- errors and nil ----------------------------------------------------------------------


def _bad_verb(verb: str, value: Any, f: _F) -> str:
    """``%!verb(type=value)``: the value printed with %v and the current flags."""
    if value is None or value is MISSING:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({go_type_name(value)}={_print_value(value, 'v', f, 0, False)})"


# --- booleans and integers ---------------------------------------------------------------


def _fmt_bool(v: bool, verb: str, f: _F) -> str:
    if verb == "t" or verb == "v":
        return _pad("true" if v else "false", f)
    return _bad_verb(verb, v, f)


def _fmt_integer(u: int, base: int, verb: str, upper: bool, f: _F) -> str:
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


def _fmt_unicode(u: int, f: _F) -> str:
    """%U: ``U+0041``, and with # ``U+0041 'A'`` for printable runes."""
    u &= _MASK64
    s = "U+" + format(u, "X").rjust(f.prec if f.prec > 4 else 4, "0")
    if f.sharp and u <= _MAX_RUNE and is_print(chr(u)):
        s += " '" + chr(u) + "'"
    return _pad_spaces(s, f)


def _fmt_int(v: int, verb: str, f: _F, unsigned: bool = False) -> str:
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


def _fmt_float(x: float, verb: str, prec: int, f: _F) -> str:
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


def _float_v(x: float) -> str:
    """%v of a float with no flags: the shortest %g."""
    r = repr(x)
    ax = abs(x)
    if "e" not in r and (1e-4 <= ax < 1e6 or x == 0):
        return r[:-2] if r.endswith(".0") else r
    return format_float(x, "g", -1)  # "+Inf" keeps its sign under %v, as in Go


def _fmt_float_verb(x: float, verb: str, f: _F) -> str:
    """Go's pp.fmtFloat: the default precision of each float verb."""
    if verb == "v":
        if f is _PLAIN:
            return _float_v(x)
        return _fmt_float(x, "g", -1, f)
    if verb in "bgGxX":
        return _fmt_float(x, verb, -1, f)
    if verb in "feE":
        return _fmt_float(x, verb, 6, f)
    if verb == "F":
        return _fmt_float(x, "f", 6, f)
    return _bad_verb(verb, x, f)


def _fmt_complex(c: complex, verb: str, f: _F) -> str:
    """(r+ii): both parts formatted like floats, the imaginary one always signed."""
    if verb not in "vbgGxXfFeE":
        return _bad_verb(verb, c, f)
    imag = _fmt_float_verb(c.imag, verb, f._replace(plus=True))
    return "(" + _fmt_float_verb(c.real, verb, f) + imag + "i)"


# --- strings and bytes -------------------------------------------------------------------

def _fmt_q(s: str, f: _F) -> str:
    """%q of a string: Go-quoted, ASCII-only with +, backquoted with # when possible."""
    if f.prec >= 0:
        s = s[: f.prec]
    if f.sharp and can_backquote(s):
        return _pad("`" + s + "`", f)
    return _pad(quote_with(s, '"', f.plus), f)


def _fmt_hex_bytes(b: bytes, upper: bool, f: _F) -> str:
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


def _fmt_string(s: str, verb: str, f: _F) -> str:
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


def _fmt_bytes(b: bytes, verb: str, f: _F, type_name: str) -> str:
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


def _fmt_pointer(v: Any, verb: str, f: _F) -> str:
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


def _handle_methods(v: Any, verb: str, f: _F) -> str | None:
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
        return f"%!{verb}(PANIC={name} method: {_print_arg(exc, 'v', _PLAIN)})"
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


def _print_value(v: Any, verb: str, f: _F, depth: int, methods: bool) -> str:
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


def _fmt_struct(type_name: str, fields: list[tuple[str, Any]], verb: str, f: _F, depth: int,
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


def _print_arg(v: Any, verb: str, f: _F) -> str:
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


# --- format strings ----------------------------------------------------------------------


class _Directive:
    """One parsed %-directive. Only argument-dependent steps are left for run time.

    An index is ``None`` (no ``[n]``) or ``(zero-based index, parsed ok)``; a width or
    precision is ``None`` (absent), a number, or ``_STAR``.
    """

    __slots__ = ("bad_prec_index", "bad_wid_index", "flags", "has_prec", "minus", "plus",
                 "prec", "prec_index", "sharp", "simple", "space", "verb", "verb_index",
                 "wid", "wid_index", "zero")

    def __init__(self) -> None:
        self.plus = self.minus = self.sharp = self.space = self.zero = False
        self.wid_index: tuple[int, bool] | None = None
        self.wid: int | None = None
        self.bad_wid_index = False  # "%[3]2d": a width after an index is an error
        self.has_prec = False
        self.bad_prec_index = False
        self.prec_index: tuple[int, bool] | None = None
        self.prec: int | None = None
        self.verb_index: tuple[int, bool] | None = None
        self.verb: str | None = None  # None: the format ended before a verb
        self.simple = False  # no [n] and no *: flags are known now
        self.flags = _PLAIN

    def make_flags(self, wid: int, prec: int, minus: bool, zero: bool) -> _F:
        return _verb_flags(self.verb or "", self.plus, minus, self.sharp, self.space, zero,
                           wid, prec)


def _parse_num(s: str, i: int, end: int) -> tuple[int, bool, int]:
    """Go's parsenum: a decimal number at s[i:end]; an absurdly long one eats the rest."""
    num, found = 0, False
    while i < end and "0" <= s[i] <= "9":
        if num > _TOO_LARGE:
            return 0, False, end
        num = num * 10 + ord(s[i]) - 48
        found = True
        i += 1
    return num, found, i


def _parse_index(s: str, i: int) -> tuple[tuple[int, bool] | None, int]:
    """An explicit argument index ``[n]`` at s[i], if any: ((n-1, ok), next i)."""
    if i >= len(s) or s[i] != "[":
        return None, i
    close = s.find("]", i + 1)
    if len(s) - i < 3 or close < 0:
        return (0, False), i + 1
    num, ok, after = _parse_num(s, i + 1, close)
    if not ok or after != close:
        return (0, False), close + 1
    return (num - 1, True), close + 1


def _parse_directive(s: str, i: int) -> tuple[_Directive, int]:
    """Parse the directive after the % at s[i-1]; returns it and the index after it."""
    d = _Directive()
    end = len(s)
    while i < end:
        c = s[i]
        if c == "#":
            d.sharp = True
        elif c == "0":
            d.zero = not d.minus  # zero padding only on the left
        elif c == "+":
            d.plus = True
        elif c == "-":
            d.minus, d.zero = True, False
        elif c == " ":
            d.space = True
        else:
            break
        i += 1
    d.wid_index, i = _parse_index(s, i)
    after_index = d.wid_index is not None and d.wid_index[1]
    if i < end and s[i] == "*":
        d.wid, after_index = _STAR, False
        i += 1
    else:
        wid, present, i = _parse_num(s, i, end)
        if present:
            d.wid = wid
            d.bad_wid_index = after_index
    if i + 1 < end and s[i] == ".":
        i += 1
        d.has_prec, d.bad_prec_index = True, after_index
        d.prec_index, i = _parse_index(s, i)
        after_index = d.prec_index is not None and d.prec_index[1]
        if i < end and s[i] == "*":
            d.prec, after_index = _STAR, False
            i += 1
        else:
            d.prec, _, i = _parse_num(s, i, end)  # "%.d" is precision 0
    if not after_index:
        d.verb_index, i = _parse_index(s, i)
    if i < end:
        d.verb = s[i]
        i += 1
    d.simple = (d.wid_index is None and d.prec_index is None and d.verb_index is None
                and d.wid != _STAR and d.prec != _STAR and d.verb is not None)
    if d.simple:
        d.flags = d.make_flags(d.wid or 0, d.prec if d.has_prec else -1, d.minus, d.zero)
    return d, i


class _Format:
    """A parsed format string: literal text and directives, in order.

    When every directive is a bare verb (no flags, width, precision or index), ``verbs``
    lists them and ``texts`` the literal text after each one (``head`` before the first):
    sprintf then takes a shorter path.
    """

    __slots__ = ("head", "items", "texts", "verbs")

    def __init__(self, items: tuple[str | _Directive, ...]) -> None:
        self.items = items
        self.verbs: tuple[str, ...] | None = None
        directives = [x for x in items if isinstance(x, _Directive)]
        if all(d.simple and d.flags is _PLAIN for d in directives):
            texts = [""]
            for x in items:
                if isinstance(x, str):
                    texts[-1] += x
                else:
                    texts.append("")
            self.head, self.texts = texts[0], tuple(texts[1:])
            self.verbs = tuple(d.verb or "" for d in directives)


@lru_cache(maxsize=1024)
def _parse_format(s: str) -> _Format:
    """Split a format into literal text and directives; a plain %% becomes text."""
    items: list[str | _Directive] = []
    lit: list[str] = []
    i, end = 0, len(s)
    while i < end:
        j = s.find("%", i)
        if j < 0:
            lit.append(s[i:])
            break
        lit.append(s[i:j])
        d, i = _parse_directive(s, j + 1)
        if d.simple and d.verb == "%":
            lit.append("%")
            continue
        if lit:
            items.append("".join(lit))
            lit = []
        items.append(d)
        if d.verb is None:
            break
    if lit:
        items.append("".join(lit))
    return _Format(tuple(x for x in items if x != ""))


def _int_arg(args: tuple[Any, ...], n: int) -> tuple[int, bool, int]:
    """Go's intFromArg: a * width or precision; the argument is used even when it is bad."""
    if n >= len(args):
        return 0, False, n
    v = args[n]
    if v.__class__ is not int or not -_TOO_LARGE <= v <= _TOO_LARGE:
        return 0, False, n + 1
    return v, True, n + 1


def _use_index(index: tuple[int, bool] | None, n: int, nargs: int) -> tuple[int, bool]:
    """Go's argNumber at run time: the argument an ``[n]`` selects, and whether it exists."""
    if index is None:
        return n, True
    if index[1] and 0 <= index[0] < nargs:
        return index[0], True
    return n, False


def _complex_directive(d: _Directive, args: tuple[Any, ...], n: int,
                       out: list[str]) -> int:
    """Run a directive with [n] indexes or * arguments; returns the next argument number."""
    nargs = len(args)
    n, good = _use_index(d.wid_index, n, nargs)
    minus, zero = d.minus, d.zero
    wid = 0
    if d.wid == _STAR:
        wid, present, n = _int_arg(args, n)
        if not present:
            out.append("%!(BADWIDTH)")
        if wid < 0:
            wid, minus, zero = -wid, True, False
    elif d.wid is not None:
        wid = d.wid
        good = good and not d.bad_wid_index
    prec = -1
    if d.has_prec:
        good = good and not d.bad_prec_index
        n, ok = _use_index(d.prec_index, n, nargs)
        good = good and ok
        if d.prec == _STAR:
            prec, present, n = _int_arg(args, n)
            if prec < 0 or not present:  # a negative precision is bad too
                prec = -1
                out.append("%!(BADPREC)")
        else:
            prec = d.prec or 0
    n, ok = _use_index(d.verb_index, n, nargs)
    good = good and ok
    verb = d.verb
    if verb is None:
        out.append("%!(NOVERB)")
    elif verb == "%":
        out.append("%")
    elif not good:
        out.append(f"%!{verb}(BADINDEX)")
    elif n >= nargs:
        out.append(f"%!{verb}(MISSING)")
    else:
        out.append(_print_arg(args[n], verb, d.make_flags(wid, prec, minus, zero)))
        n += 1
    return n


def _extra(args: tuple[Any, ...]) -> str:
    """``%!(EXTRA type=value, ...)`` for arguments no verb used."""
    parts = [
        "<nil>" if a is None or a is MISSING else go_type_name(a) + "=" + _print_arg(a, "v", _PLAIN)
        for a in args
    ]
    return "%!(EXTRA " + ", ".join(parts) + ")"


def sprintf(format: str, *args: Any) -> str:
    """Go's fmt.Sprintf."""
    parsed = _parse_format(format)
    verbs = parsed.verbs
    if verbs is not None and len(verbs) == len(args):
        # Bare verbs, one argument each: no error forms but bad verbs are possible.
        out = [parsed.head]
        append = out.append
        for verb, a, text in zip(verbs, args, parsed.texts):
            cls = a.__class__
            if cls is str and (verb == "s" or verb == "v"):
                append(a)
            elif cls is int and (verb == "d" or verb == "v"):
                append(str(a))
            elif cls is float and verb == "v":
                append(_float_v(a))
            else:
                append(_print_arg(a, verb, _PLAIN))
            append(text)
        return "".join(out)
    return _sprintf(parsed.items, args)


def _sprintf(items: tuple[str | _Directive, ...], args: tuple[Any, ...]) -> str:
    """The general case of sprintf: flags, missing or extra arguments, indexes, stars."""
    out: list[str] = []
    append = out.append
    n = 0
    nargs = len(args)
    reordered = False
    for item in items:
        if isinstance(item, str):
            append(item)
            continue
        if not item.simple:
            reordered = reordered or (item.wid_index is not None or item.prec_index is not None
                                      or item.verb_index is not None)
            n = _complex_directive(item, args, n, out)
        elif n >= nargs:
            append(f"%!{item.verb}(MISSING)")
        else:
            append(_print_arg(args[n], item.verb or "", item.flags))
            n += 1
    if not reordered and n < nargs:
        append(_extra(args[n:]))
    return "".join(out)


def format_value(value: Any) -> str:
    """The ``%v`` text of one value (``fmt.Sprint(value)`` for anything but a string)."""
    cls = value.__class__
    if cls is str:
        return value
    if cls is int:
        return str(value)
    if cls is float:
        return _float_v(value)
    if cls is bool:
        return "true" if value else "false"
    return _print_arg(value, "v", _PLAIN)


def sprint(*args: Any) -> str:
    """Go's fmt.Sprint: a space between operands when neither is a string."""
    out: list[str] = []
    prev_string = False
    for i, a in enumerate(args):
        is_string = isinstance(a, str)
        if i > 0 and not is_string and not prev_string:
            out.append(" ")
        out.append(format_value(a))
        prev_string = is_string
    return "".join(out)


def sprintln(*args: Any) -> str:
    """Go's fmt.Sprintln: spaces between all operands and a final newline."""
    return " ".join(map(format_value, args)) + "\n"
