"""Go's ``time.Time``: what confd's ``datetime`` (``time.Now``) returns to templates.

``GoTime`` prints like Go (``String()``), formats with Go's layout language (``Format``)
and offers the methods templates call (``Unix``, ``Year``, ``Add``, ``AddDate`` ...).
One deliberate divergence: ``String()`` never has Go's monotonic-clock suffix
(`` m=+0.0137``), so a rendered ``{{datetime}}`` doesn't carry process-specific noise.

Civil dates are computed with integer arithmetic (any year, like Go); only the zone
offset and abbreviation come from Python's ``zoneinfo``, which reads the same TZif data
Go does. ``local_zone`` picks the zone the way Go's ``time.Local`` does (``TZ``).
``time.Duration`` lives in ``duration.py``: flag parsing needs it, and must not pay for
``datetime`` and ``zoneinfo``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from typing import ClassVar
from zoneinfo import ZoneInfo

from .arith import INT64_MAX, INT64_MIN, quo, rem, wrap64
from .duration import Duration

__all__ = ["UTC", "GoTime", "Month", "Weekday", "fixed_zone", "local_zone"]

UTC: tzinfo = timezone.utc
_NS = 1_000_000_000
_DAY = 86_400
# Python's datetime only spans years 1..9999: zone lookups outside use the nearest edge.
_LOOKUP_MIN, _LOOKUP_MAX = -62_135_596_800 + 2 * _DAY, 253_402_300_799 - 2 * _DAY
_ZERO_UNIX = -62_135_596_800  # Go's zero Time: January 1, year 1, 00:00:00 UTC

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def _go_int(x: int, width: int) -> str:
    """Go's time.appendInt: a sign, then the digits zero-padded to ``width``."""
    return f"{'-' if x < 0 else ''}{abs(x):0{width}d}"


# --- zones -----------------------------------------------------------------------


def fixed_zone(name: str, offset: int) -> tzinfo:
    """``time.FixedZone``: a zone always ``offset`` seconds east of UTC, named ``name``."""
    return timezone(timedelta(seconds=offset), name)


def _zone_file(path: str) -> tzinfo:
    with open(path, "rb") as file:
        return ZoneInfo.from_file(file, key=path)


def local_zone(environ: Mapping[str, str] | None = None) -> tzinfo:
    """Go's ``time.Local``: TZ unset means /etc/localtime, ``TZ=""`` means UTC,
    ``TZ=Area/City`` or ``TZ=:/abs/path`` a zone file; anything unloadable falls back
    to UTC (Go does not interpret POSIX rule strings like ``EST5`` either)."""
    env = os.environ if environ is None else environ
    tz = env.get("TZ")
    try:
        if tz is None:
            return _zone_file("/etc/localtime")
        tz = tz.removeprefix(":")
        if tz.startswith("/"):
            return _zone_file(tz)
        if tz and tz != "UTC":
            return ZoneInfo(tz)
    except (OSError, ValueError, KeyError):  # KeyError: ZoneInfoNotFoundError
        pass
    return UTC


def _zone_at(zone: tzinfo, unix: int) -> tuple[str, int]:
    """The zone's abbreviation and offset (seconds east) in effect at ``unix``."""
    if zone is UTC:
        return "UTC", 0
    moment = datetime.fromtimestamp(min(max(unix, _LOOKUP_MIN), _LOOKUP_MAX), zone)
    offset = moment.utcoffset()
    seconds = offset // timedelta(seconds=1) if offset is not None else 0
    return moment.tzname() or "", seconds


# --- calendar arithmetic (proleptic Gregorian, any year) ---------------------------


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01; linear in ``day``, so out-of-range days normalize."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month - 3 if month > 2 else month + 9) + 2) // 5 + day - 1
    return era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468


def _civil_from_days(days: int) -> tuple[int, int, int]:
    days += 719_468
    era = days // 146_097
    doe = days - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, doy - (153 * mp + 2) // 5 + 1


# --- small named types ---------------------------------------------------------------


class Month(int):
    """``time.Month``: an int that prints as its English name."""

    go_type: ClassVar[str] = "time.Month"

    def String(self) -> str:
        return _MONTHS[self - 1] if 1 <= self <= 12 else f"%!Month({int(self)})"


class Weekday(int):
    """``time.Weekday``: Sunday is 0."""

    go_type: ClassVar[str] = "time.Weekday"

    def String(self) -> str:
        return _DAYS[self] if 0 <= self <= 6 else f"%!Weekday({int(self)})"


# --- layouts ---------------------------------------------------------------------

_TZ_CHUNKS = {
    "-": ("-070000", "-07:00:00", "-0700", "-07:00", "-07"),
    "Z": ("Z070000", "Z07:00:00", "Z0700", "Z07:00", "Z07"),
}


def _lower_at(layout: str, i: int) -> bool:
    return i < len(layout) and "a" <= layout[i] <= "z"


def _next_std_chunk(layout: str) -> tuple[str, str, str]:
    """Go's nextStdChunk: (text before, the std element or "", the rest)."""
    n = len(layout)
    for i, c in enumerate(layout):
        std = ""
        if c == "J" and layout.startswith("Jan", i):
            if layout.startswith("January", i):
                std = "January"
            elif not _lower_at(layout, i + 3):  # "Janx" is text, not a month
                std = "Jan"
        elif c == "M":
            if layout.startswith("Mon", i):
                if layout.startswith("Monday", i):
                    std = "Monday"
                elif not _lower_at(layout, i + 3):
                    std = "Mon"
            if not std and layout.startswith("MST", i):
                std = "MST"
        elif c == "0":
            if i + 1 < n and "1" <= layout[i + 1] <= "6":
                std = layout[i : i + 2]
            elif layout.startswith("002", i):
                std = "002"
        elif c == "1":
            std = "15" if layout.startswith("15", i) else "1"
        elif c == "2":
            std = "2006" if layout.startswith("2006", i) else "2"
        elif c == "_":
            if layout.startswith("_2006", i):  # a literal _ and then the year
                return layout[: i + 1], "2006", layout[i + 5 :]
            if layout.startswith("_2", i):
                std = "_2"
            elif layout.startswith("__2", i):
                std = "__2"
        elif c in "345":
            std = c
        elif c == "P" and layout.startswith("PM", i):
            std = "PM"
        elif c == "p" and layout.startswith("pm", i):
            std = "pm"
        elif c in _TZ_CHUNKS:
            std = next((t for t in _TZ_CHUNKS[c] if layout.startswith(t, i)), "")
        elif c in ".," and i + 1 < n and layout[i + 1] in "09":
            j = i + 1
            while j < n and layout[j] == layout[i + 1]:
                j += 1
            if not (j < n and "0" <= layout[j] <= "9"):  # the digits must end here
                std = layout[i:j]
        if std:
            return layout[:i], std, layout[i + len(std) :]
    return layout, "", ""


def _format_zone(std: str, name: str, offset: int) -> str:
    if std == "MST":
        if name:
            return name
        zone = quo(offset, 60)  # no abbreviation known: print -0700 style
        return (
            f"{'-' if zone < 0 else '+'}{_go_int(abs(zone) // 60, 2)}{_go_int(abs(zone) % 60, 2)}"
        )
    if std[0] == "Z" and offset == 0:
        return "Z"
    zone, absoffset = quo(offset, 60), offset
    sign = "+"
    if zone < 0:
        sign, zone, absoffset = "-", -zone, -absoffset
    text = sign + _go_int(zone // 60, 2)
    body = std[1:]  # "0700", "07:00", "07", "070000", "07:00:00"
    if ":" in body:
        text += ":"
    if body != "07":
        text += _go_int(zone % 60, 2)
    if len(body) in (6, 8):
        text += (":" if ":" in body else "") + _go_int(rem(absoffset, 60), 2)
    return text


class GoTime:
    """A Go ``time.Time``: an instant (Unix seconds + nanoseconds) in a zone."""

    go_type: ClassVar[str] = "time.Time"
    __slots__ = ("_nsec", "_sec", "_zone")

    def __init__(self, sec: int, nsec: int = 0, zone: tzinfo = UTC) -> None:
        carry, nsec = divmod(nsec, _NS)
        self._sec = sec + carry
        self._nsec = nsec
        self._zone = zone

    @classmethod
    def now(cls, zone: tzinfo | None = None) -> GoTime:
        """``time.Now()`` in ``zone`` (default: ``local_zone()``)."""
        ns = time.time_ns()
        return cls(ns // _NS, ns % _NS, local_zone() if zone is None else zone)

    @classmethod
    def date(
        cls,
        year: int,
        month: int,
        day: int,
        hour: int = 0,
        minute: int = 0,
        sec: int = 0,
        nsec: int = 0,
        zone: tzinfo = UTC,
    ) -> GoTime:
        """``time.Date``: out-of-range fields normalize (October 32 is November 1)."""
        year += (month - 1) // 12
        month = (month - 1) % 12 + 1
        local = _days_from_civil(year, month, day) * _DAY + hour * 3600 + minute * 60 + sec
        local += nsec // _NS
        # Go looks the offset up at the local time taken as UTC, then again at the
        # corrected instant; the second answer wins (this settles DST gaps and overlaps).
        offset = _zone_at(zone, local)[1]
        if offset:
            offset = _zone_at(zone, local - offset)[1]
        return cls(local - offset, nsec % _NS, zone)

    def __repr__(self) -> str:
        return f"GoTime({self.String()!r})"

    def _fields(self) -> tuple[str, int, int, int, int, int]:
        """(zone name, offset, days since epoch, seconds of day, local year, month)."""
        name, offset = _zone_at(self._zone, self._sec)
        days, secs = divmod(self._sec + offset, _DAY)
        year, month, _ = _civil_from_days(days)
        return name, offset, days, secs, year, month

    # --- printing

    def String(self) -> str:
        """Go's ``Time.String()`` without the monotonic-clock suffix."""
        return self.Format("2006-01-02 15:04:05.999999999 -0700 MST")

    def Format(self, layout: str) -> str:
        """Go's ``Time.Format`` with the full layout language."""
        name, offset, days, secs = self._fields()[:4]
        year, month, day = _civil_from_days(days)
        yday = days - _days_from_civil(year, 1, 1) + 1
        hour, minute, second = secs // 3600, secs // 60 % 60, secs % 60
        hour12 = hour % 12 or 12
        values = {
            "2006": _go_int(year, 4), "06": _go_int(abs(year) % 100, 2),
            "Jan": _MONTHS[month - 1][:3], "January": _MONTHS[month - 1],
            "1": str(month), "01": _go_int(month, 2),
            "Mon": _DAYS[(days + 4) % 7][:3], "Monday": _DAYS[(days + 4) % 7],
            "2": str(day), "_2": f"{day:2d}", "02": _go_int(day, 2),
            "__2": f"{yday:3d}", "002": _go_int(yday, 3),
            "15": _go_int(hour, 2), "3": str(hour12), "03": _go_int(hour12, 2),
            "4": str(minute), "04": _go_int(minute, 2),
            "5": str(second), "05": _go_int(second, 2),
            "PM": "PM" if hour >= 12 else "AM", "pm": "pm" if hour >= 12 else "am",
        }  # fmt: skip
        out: list[str] = []
        while layout:
            prefix, std, layout = _next_std_chunk(layout)
            out.append(prefix)
            if not std:
                break
            if std in values:
                out.append(values[std])
            elif std[0] in ".,":
                digits = f"{self._nsec:09d}"[: min(len(std) - 1, 9)]
                if std[1] == "9":
                    digits = digits.rstrip("0")
                if digits:
                    out.append(std[0] + digits)
            else:
                out.append(_format_zone(std, name, offset))
        return "".join(out)

    # --- fields

    def Unix(self) -> int:
        return self._sec

    def UnixMilli(self) -> int:
        return wrap64(self._sec * 1000 + self._nsec // 1_000_000)

    def UnixMicro(self) -> int:
        return wrap64(self._sec * 1_000_000 + self._nsec // 1000)

    def UnixNano(self) -> int:
        return wrap64(self._sec * _NS + self._nsec)

    def Year(self) -> int:
        return self._fields()[4]

    def Month(self) -> Month:
        return Month(self._fields()[5])

    def Day(self) -> int:
        return _civil_from_days(self._fields()[2])[2]

    def Hour(self) -> int:
        return self._fields()[3] // 3600

    def Minute(self) -> int:
        return self._fields()[3] // 60 % 60

    def Second(self) -> int:
        return self._fields()[3] % 60

    def Nanosecond(self) -> int:
        return self._nsec

    def Weekday(self) -> Weekday:
        return Weekday((self._fields()[2] + 4) % 7)

    def YearDay(self) -> int:
        days, year = self._fields()[2], self._fields()[4]
        return days - _days_from_civil(year, 1, 1) + 1

    def IsZero(self) -> bool:
        return self._sec == _ZERO_UNIX and self._nsec == 0

    # --- zones and arithmetic

    def UTC(self) -> GoTime:
        return GoTime(self._sec, self._nsec, UTC)

    def Local(self) -> GoTime:
        return GoTime(self._sec, self._nsec, local_zone())

    def In(self, zone: tzinfo) -> GoTime:
        return GoTime(self._sec, self._nsec, zone)

    def Add(self, d: int) -> GoTime:
        """The time plus ``d`` nanoseconds (a Go Duration)."""
        return GoTime(self._sec, self._nsec + d, self._zone)

    def Sub(self, u: GoTime) -> Duration:
        """``t - u`` as a Duration, saturated to the int64 range as Go does."""
        d = (self._sec - u._sec) * _NS + self._nsec - u._nsec
        return Duration(min(max(d, INT64_MIN), INT64_MAX))

    def AddDate(self, years: int, months: int, days: int) -> GoTime:
        """Go's AddDate: add to the calendar fields, then normalize like ``time.Date``."""
        _, _, day_count, secs, year, month = self._fields()
        day = _civil_from_days(day_count)[2]
        return GoTime.date(
            year + years, month + months, day + days,
            secs // 3600, secs // 60 % 60, secs % 60, self._nsec, self._zone,
        )  # fmt: skip

    def Before(self, u: GoTime) -> bool:
        return (self._sec, self._nsec) < (u._sec, u._nsec)

    def After(self, u: GoTime) -> bool:
        return (self._sec, self._nsec) > (u._sec, u._nsec)

    def Equal(self, u: GoTime) -> bool:
        return (self._sec, self._nsec) == (u._sec, u._nsec)
