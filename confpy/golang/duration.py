"""Go's ``time.Duration`` and ``time.ParseDuration``.

Apart from ``time.py`` (``time.Time``) because flags are parsed with it: a one-shot run
must not pay for ``datetime`` and ``zoneinfo``, which ``time.Time`` needs.
"""

from __future__ import annotations

import re
from typing import ClassVar

from .arith import quo, rem
from .strings import go_bytes

__all__ = ["Duration", "DurationError", "parse_duration"]

_NS = 1_000_000_000
_UNITS = {
    "ns": 1, "us": 1_000, "\u00b5s": 1_000, "\u03bcs": 1_000,  # micro sign, Greek mu
    "ms": 1_000_000, "s": _NS, "m": 60 * _NS, "h": 3600 * _NS,
}  # fmt: skip
_MAX = 1 << 63  # what Go's uint64 arithmetic in ParseDuration may reach


class Duration(int):
    """``time.Duration``: int64 nanoseconds, printed like ``1h2m3.5s``."""

    go_type: ClassVar[str] = "time.Duration"

    def String(self) -> str:
        u = abs(int(self))
        sign = "-" if self < 0 else ""
        if u == 0:
            return "0s"
        if u < _NS:  # below a second Go switches to smaller units: 1.5ms
            for limit, prec, unit in ((1_000, 0, "ns"), (1_000_000, 3, "µs"), (_NS, 6, "ms")):
                if u < limit:
                    frac, u = _fmt_frac(u, prec)
                    return f"{sign}{u}{frac}{unit}"
        frac, u = _fmt_frac(u, 9)
        text = f"{u % 60}{frac}s"
        u //= 60
        if u > 0:
            text = f"{u % 60}m{text}"
            u //= 60
            if u > 0:
                text = f"{u}h{text}"
        return sign + text

    def Hours(self) -> float:
        return quo(self, 3600 * _NS) + rem(self, 3600 * _NS) / (3600 * 1e9)

    def Minutes(self) -> float:
        return quo(self, 60 * _NS) + rem(self, 60 * _NS) / (60 * 1e9)

    def Seconds(self) -> float:
        return quo(self, _NS) + rem(self, _NS) / 1e9

    def Milliseconds(self) -> int:
        return quo(self, 1_000_000)


def _fmt_frac(u: int, prec: int) -> tuple[str, int]:
    """The fraction u / 10**prec without trailing zeros (or ""), and the integer part."""
    whole, frac = divmod(u, 10**prec)
    digits = f"{frac:0{prec}d}".rstrip("0") if prec else ""
    return (f".{digits}" if digits else ""), whole


class DurationError(ValueError):
    """An error of ``time.ParseDuration``; ``str()`` is Go's text."""


def _quote(s: str) -> str:
    """The time package's own quote: bytes outside printable ASCII as ``\\xNN``."""
    out = ['"']
    for b in go_bytes(s):
        if b >= 0x80 or b < 0x20:
            out.append(f"\\x{b:02x}")
        else:
            out.append("\\" + chr(b) if b in (0x22, 0x5C) else chr(b))
    out.append('"')
    return "".join(out)


_DIGITS = re.compile("[0-9]+")
_UNIT = re.compile("[^.0-9]+")


def _span(run: re.Pattern[str], s: str) -> int:
    """How many of the first characters of ``s`` ``run`` takes."""
    found = run.match(s)
    return found.end() if found else 0


def parse_duration(s: str) -> int:
    """``time.ParseDuration`` in nanoseconds: ``300ms``, ``-1.5h``, ``2h45m``.

    A number needs a unit (ns, us or µs, ms, s, m, h) except a lone ``0``; the result must
    fit in an int64. Raises ``DurationError`` with Go's text, such as ``time: missing unit
    in duration "100"``.
    """
    orig = s
    invalid = DurationError(f"time: invalid duration {_quote(orig)}")
    negative = s[:1] == "-"
    if s[:1] in ("-", "+"):
        s = s[1:]
    if s == "0":  # the one number without a unit
        return 0
    if s == "":
        raise invalid
    total = 0
    while s:
        if not (s[0] == "." or "0" <= s[0] <= "9"):
            raise invalid
        n = _span(_DIGITS, s)
        significant = s[:n].lstrip("0")
        if len(significant) > 19 or (significant and int(significant) > _MAX):
            raise invalid  # Go's leadingInt gives up past 1 << 63
        whole = int(significant) if significant else 0
        pre, s = n > 0, s[n:]
        fraction, scale, post = 0, 1.0, False
        if s[:1] == ".":
            n = _span(_DIGITS, s[1:])
            # Go's leadingFraction keeps the digits while they fit below 1 << 63.
            for digit in s[1 : n + 1]:
                if fraction > (_MAX - 1) // 10 or fraction * 10 + int(digit) > _MAX:
                    break
                fraction = fraction * 10 + int(digit)
                scale *= 10
            post, s = n > 0, s[n + 1 :]
        if not pre and not post:  # no digits: ".s" or "-.s"
            raise invalid
        n = _span(_UNIT, s)
        if n == 0:
            raise DurationError(f"time: missing unit in duration {_quote(orig)}")
        name, s = s[:n], s[n:]
        unit = _UNITS.get(name)
        if unit is None:
            raise DurationError(f"time: unknown unit {_quote(name)} in duration {_quote(orig)}")
        if whole > _MAX // unit:
            raise invalid
        value = whole * unit
        if fraction:
            # Go's float64 arithmetic, truncated: exact to the nanosecond for hours.
            value += int(float(fraction) * (float(unit) / scale))
            if value > _MAX:
                raise invalid
        total += value
        if total > _MAX:
            raise invalid
    if negative:
        return -total
    if total > _MAX - 1:
        raise invalid
    return total
