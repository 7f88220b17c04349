"""Go parameter types of template functions, read from Python annotations.

Go checks every argument of a template function against the function's parameter types
(``expected integer; found "1"``, ``wrong type for value; expected int; got string``).
A Python function declares those types with ordinary annotations:

=========================  ==========================
annotation                 Go parameter type
=========================  ==========================
``int``                    ``int``
``float``                  ``float64``
``str``                    ``string``
``bool``                   ``bool``
``complex``                ``complex128``
a ``GoList`` subclass      its ``go_type`` (``[]string``...)
``list``                   ``[]interface {}``
a ``GoMap`` subclass       its ``go_type``
``dict``                   ``map[string]interface {}``
none, ``Any``, ``object``  ``interface {}``
=========================  ==========================

``*args`` makes the function variadic, its annotation typing each extra argument.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any, NamedTuple

from .values import GoList, GoMap

__all__ = [
    "BOOL",
    "COMPLEX",
    "FLOAT",
    "INT",
    "INTERFACE",
    "REFLECT_VALUE",
    "STRING",
    "FuncSignature",
    "GoType",
    "signature_of",
]


class GoType(NamedTuple):
    kind: str  # interface, value, bool, int, uint, float, complex, string, slice, map, other
    name: str  # as Go prints the type in messages
    zero: Callable[[], Any] | None = None  # the zero value, for kinds that can be nil

    @property
    def can_be_nil(self) -> bool:
        return self.kind in ("interface", "value", "slice", "map", "func")


INTERFACE = GoType("interface", "interface {}")
# reflect.Value: what most builtins take; the argument arrives untouched, MISSING included.
REFLECT_VALUE = GoType("value", "reflect.Value")
BOOL = GoType("bool", "bool")
INT = GoType("int", "int")
FLOAT = GoType("float", "float64")
COMPLEX = GoType("complex", "complex128")
STRING = GoType("string", "string")

_SCALARS: dict[Any, GoType] = {
    int: INT,
    float: FLOAT,
    str: STRING,
    bool: BOOL,
    complex: COMPLEX,
    Any: INTERFACE,
    object: INTERFACE,
    list: GoType("slice", "[]interface {}", list),
    dict: GoType("map", "map[string]interface {}", dict),
}


def go_type_of_annotation(annotation: Any) -> GoType:
    """The Go type a Python annotation stands for (interface {} when unknown)."""
    if annotation is inspect.Parameter.empty:
        return INTERFACE
    known = _SCALARS.get(annotation)
    if known is not None:
        return known
    if isinstance(annotation, type):
        if issubclass(annotation, GoList):
            return GoType("slice", annotation.go_type, annotation)
        if issubclass(annotation, GoMap):
            return GoType("map", annotation.go_type, annotation)
        declared = getattr(annotation, "go_type", None)
        if isinstance(declared, str):
            return GoType("other", declared)
    origin = typing.get_origin(annotation)
    if origin is list:
        return _SCALARS[list]
    if origin is dict:
        return _SCALARS[dict]
    return INTERFACE


class FuncSignature(NamedTuple):
    """The Go view of a callable: fixed parameter types, and the variadic element type."""

    params: tuple[GoType, ...]
    variadic: GoType | None = None  # the type of each extra argument, if variadic
    optional: int = 0  # trailing fixed params with Python defaults (a confpy extension)

    @property
    def num_in(self) -> int:
        return len(self.params)


_UNKNOWN = FuncSignature((), INTERFACE)


def _resolve(annotation: Any, fn: Callable[..., Any]) -> Any:
    """A parameter's annotation, evaluated if it is a string (``from __future__ import
    annotations``). Only parameters count: a return annotation naming something the
    module imports lazily must not cost the parameter types. Unresolvable: no type."""
    if not isinstance(annotation, str):
        return annotation
    namespace = getattr(inspect.unwrap(fn), "__globals__", None)
    if namespace is None:
        return inspect.Parameter.empty
    try:
        return eval(annotation, namespace)  # the annotation's own text, in its own module
    except Exception:
        return inspect.Parameter.empty


def signature_of(fn: Callable[..., Any]) -> FuncSignature:
    """Read a callable's Go signature from its annotations.

    Callables without a readable signature (some builtins) accept any arguments.
    """
    explicit = getattr(fn, "__go_signature__", None)
    if isinstance(explicit, FuncSignature):
        return explicit
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return _UNKNOWN
    params: list[GoType] = []
    variadic: GoType | None = None
    optional = 0
    for param in sig.parameters.values():
        annotation = _resolve(param.annotation, fn)
        if param.kind is param.VAR_POSITIONAL:
            variadic = go_type_of_annotation(annotation)
        elif param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            params.append(go_type_of_annotation(annotation))
            if param.default is not param.empty:
                optional += 1
    return FuncSignature(tuple(params), variadic, optional)
