"""Go's builtin template functions, as one table.

Each raises ``GoError`` with Go's error text; the executor reports it as
``error calling NAME: ...``. ``and`` and ``or`` are listed for their signatures only: the
compiler evaluates them inline because they short-circuit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

from ..golang.strconv import is_print
from .gofmt import sprint, sprintf, sprintln
from .gotypes import INTERFACE, REFLECT_VALUE, STRING, FuncSignature, signature_of
from .runtime import truth
from .values import MISSING, GoList, Uint8, go_type_name, is_struct

__all__ = ["BUILTINS", "GoError", "html_escape", "js_escape", "urlquery_escape"]


class GoError(Exception):
    """An error value returned by a Go function: str() is its Error() text."""


def _go_signature(*params: Any, variadic: Any = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        setattr(fn, "__go_signature__", FuncSignature(tuple(params), variadic))  # noqa: B010 - read by gotypes.signature_of
        return fn

    return mark


def _concrete(value: Any) -> Any:
    """Go's indirectInterface: a nil interface is no value at all."""
    return MISSING if value is None else value


# -- index, slice, len ----------------------------------------------------------------


def _index_arg(index: Any, cap: int) -> int:
    if index is MISSING:
        raise GoError("cannot index slice/array with nil")
    if type(index) is not int:
        raise GoError(f"cannot index slice/array with type {go_type_name(index)}")
    if index < 0 or index > cap:
        raise GoError(f"index out of range: {index}")
    return index


def _as_bytes(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


@_go_signature(REFLECT_VALUE, variadic=REFLECT_VALUE)
def index(item: Any, *indexes: Any) -> Any:
    item = _concrete(item)
    if item is MISSING:
        raise GoError("index of untyped nil")
    for raw in indexes:
        key = _concrete(raw)
        if item is None or item is MISSING:
            raise GoError("index of nil pointer")
        if isinstance(item, (list, tuple, str, bytes, bytearray)):
            if isinstance(item, str):
                item = _as_bytes(item)
                kind = "string"
            else:
                kind = "slice"
            x = _index_arg(key, len(item))
            if x >= len(item):
                raise GoError(f"reflect: {kind} index out of range")
            item = Uint8(item[x]) if kind == "string" or isinstance(item, (bytes, bytearray)) else item[x]
        elif isinstance(item, dict):
            if key is MISSING:
                raise GoError("value is nil; should be of type string")
            if not isinstance(key, str):
                raise GoError(f"value has type {go_type_name(key)}; should be string")
            item = item.get(key, _map_zero(item))
        else:
            raise GoError(f"can't index item of type {go_type_name(item)}")
    return item


def _map_zero(mapping: dict[Any, Any]) -> Any:
    elem = getattr(type(mapping), "elem_type", "interface {}")
    return {"string": "", "int": 0, "float64": 0.0, "bool": False}.get(elem)


@_go_signature(REFLECT_VALUE, variadic=REFLECT_VALUE)
def slice(item: Any, *indexes: Any) -> Any:
    item = _concrete(item)
    if item is MISSING:
        raise GoError("slice of untyped nil")
    if len(indexes) > 3:
        raise GoError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise GoError("cannot 3-index slice a string")
        data: Any = _as_bytes(item)
    elif isinstance(item, (list, tuple, bytes, bytearray)):
        data = item
    else:
        raise GoError(f"can't slice item of type {go_type_name(item)}")
    bounds = [0, len(data)]
    for i, raw in enumerate(indexes):
        x = _index_arg(_concrete(raw), len(data))
        if i < 2:
            bounds[i] = x
        else:
            bounds.append(x)
    if bounds[0] > bounds[1]:
        raise GoError(f"invalid slice index: {bounds[0]} > {bounds[1]}")
    if len(bounds) == 3 and bounds[1] > bounds[2]:
        raise GoError(f"invalid slice index: {bounds[1]} > {bounds[2]}")
    part = data[bounds[0] : bounds[1]]
    if isinstance(item, str):
        return part.decode("utf-8", "surrogateescape")
    if isinstance(item, GoList):
        return type(item)(part)
    return part


@_go_signature(REFLECT_VALUE)
def length(item: Any) -> int:
    if item is None:
        raise GoError("len of nil pointer")
    if item is MISSING:  # Go asks the type of the zero reflect.Value and panics
        raise GoError("reflect: call of reflect.Value.Type on zero Value")
    if isinstance(item, str):
        return len(_as_bytes(item))
    if isinstance(item, (list, tuple, dict, bytes, bytearray)):
        return len(item)
    raise GoError(f"len of type {go_type_name(item)}")


# -- logic and comparison -----------------------------------------------------------


@_go_signature(REFLECT_VALUE, variadic=REFLECT_VALUE)
def and_(arg0: Any, *args: Any) -> Any:  # evaluated inline by the compiler
    raise AssertionError("unreachable")


@_go_signature(REFLECT_VALUE)
def not_(arg: Any) -> bool:
    return not truth(arg)


_BASIC_KINDS: dict[type, str] = {
    bool: "bool",
    int: "int",
    Uint8: "uint",
    float: "float",
    complex: "complex",
    str: "string",
}


def _basic_kind(value: Any) -> str | None:
    return _BASIC_KINDS.get(type(value))


def _go_kind(value: Any) -> str:
    """The reflect.Kind of a value, for the comparability rules of eq."""
    if value is MISSING:
        return "invalid"
    kind = _basic_kind(value)
    if kind is not None:
        return kind
    if isinstance(value, (list, tuple, bytes, bytearray)):
        return "slice"
    if isinstance(value, dict):
        return "map"
    if callable(value) and not is_struct(value):
        return "func"
    return "struct"


def _type_name(value: Any) -> str:
    return go_type_name(value) if value is not MISSING else "<nil>"


@_go_signature(REFLECT_VALUE, variadic=REFLECT_VALUE)
def eq(arg1: Any, *arg2: Any) -> bool:
    arg1 = _concrete(arg1)
    if not arg2:
        raise GoError("missing argument for comparison")
    k1 = _basic_kind(arg1)
    for raw in arg2:
        arg = _concrete(raw)
        k2 = _basic_kind(arg)
        if k1 != k2:
            if {k1, k2} == {"int", "uint"}:  # integers compare across signedness
                if arg1 == arg:
                    return True
                continue
            if arg1 is not MISSING and arg is not MISSING:
                raise GoError("incompatible types for comparison")
            continue
        if k1 is not None:
            if arg1 == arg:
                return True
            continue
        g1, g2 = _go_kind(arg1), _go_kind(arg)
        if g1 != g2 and "invalid" not in (g1, g2):
            raise GoError(
                sprintf("non-comparable types %s: %v, %s: %v", arg1, _type_name(arg1), _type_name(arg), arg)
            )
        if arg1 is MISSING or arg is MISSING:
            if arg1 is arg:
                return True
            continue
        if g2 in ("slice", "map", "func"):
            raise GoError(sprintf("non-comparable type %s: %v", arg, _type_name(arg)))
        if _struct_equal(arg1, arg):
            return True
    return False


def _struct_equal(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if dataclasses.is_dataclass(a):
        return all(getattr(a, f.name) == getattr(b, f.name) for f in dataclasses.fields(a))
    return a is b


@_go_signature(REFLECT_VALUE, REFLECT_VALUE)
def ne(arg1: Any, arg2: Any) -> bool:
    return not eq(arg1, arg2)


@_go_signature(REFLECT_VALUE, REFLECT_VALUE)
def lt(arg1: Any, arg2: Any) -> bool:
    arg1, arg2 = _concrete(arg1), _concrete(arg2)
    k1 = _basic_kind(arg1)
    if k1 is None:
        raise GoError("invalid type for comparison")
    k2 = _basic_kind(arg2)
    if k2 is None:
        raise GoError("invalid type for comparison")
    if k1 != k2 and {k1, k2} != {"int", "uint"}:
        raise GoError("incompatible types for comparison")
    if k1 in ("bool", "complex"):
        raise GoError("invalid type for comparison")
    return bool(arg1 < arg2)


@_go_signature(REFLECT_VALUE, REFLECT_VALUE)
def le(arg1: Any, arg2: Any) -> bool:
    return lt(arg1, arg2) or eq(arg1, arg2)


@_go_signature(REFLECT_VALUE, REFLECT_VALUE)
def gt(arg1: Any, arg2: Any) -> bool:
    return not le(arg1, arg2)


@_go_signature(REFLECT_VALUE, REFLECT_VALUE)
def ge(arg1: Any, arg2: Any) -> bool:
    return not lt(arg1, arg2)


# -- escaping ---------------------------------------------------------------------------


def _eval_args(args: tuple[Any, ...]) -> str:
    """Go's evalArgs: a lone string as is, anything else printed with fmt.Sprint."""
    if len(args) == 1 and type(args[0]) is str:
        return args[0]
    return sprint(*("<no value>" if a is None or a is MISSING else a for a in args))


_HTML_ESCAPES = {"\0": "\ufffd", '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;"}
_HTML_TABLE = str.maketrans(_HTML_ESCAPES)


def html_escape(s: str) -> str:
    return s.translate(_HTML_TABLE)


_JS_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026", "=": "\\u003D"}


def js_escape(s: str) -> str:
    out: list[str] = []
    for ch in s:
        code = ord(ch)
        special = _JS_ESCAPES.get(ch)
        if special is not None:
            out.append(special)
        elif code < 0x20:
            out.append(f"\\u00{code:02X}")
        elif code < 0x80 or is_print(ch) or 0xDC80 <= code <= 0xDCFF:
            # (an invalid byte decodes as U+FFFD in Go, which is printable)
            out.append(ch)
        else:
            out.append(f"\\u{code:04X}")
    return "".join(out)


def urlquery_escape(s: str) -> str:
    return quote_plus(s.encode("utf-8", "surrogateescape"), safe="-_.~")


@_go_signature(variadic=INTERFACE)
def html(*args: Any) -> str:
    return html_escape(_eval_args(args))


@_go_signature(variadic=INTERFACE)
def js(*args: Any) -> str:
    return js_escape(_eval_args(args))


@_go_signature(variadic=INTERFACE)
def urlquery(*args: Any) -> str:
    return urlquery_escape(_eval_args(args))


@_go_signature(variadic=INTERFACE)
def print_(*args: Any) -> str:
    return sprint(*args)


@_go_signature(STRING, variadic=INTERFACE)
def printf(fmt: str, *args: Any) -> str:
    return sprintf(fmt, *args)


@_go_signature(variadic=INTERFACE)
def println(*args: Any) -> str:
    return sprintln(*args)


# -- call ---------------------------------------------------------------------------------


@_go_signature(REFLECT_VALUE, variadic=REFLECT_VALUE)
def call(fn: Any, *args: Any) -> Any:
    fn = _concrete(fn)
    if fn is MISSING:
        raise GoError("call of nil")
    if not callable(fn) or is_struct(fn):
        raise GoError(f"non-function of type {go_type_name(fn)}")
    sig = signature_of(fn)
    num_in = len(sig.params)
    if sig.variadic is not None:
        if len(args) < num_in:
            raise GoError(f"wrong number of args: got {len(args)} want at least {num_in}")
    elif len(args) != num_in:
        raise GoError(f"wrong number of args: got {len(args)} want {num_in}")
    argv = []
    for i, raw in enumerate(args):
        arg = _concrete(raw)
        typ = sig.params[i] if i < num_in else sig.variadic
        assert typ is not None
        if arg is MISSING:
            if not typ.can_be_nil:
                raise GoError(f"arg {i}: value is nil; should be of type {typ.name}")
            arg = typ.zero() if typ.zero is not None else None
        elif typ.kind not in ("interface", "value") and go_type_name(arg) != typ.name:
            raise GoError(f"arg {i}: value has type {go_type_name(arg)}; should be {typ.name}")
        argv.append(arg)
    return fn(*argv)


BUILTINS: dict[str, Callable[..., Any]] = {
    "and": and_,
    "call": call,
    "html": html,
    "index": index,
    "slice": slice,
    "js": js,
    "len": length,
    "not": not_,
    "or": and_,
    "print": print_,
    "printf": printf,
    "println": println,
    "urlquery": urlquery,
    "eq": eq,
    "ge": ge,
    "gt": gt,
    "le": le,
    "lt": lt,
    "ne": ne,
}
