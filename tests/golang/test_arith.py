"""confpy.golang.arith: Go's int64 arithmetic (recorded with Go 1.19 for confd's add, sub,
mul, div and mod, which are these operations; moved here from the function map's tests)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from confpy.golang.arith import INT64_MAX, INT64_MIN, quo, rem, wrap64

OPERATIONS: dict[str, Callable[[int, int], int]] = {
    "add": lambda a, b: wrap64(a + b),
    "sub": lambda a, b: wrap64(a - b),
    "mul": lambda a, b: wrap64(a * b),
    "div": lambda a, b: wrap64(quo(a, b)),
    "mod": rem,
}


@pytest.mark.parametrize(
    ("name", "a", "b", "expected"),
    [
        ("add", 9223372036854775807, 1, -9223372036854775808),  # int64 wraps, as in Go
        ("mul", 4611686018427387904, 4, 0),
        ("mul", 3037000500, 3037000500, -9223372036709301616),
        ("sub", -9223372036854775808, 1, 9223372036854775807),
        ("div", -7, 2, -3),  # truncating
        ("div", 7, -2, -3),
        ("mod", -7, 3, -1),  # the sign of the dividend
        ("mod", 7, -3, 1),
        ("div", -9223372036854775808, -1, -9223372036854775808),
        ("mod", -9223372036854775808, -1, 0),
        ("add", 1, 2, 3),
        ("mul", 6, 7, 42),
    ],
)
def test_go_int64_arithmetic(name: str, a: int, b: int, expected: int) -> None:
    assert OPERATIONS[name](a, b) == expected


def test_bounds_and_division_by_zero() -> None:
    assert (INT64_MIN, INT64_MAX) == (-(2**63), 2**63 - 1)
    assert wrap64(INT64_MAX + 1) == INT64_MIN and wrap64(INT64_MIN - 1) == INT64_MAX
    assert [quo(7, 2), quo(-7, 2), quo(7, -2), quo(-7, -2)] == [3, -3, -3, 3]
    assert [rem(7, 2), rem(-7, 2), rem(7, -2), rem(-7, -2)] == [1, -1, 1, -1]
    with pytest.raises(ZeroDivisionError):
        quo(1, 0)
