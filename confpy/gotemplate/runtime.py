"""What compiled templates call at execution time. Generated code imports only the names
in ``EXPORTED``; everything here follows Go's exec.go rules (field lookup, truth, range,
argument checks, printing) on confpy's value model (see ``values``)."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Iterable
from typing import Any

from ..golang.strconv import quote
from .errors import TemplateExecError
from .fmtvalue import sorted_items
from .gofmt import format_value, sprintf
from .gotypes import FuncSignature, GoType, go_type_of_annotation, signature_of
from .nodes import BoolNode, DotNode, NilNode, Node, NumberNode, StringNode, Tree
from .values import MISSING, GoMap, go_type_name, is_struct

__all__ = [
    "EXPORTED",
    "ConstError",
    "Site",
    "check_arg",
    "coerce_const",
    "field",
    "ideal_constant",
    "range_items",
    "to_text",
    "truth",
]


class Site:
    """A node of a tree, and the template executing it: where an error is reported."""

    __slots__ = ("exec_name", "node", "tree")

    def __init__(self, tree: Tree, node: Node | None, exec_name: str) -> None:
        self.tree = tree
        self.node = node
        self.exec_name = exec_name

    def error(self, fmt: str, *args: Any) -> TemplateExecError:
        """Go's state.errorf: the message, prefixed with where and what was executing."""
        name = self.exec_name.replace("%", "%%")
        if self.node is None:
            line = column = 0
            fmt = f"template: {name}: {fmt}"
        else:
            line, column = self.tree.location(self.node.pos)
            location = f"{self.tree.parse_name}:{line}:{column}"
            context = str(self.node).replace("%", "%%")
            fmt = f"template: {location}: executing {quote(name)} at <{context}>: {fmt}"
        return TemplateExecError(sprintf(fmt, *args), name=self.tree.parse_name, line=line, column=column)


class ConstError(Exception):
    """A constant argument that does not fit its parameter; carries Go's message parts."""

    def __init__(self, fmt: str, *args: Any) -> None:
        super().__init__(fmt)
        self.fmt = fmt
        self.args_ = args


# -- truth and printing -------------------------------------------------------------


def truth(value: Any) -> bool:
    """Go's isTrue: the zero value of its type is false; structs are always true."""
    t = type(value)
    if t is bool:
        return value
    if t is str or t is list or t is dict or t is tuple:
        return len(value) > 0
    if t is int or t is float or t is complex:
        return value != 0
    if value is None or value is MISSING:
        return False
    if isinstance(value, (str, list, tuple, dict, bytes, bytearray)):
        return len(value) > 0
    if isinstance(value, (int, float, complex)):
        return value != 0
    return True


def to_text(value: Any, site: Site) -> str:
    """What ``{{pipeline}}`` writes: Go's printValue (fmt.Sprint of the value)."""
    t = type(value)
    if t is str:
        return value
    if t is int:
        return str(value)
    if t is bool:
        return "true" if value else "false"
    if value is MISSING or value is None:
        return "<no value>"
    if _is_function(value):
        raise site.error("can't print %s of type %s", str(site.node), go_type_name(value))
    return format_value(value)


def _is_function(value: Any) -> bool:
    return inspect.isroutine(value) or isinstance(value, type)


# -- fields and methods ---------------------------------------------------------------

_NO_FIELDS = (str, int, float, complex, bool, bytes, bytearray, list, tuple)


def field(
    recv: Any, name: str, site: Site, mode: str = "default", holder: Any = None, key: Any = None
) -> Any:
    """``recv.name`` without arguments: a map key, a struct field, or a method's result.

    ``holder`` is the container ``recv`` was read from (and ``key`` the struct field it
    was read as), when known: Go names the static type of ``recv`` in its errors, and
    an element of a ``map[string]interface {}`` has type ``interface {}``.
    """
    if type(recv) is dict and mode == "default":
        return recv.get(name, MISSING)
    struct_fields = getattr(type(recv), "__dataclass_fields__", None)
    if struct_fields is not None and name in struct_fields and not isinstance(recv, type):
        return getattr(recv, name)  # a struct field (KVPair.Value): the common case
    target = _resolve(recv, name, site, mode, has_args=False, holder=holder, key=key)
    if isinstance(target, _BoundMethod):
        return call_method(target.fn, name, site, ())
    return target


def method(
    recv: Any, name: str, site: Site, mode: str = "default", holder: Any = None, key: Any = None
) -> Any:
    """``recv.name arg...``: the bound method to call, or MISSING when recv is missing.

    Anything that is not a method but is given arguments fails here, before the
    arguments are evaluated, as in Go.
    """
    target = _resolve(recv, name, site, mode, has_args=True, holder=holder, key=key)
    return target.fn if isinstance(target, _BoundMethod) else target


class _BoundMethod:
    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn


def static_type(value: Any, holder: Any, key: Any) -> str:
    """The Go type a value read from ``holder`` has before Go unwraps it."""
    if holder is None or holder is MISSING:
        return go_type_name(value)
    declared = getattr(type(holder), "elem_type", None)
    if isinstance(declared, str):
        return declared
    if isinstance(holder, (list, tuple, dict)):
        return "interface {}"
    if is_struct(holder) and isinstance(key, str):
        try:
            annotation = typing.get_type_hints(type(holder)).get(key)
        except Exception:
            annotation = None
        if annotation is not None:
            return go_type_of_annotation(annotation).name
    return go_type_name(value)


def _resolve(
    recv: Any, name: str, site: Site, mode: str, *, has_args: bool, holder: Any, key: Any
) -> Any:
    if recv is MISSING:
        if mode == "error":
            raise site.error("nil data; no entry for key %q", name)
        return MISSING
    if recv is None:
        raise site.error("nil pointer evaluating %s.%s", static_type(recv, holder, key), name)
    if isinstance(recv, dict):
        if has_args:
            raise site.error("%s is not a method but has arguments", name)
        try:
            return recv[name]
        except KeyError:
            pass
        except TypeError:  # an unhashable key type cannot hold a field name
            raise site.error("can't evaluate field %s in type %s", name, go_type_name(recv)) from None
        if mode == "zero":
            return _zero_of_elem(recv)
        if mode == "error":
            raise site.error("map has no entry for key %q", name)
        return MISSING
    if isinstance(recv, _NO_FIELDS) or name.startswith("_"):
        raise site.error("can't evaluate field %s in type %s", name, static_type(recv, holder, key))
    is_field = False
    if is_struct(recv):
        is_field = any(f.name == name for f in dataclasses.fields(recv))
    if not is_field:
        attr = getattr(type(recv), name, None)
        if attr is not None and callable(attr) and not isinstance(attr, type):
            return _BoundMethod(getattr(recv, name))
    try:
        value = getattr(recv, name)
    except AttributeError:
        raise site.error(
            "can't evaluate field %s in type %s", name, static_type(recv, holder, key)
        ) from None
    if has_args:
        raise site.error("%s has arguments but cannot be invoked as function", name)
    return value


def _zero_of_elem(mapping: dict[Any, Any]) -> Any:
    if isinstance(mapping, GoMap):
        return {"string": "", "int": 0, "float64": 0.0, "bool": False}.get(mapping.elem_type)
    return None  # a nil interface {}


def call_method(
    fn: Callable[..., Any], name: str, site: Site, args: Iterable[tuple[Any, Node | None, Site]]
) -> Any:
    """Call a method found on a data value, checking arguments against its annotations."""
    sig = signature_of(fn)
    arg_list = list(args)
    check_arg_count(sig, name, len(arg_list), len(arg_list), site)
    values = []
    for i, (value, node, arg_site) in enumerate(arg_list):
        typ = param_type(sig, i)
        if node is not None:
            try:
                values.append(coerce_const(node, typ, MISSING))
            except ConstError as exc:
                raise arg_site.error(exc.fmt, *exc.args_) from None
        else:
            values.append(check_arg(value, typ, arg_site))
    try:
        return fn(*values)
    except TemplateExecError:
        raise
    except Exception as exc:
        raise site.error("error calling %s: %s", name, go_error_text(exc)) from exc


def param_type(sig: FuncSignature, index: int) -> GoType:
    if index < len(sig.params):
        return sig.params[index]
    assert sig.variadic is not None
    return sig.variadic


def check_arg_count(sig: FuncSignature, name: str, num_in: int, num_args: int, site: Site) -> None:
    """Go's evalCall arity checks (``num_args`` excludes a piped final value)."""
    if sig.variadic is not None:
        fixed = len(sig.params) - sig.optional
        if num_in < fixed:
            raise site.error("wrong number of args for %s: want at least %d got %d", name, fixed, num_args)
    elif not len(sig.params) - sig.optional <= num_in <= len(sig.params):
        raise site.error("wrong number of args for %s: want %d got %d", name, len(sig.params), num_in)


def go_error_text(exc: BaseException) -> str:
    """The text of a Python exception as a Go error value would print it."""
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        return exc.args[0]
    text = str(exc)
    return text or type(exc).__name__


# -- arguments ----------------------------------------------------------------------


def check_arg(value: Any, typ: GoType, site: Site) -> Any:
    """Go's validateType: the value of a non-constant argument for a parameter of ``typ``."""
    kind = typ.kind
    if kind == "interface":
        return None if value is MISSING else value
    if kind == "value":
        return value
    if value is MISSING:
        if typ.can_be_nil:
            return typ.zero() if typ.zero is not None else None
        raise site.error("invalid value; expected %s", typ.name)
    if value is not None:
        actual = go_type_name(value)
        if actual == typ.name:
            return value
        zero = typ.zero
        if isinstance(zero, type) and zero not in (list, dict) and isinstance(value, zero):
            return value
    else:
        actual = "interface {}"
    raise site.error("wrong type for value; expected %s; got %s", typ.name, actual)


def ideal_constant(node: NumberNode) -> Any:
    """A number constant where no type is expected: its syntax decides (Go's idealConstant)."""
    text = node.text
    if node.is_complex:
        return node.complex128
    is_hex_int = len(text) > 2 and text[0] == "0" and text[1] in "xX" and not any(c in text for c in "pP")
    if node.is_float and not is_hex_int and text[0] != "'" and any(c in text for c in ".eEpP"):
        return node.float64
    if node.is_int:
        return node.int64
    if node.is_uint:
        raise ConstError("%s overflows int", text)
    return MISSING


def coerce_const(node: Node, typ: GoType, dot: Any) -> Any:
    """The value of a constant argument (bool, number, string, nil, dot) for ``typ``.

    Raises ConstError with Go's message when the constant does not fit.
    """
    if isinstance(node, DotNode):
        return dot
    if isinstance(node, NilNode):
        if typ.can_be_nil:
            if typ.kind in ("interface", "value"):
                return MISSING if typ.kind == "value" else None
            return typ.zero() if typ.zero is not None else None
        raise ConstError("cannot assign nil to %s", typ.name)
    kind = typ.kind
    if kind in ("interface", "value"):
        if isinstance(node, BoolNode):
            return node.value
        if isinstance(node, NumberNode):
            return ideal_constant(node)
        if isinstance(node, StringNode):
            return node.text
        raise ConstError("can't handle assignment of %s to empty interface argument", str(node))
    if kind == "bool":
        if isinstance(node, BoolNode):
            return node.value
        raise ConstError("expected bool; found %s", str(node))
    if kind == "string":
        if isinstance(node, StringNode):
            return node.text
        raise ConstError("expected string; found %s", str(node))
    if isinstance(node, NumberNode):
        if kind == "int" and node.is_int:
            return node.int64
        if kind == "uint" and node.is_uint:
            return node.uint64
        if kind == "float" and node.is_float:
            return node.float64
        if kind == "complex" and node.is_complex:
            return node.complex128
    expected = {"int": "integer", "uint": "unsigned integer", "float": "float", "complex": "complex"}.get(kind)
    if expected is not None:
        raise ConstError("expected %s; found %s", expected, str(node))
    raise ConstError("can't handle %s for arg of type %s", str(node), typ.name)


# -- range --------------------------------------------------------------------------


def range_items(value: Any, site: Site) -> Iterable[tuple[Any, Any]] | None:
    """(index or key, element) pairs to range over, or None for an empty or nil value."""
    if isinstance(value, (list, tuple)):
        return enumerate(value) if value else None
    if isinstance(value, dict):
        return sorted_items(value) if value else None
    if value is MISSING or value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        return enumerate(value) if value else None
    raise site.error("range can't iterate over %v", value)


EXPORTED = {
    "MISSING": MISSING,
    "truth": truth,
    "to_text": to_text,
    "field": field,
    "method": method,
    "call_method": call_method,
    "check_arg": check_arg,
    "range_items": range_items,
}
