"""The Go value model: how Python values stand for Go values inside templates.

Go's text/template works on reflected Go values; we work on a small, explicit set of
Python values, each standing for one Go type:

=====================  ==========================  =======================================
Python                 Go type (``%T``)            notes
=====================  ==========================  =======================================
``MISSING``            (invalid reflect.Value)     a missing map key, nil data: ``<no value>``
``None``               ``<nil>``                   an untyped nil interface
``bool``               ``bool``
``int``                ``int``                     64-bit; ``bool`` is checked first
``float``              ``float64``
``complex``            ``complex128``
``str``                ``string``
``bytes``              ``[]uint8``
``list``/``tuple``     ``[]interface {}``          subclasses of ``GoList`` name their type
``dict``               ``map[string]interface {}`` subclasses of ``GoMap`` name their type
dataclass instance     ``main.<ClassName>``        or the class's ``go_type`` attribute
other objects          the class's ``go_type``     fields and methods by attribute
=====================  ==========================  =======================================

An object is a Go ``fmt.Stringer`` when it has a ``String()`` method and an ``error``
when it is an exception or has an ``Error()`` method; fmt prints those through them.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

__all__ = [
    "MISSING",
    "GoList",
    "GoMap",
    "IntList",
    "StringList",
    "StringMap",
    "Uint8",
    "go_type_name",
    "is_struct",
    "struct_fields",
]


class _Missing:
    """Go's invalid reflect.Value: what a missing map key or nil data evaluates to."""

    __slots__ = ()
    _instance: ClassVar[_Missing | None] = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class GoList(list[Any]):
    """A list with a declared Go type. A plain ``list`` is ``[]interface {}``."""

    go_type: ClassVar[str] = "[]interface {}"
    elem_type: ClassVar[str] = "interface {}"


class StringList(GoList):
    """A Go ``[]string`` (what ``strings.Split`` returns)."""

    go_type = "[]string"
    elem_type = "string"


class IntList(GoList):
    """A Go ``[]int``."""

    go_type = "[]int"
    elem_type = "int"


class GoMap(dict[Any, Any]):
    """A dict with a declared Go type. A plain ``dict`` is ``map[string]interface {}``."""

    go_type: ClassVar[str] = "map[string]interface {}"
    key_type: ClassVar[str] = "string"
    elem_type: ClassVar[str] = "interface {}"


class StringMap(GoMap):
    """A Go ``map[string]string``."""

    go_type = "map[string]string"
    elem_type = "string"


class Uint8(int):
    """A Go ``uint8`` (byte): what ``index`` of a string yields."""

    go_type: ClassVar[str] = "uint8"


_SCALAR_TYPES: dict[type, str] = {
    bool: "bool",
    int: "int",
    float: "float64",
    complex: "complex128",
    str: "string",
    bytes: "[]uint8",
    bytearray: "[]uint8",
    type(None): "<nil>",
}


def go_type_name(value: Any) -> str:
    """The Go type name of a value, as ``%T`` and error messages print it."""
    cls = type(value)
    name = _SCALAR_TYPES.get(cls)
    if name is not None:
        return name
    declared = getattr(cls, "go_type", None)
    if isinstance(declared, str):
        return declared
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, BaseException):
        return "*errors.errorString"
    if callable(value) and not hasattr(value, "__dict__"):
        return "func"
    return f"main.{cls.__name__}"


def is_struct(value: Any) -> bool:
    """True for values that behave as Go structs: dataclass instances."""
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def struct_fields(value: Any) -> list[tuple[str, Any]]:
    """The (name, value) pairs of a struct, in declaration order."""
    return [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]
