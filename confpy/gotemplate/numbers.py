"""Number literals as Go's text/template/parse reads them (``newNumber``): one literal
can stand for an int, a uint, a float and a complex at once."""

from __future__ import annotations

from ..golang.strconv import NumError, parse_float, parse_int, parse_uint, quote, unquote_char
from .lexer import TokenKind
from .nodes import NumberNode

__all__ = ["BadNumber", "make_number"]

K = TokenKind


class BadNumber(ValueError):
    """A number literal Go's newNumber refuses with its own words (not strconv's)."""


def make_number(pos: int, text: str, kind: TokenKind) -> NumberNode:
    """A NumberNode with every Go type the literal can stand for (Go's newNumber)."""
    node = NumberNode(pos, text)
    if kind == K.CHAR_CONSTANT:
        char, tail = unquote_char(text[1:], text[0])
        if tail != "'":
            raise BadNumber(f"malformed character constant: {text}")
        code = ord(char) if not "\udc80" <= char <= "\udcff" else ord(char) - 0xDC00
        node.is_int = node.is_uint = node.is_float = True
        node.int64 = node.uint64 = code
        node.float64 = float(code)
        return node
    if kind == K.COMPLEX:
        node.is_complex = True
        node.complex128 = _parse_complex(text)
        _simplify_complex(node)
        return node
    if text.endswith("i"):
        try:
            imag = parse_float(text[:-1])
        except NumError:
            pass
        else:
            node.is_complex = True
            node.complex128 = complex(0, imag)
            _simplify_complex(node)
            return node
    unsigned: int | None = None
    try:
        unsigned = parse_uint(text)
        node.is_uint, node.uint64 = True, unsigned
    except NumError:
        pass
    try:
        signed = parse_int(text)
        node.is_int, node.int64 = True, signed
        if signed == 0:  # -0 parses as a signed int only
            node.is_uint, node.uint64 = True, 0
    except NumError:
        pass
    if node.is_int:
        node.is_float, node.float64 = True, float(node.int64)
    elif node.is_uint:
        node.is_float, node.float64 = True, float(node.uint64)
    else:
        try:
            value = parse_float(text)
        except NumError:
            pass
        else:
            if not any(c in text for c in ".eEpP"):
                raise BadNumber(f"integer overflow: {quote(text)}")
            node.is_float, node.float64 = True, value
            if value.is_integer():
                as_int = int(value)
                if -(1 << 63) <= as_int < 1 << 63:
                    node.is_int, node.int64 = True, as_int
                if 0 <= as_int < 1 << 64:
                    node.is_uint, node.uint64 = True, as_int
    if not (node.is_int or node.is_uint or node.is_float):
        raise BadNumber(f"illegal number syntax: {quote(text)}")
    return node


def _parse_complex(text: str) -> complex:
    """fmt.Sscan of a complex literal such as ``1+2i`` or ``-1.5e3-0x1p2i``."""
    split = max(text.rfind("+"), text.rfind("-"))
    while split > 0 and text[split - 1] in "eEpP":  # a sign inside an exponent
        split = max(text.rfind("+", 0, split - 1), text.rfind("-", 0, split - 1))
    if split <= 0 or not text.endswith("i"):
        raise BadNumber(f"illegal number syntax: {quote(text)}")
    return complex(parse_float(text[:split]), parse_float(text[split:-1]))


def _simplify_complex(node: NumberNode) -> None:
    """A complex with no imaginary part is also a float, and maybe an int."""
    value = node.complex128
    node.is_float = value.imag == 0
    if node.is_float:
        node.float64 = value.real
        if value.real.is_integer():
            as_int = int(value.real)
            node.is_int = -(1 << 63) <= as_int < 1 << 63
            if node.is_int:
                node.int64 = as_int
            node.is_uint = 0 <= as_int < 1 << 64
            if node.is_uint:
                node.uint64 = as_int
