"""Go's integer arithmetic (the spec's "Arithmetic operators") on int64: operations wrap
around on overflow, ``/`` truncates toward zero and ``%`` takes the sign of the dividend.

Python's ints never overflow and its ``//`` floors, hence these helpers.
"""

from __future__ import annotations

__all__ = ["INT64_MAX", "INT64_MIN", "quo", "rem", "wrap64"]

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


def wrap64(value: int) -> int:
    """Two's-complement int64 wrap-around, as Go's int64 arithmetic overflows."""
    return (value - INT64_MIN) % (1 << 64) + INT64_MIN


def quo(a: int, b: int) -> int:
    """Go's ``a / b``: truncated toward zero. ZeroDivisionError for ``b == 0`` (where Go
    panics with ``runtime error: integer divide by zero``)."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def rem(a: int, b: int) -> int:
    """Go's ``a % b``: ``a - b * quo(a, b)``, so the remainder has the dividend's sign."""
    return a - b * quo(a, b)
