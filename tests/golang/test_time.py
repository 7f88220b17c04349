"""GoTime against Go 1.19's time package.

Every expected string was printed by a throwaway Go program (time.Date with fixed
instants, the layouts below, Add/AddDate/Sub/Duration) and pasted here.
"""

from __future__ import annotations

import os
import time
from datetime import timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from confpy.golang.duration import Duration
from confpy.golang.time import UTC, GoTime, Month, Weekday, fixed_zone, local_zone

try:
    ZONES = {
        name: ZoneInfo(name)
        for name in ("America/New_York", "Africa/Monrovia", "Asia/Kolkata", "Pacific/Chatham",
                     "America/Sao_Paulo", "Europe/Paris", "Asia/Tokyo")
    }  # fmt: skip
except ZoneInfoNotFoundError:  # no tz database: the zone tests cannot run
    ZONES = {}
needs_tzdata = pytest.mark.skipif(not ZONES, reason="no IANA time zone database")


def _instants() -> list[GoTime]:
    ny = ZONES["America/New_York"]
    return [
        GoTime.date(2026, 11, 25, 16, 44, 20, 123456789, UTC),
        GoTime.date(2009, 2, 3, 4, 5, 6, 100000000, ny),
        GoTime.date(2026, 7, 4, 0, 0, 0, 0, ny),
        GoTime.date(1970, 1, 1, 12, 30, 0, 1, ZONES["Africa/Monrovia"]),  # -0:44:30
        GoTime.date(2026, 1, 5, 23, 59, 59, 999000000, ZONES["Asia/Kolkata"]),
        GoTime.date(5, 3, 1, 8, 9, 10, 0, UTC),
        GoTime.date(2026, 3, 9, 12, 0, 0, 0, ZONES["Pacific/Chatham"]),
        GoTime.date(2024, 2, 29, 6, 7, 8, 0, ZONES["America/Sao_Paulo"]),  # abbreviation "-03"
        GoTime.date(2026, 11, 25, 1, 2, 3, 4, fixed_zone("", -(3600 + 1800 + 15))),
        GoTime.date(2026, 12, 31, 13, 0, 0, 0, UTC),
        GoTime.date(2024, 12, 31, 13, 0, 0, 0, UTC),
        GoTime.date(-44, 3, 15, 0, 0, 0, 0, UTC),
        GoTime.date(12345, 1, 1, 0, 0, 0, 0, UTC),
    ]


# layout -> T0.Format(layout), recorded from Go 1.19
T0_FORMATS = [
    ("2006-01-02 15:04:05.999999999 -0700 MST", "2026-11-25 16:44:20.123456789 +0000 UTC"),
    ("Mon Jan _2 15:04:05 2006", "Wed Nov 25 16:44:20 2026"),
    ("Mon Jan _2 15:04:05 MST 2006", "Wed Nov 25 16:44:20 UTC 2026"),
    ("Mon Jan 02 15:04:05 -0700 2006", "Wed Nov 25 16:44:20 +0000 2026"),
    ("02 Jan 06 15:04 MST", "25 Nov 26 16:44 UTC"),
    ("02 Jan 06 15:04 -0700", "25 Nov 26 16:44 +0000"),
    ("Monday, 02-Jan-06 15:04:05 MST", "Wednesday, 25-Nov-26 16:44:20 UTC"),
    ("Mon, 02 Jan 2006 15:04:05 MST", "Wed, 25 Nov 2026 16:44:20 UTC"),
    ("Mon, 02 Jan 2006 15:04:05 -0700", "Wed, 25 Nov 2026 16:44:20 +0000"),
    ("2006-01-02T15:04:05Z07:00", "2026-11-25T16:44:20Z"),
    ("2006-01-02T15:04:05.999999999Z07:00", "2026-11-25T16:44:20.123456789Z"),
    ("3:04PM", "4:44PM"),
    ("Jan _2 15:04:05", "Nov 25 16:44:20"),
    ("Jan _2 15:04:05.000", "Nov 25 16:44:20.123"),
    ("Jan _2 15:04:05.000000", "Nov 25 16:44:20.123456"),
    ("Jan _2 15:04:05.000000000", "Nov 25 16:44:20.123456789"),
    ("2006", "2026"),
    ("06", "26"),
    ("01", "11"),
    ("1", "11"),
    ("Jan", "Nov"),
    ("January", "November"),
    ("02", "25"),
    ("2", "25"),
    ("_2", "25"),
    ("15", "16"),
    ("03", "04"),
    ("3", "4"),
    ("04", "44"),
    ("4", "44"),
    ("05", "20"),
    ("5", "20"),
    ("PM", "PM"),
    ("pm", "pm"),
    ("MST", "UTC"),
    ("-0700", "+0000"),
    ("-07:00", "+00:00"),
    ("-07", "+00"),
    ("-070000", "+000000"),
    ("-07:00:00", "+00:00:00"),
    ("Z0700", "Z"),
    ("Z07:00", "Z"),
    ("Z07", "Z"),
    ("Z070000", "Z"),
    ("Z07:00:00", "Z"),
    (".000", ".123"),
    (".999", ".123"),
    (",000", ",123"),
    (",999", ",123"),
    (".0", ".1"),
    (".9", ".1"),
    (".000000000000", ".123456789"),
    (".99999999999", ".123456789"),
    ("002", "329"),
    ("__2", "329"),
    ("Monday", "Wednesday"),
    ("Mon", "Wed"),
    ("Month", "Month"),
    ("Jan2", "Nov25"),
    ("Janx", "Janx"),
    ("Monx", "Monx"),
    ("MonDay", "WedDay"),
    ("_2006", "_2026"),
    ("__2006", "329026"),
    ("2006-002", "2026-329"),
    ("15.000x", "16.123x"),
    (".0001", ".0011"),
    ("05.0009", "20.0009"),
    ("1.000", "11.123"),
    ("Z", "Z"),
    ("-", "-"),
    ("--07", "-+00"),
    ("Tuesday", "Tuesday"),
    ("Mo", "Mo"),
    ("J", "J"),
    ("2006/01/02", "2026/11/25"),
    ("", ""),
    ("hello", "hello"),
    ("é2006", "é2026"),
    ("pM", "pM"),
    ("PMpm", "PMpm"),
    ("20066", "20266"),
    ("060102", "261125"),
    ("150405", "164420"),
    (".99a", ".12a"),
    (".00,00", ".12,12"),
    ("_", "_"),
    ("__", "__"),
    ("___2", "_329"),
    ("Z07:0", "Z:0"),
    ("-07:0", "+00:0"),
    ("Janu", "Janu"),
    ("MS", "MS"),
    ("Jan_2", "Nov25"),
    ("05.", "20."),
    ("05,9", "20,1"),
    ("5.99", "20.12"),
    ("Mon Jan  2", "Wed Nov  25"),
]

# (instant index, layout, Go's result)
OTHER_FORMATS = [
    (1, "2006-01-02 15:04:05.999999999 -0700 MST", "2009-02-03 04:05:06.1 -0500 EST"),
    (1, "Mon Jan _2 15:04:05 MST 2006", "Tue Feb  3 04:05:06 EST 2009"),
    (1, "2006-01-02T15:04:05.999999999Z07:00", "2009-02-03T04:05:06.1-05:00"),
    (1, "3:04PM", "4:05AM"),
    (1, "2006", "2009"),
    (1, "06", "09"),
    (1, "January", "February"),
    (1, "_2", " 3"),
    (1, "03", "04"),
    (1, "PM", "AM"),
    (1, "MST", "EST"),
    (1, "-0700", "-0500"),
    (1, "-07", "-05"),
    (1, "-07:00:00", "-05:00:00"),
    (1, "Z07:00", "-05:00"),
    (1, "Z07", "-05"),
    (1, "Z070000", "-050000"),
    (1, ".000", ".100"),
    (1, ".999", ".1"),
    (1, "002", "034"),
    (1, "__2", " 34"),
    (1, "Monday", "Tuesday"),
    (2, "2006-01-02 15:04:05.999999999 -0700 MST", "2026-07-04 00:00:00 -0400 EDT"),
    (2, "Mon Jan _2 15:04:05 MST 2006", "Sat Jul  4 00:00:00 EDT 2026"),
    (2, "2006-01-02T15:04:05.999999999Z07:00", "2026-07-04T00:00:00-04:00"),
    (2, "3:04PM", "12:00AM"),
    (2, "2006", "2026"),
    (2, "06", "26"),
    (2, "January", "July"),
    (2, "_2", " 4"),
    (2, "03", "12"),
    (2, "PM", "AM"),
    (2, "MST", "EDT"),
    (2, "-0700", "-0400"),
    (2, "-07", "-04"),
    (2, "-07:00:00", "-04:00:00"),
    (2, "Z07:00", "-04:00"),
    (2, "Z07", "-04"),
    (2, "Z070000", "-040000"),
    (2, ".000", ".000"),
    (2, ".999", ""),
    (2, "002", "185"),
    (2, "__2", "185"),
    (2, "Monday", "Saturday"),
    (3, "2006-01-02 15:04:05.999999999 -0700 MST", "1970-01-01 12:30:00.000000001 -0044 MMT"),
    (3, "Mon Jan _2 15:04:05 MST 2006", "Thu Jan  1 12:30:00 MMT 1970"),
    (3, "2006-01-02T15:04:05.999999999Z07:00", "1970-01-01T12:30:00.000000001-00:44"),
    (3, "3:04PM", "12:30PM"),
    (3, "2006", "1970"),
    (3, "06", "70"),
    (3, "January", "January"),
    (3, "_2", " 1"),
    (3, "03", "12"),
    (3, "PM", "PM"),
    (3, "MST", "MMT"),
    (3, "-0700", "-0044"),
    (3, "-07", "-00"),
    (3, "-07:00:00", "-00:44:30"),
    (3, "Z07:00", "-00:44"),
    (3, "Z07", "-00"),
    (3, "Z070000", "-004430"),
    (3, ".000", ".000"),
    (3, ".999", ""),
    (3, "002", "001"),
    (3, "__2", "  1"),
    (3, "Monday", "Thursday"),
    (4, "2006-01-02 15:04:05.999999999 -0700 MST", "2026-01-05 23:59:59.999 +0530 IST"),
    (4, "Mon Jan _2 15:04:05 MST 2006", "Mon Jan  5 23:59:59 IST 2026"),
    (4, "2006-01-02T15:04:05.999999999Z07:00", "2026-01-05T23:59:59.999+05:30"),
    (4, "3:04PM", "11:59PM"),
    (4, "2006", "2026"),
    (4, "06", "26"),
    (4, "January", "January"),
    (4, "_2", " 5"),
    (4, "03", "11"),
    (4, "PM", "PM"),
    (4, "MST", "IST"),
    (4, "-0700", "+0530"),
    (4, "-07", "+05"),
    (4, "-07:00:00", "+05:30:00"),
    (4, "Z07:00", "+05:30"),
    (4, "Z07", "+05"),
    (4, "Z070000", "+053000"),
    (4, ".000", ".999"),
    (4, ".999", ".999"),
    (4, "002", "005"),
    (4, "__2", "  5"),
    (4, "Monday", "Monday"),
    (5, "2006-01-02 15:04:05.999999999 -0700 MST", "0005-03-01 08:09:10 +0000 UTC"),
    (5, "Mon Jan _2 15:04:05 MST 2006", "Tue Mar  1 08:09:10 UTC 0005"),
    (5, "2006-01-02T15:04:05.999999999Z07:00", "0005-03-01T08:09:10Z"),
    (5, "3:04PM", "8:09AM"),
    (5, "2006", "0005"),
    (5, "06", "05"),
    (5, "January", "March"),
    (5, "_2", " 1"),
    (5, "03", "08"),
    (5, "PM", "AM"),
    (5, "MST", "UTC"),
    (5, "-0700", "+0000"),
    (5, "-07", "+00"),
    (5, "-07:00:00", "+00:00:00"),
    (5, "Z07:00", "Z"),
    (5, "Z07", "Z"),
    (5, "Z070000", "Z"),
    (5, ".000", ".000"),
    (5, ".999", ""),
    (5, "002", "060"),
    (5, "__2", " 60"),
    (5, "Monday", "Tuesday"),
    (6, "2006-01-02 15:04:05.999999999 -0700 MST", "2026-03-09 12:00:00 +1345 +1345"),
    (6, "Mon Jan _2 15:04:05 MST 2006", "Mon Mar  9 12:00:00 +1345 2026"),
    (6, "2006-01-02T15:04:05.999999999Z07:00", "2026-03-09T12:00:00+13:45"),
    (6, "3:04PM", "12:00PM"),
    (6, "2006", "2026"),
    (6, "06", "26"),
    (6, "January", "March"),
    (6, "_2", " 9"),
    (6, "03", "12"),
    (6, "PM", "PM"),
    (6, "MST", "+1345"),
    (6, "-0700", "+1345"),
    (6, "-07", "+13"),
    (6, "-07:00:00", "+13:45:00"),
    (6, "Z07:00", "+13:45"),
    (6, "Z07", "+13"),
    (6, "Z070000", "+134500"),
    (6, ".000", ".000"),
    (6, ".999", ""),
    (6, "002", "068"),
    (6, "__2", " 68"),
    (6, "Monday", "Monday"),
    (7, "2006-01-02 15:04:05.999999999 -0700 MST", "2024-02-29 06:07:08 -0300 -03"),
    (7, "Mon Jan _2 15:04:05 MST 2006", "Thu Feb 29 06:07:08 -03 2024"),
    (7, "2006-01-02T15:04:05.999999999Z07:00", "2024-02-29T06:07:08-03:00"),
    (7, "3:04PM", "6:07AM"),
    (7, "2006", "2024"),
    (7, "06", "24"),
    (7, "January", "February"),
    (7, "_2", "29"),
    (7, "03", "06"),
    (7, "PM", "AM"),
    (7, "MST", "-03"),
    (7, "-0700", "-0300"),
    (7, "-07", "-03"),
    (7, "-07:00:00", "-03:00:00"),
    (7, "Z07:00", "-03:00"),
    (7, "Z07", "-03"),
    (7, "Z070000", "-030000"),
    (7, ".000", ".000"),
    (7, ".999", ""),
    (7, "002", "060"),
    (7, "__2", " 60"),
    (7, "Monday", "Thursday"),
    (8, "2006-01-02 15:04:05.999999999 -0700 MST", "2026-11-25 01:02:03.000000004 -0130 -0130"),
    (8, "Mon Jan _2 15:04:05 MST 2006", "Wed Nov 25 01:02:03 -0130 2026"),
    (8, "2006-01-02T15:04:05.999999999Z07:00", "2026-11-25T01:02:03.000000004-01:30"),
    (8, "3:04PM", "1:02AM"),
    (8, "2006", "2026"),
    (8, "06", "26"),
    (8, "January", "November"),
    (8, "_2", "25"),
    (8, "03", "01"),
    (8, "PM", "AM"),
    (8, "MST", "-0130"),
    (8, "-0700", "-0130"),
    (8, "-07", "-01"),
    (8, "-07:00:00", "-01:30:15"),
    (8, "Z07:00", "-01:30"),
    (8, "Z07", "-01"),
    (8, "Z070000", "-013015"),
    (8, ".000", ".000"),
    (8, ".999", ""),
    (8, "002", "329"),
    (8, "__2", "329"),
    (8, "Monday", "Wednesday"),
    (9, "2006-01-02 15:04:05.999999999 -0700 MST", "2026-12-31 13:00:00 +0000 UTC"),
    (9, "Mon Jan _2 15:04:05 MST 2006", "Thu Dec 31 13:00:00 UTC 2026"),
    (9, "2006-01-02T15:04:05.999999999Z07:00", "2026-12-31T13:00:00Z"),
    (9, "3:04PM", "1:00PM"),
    (9, "2006", "2026"),
    (9, "06", "26"),
    (9, "January", "December"),
    (9, "_2", "31"),
    (9, "03", "01"),
    (9, "PM", "PM"),
    (9, "MST", "UTC"),
    (9, "-0700", "+0000"),
    (9, "-07", "+00"),
    (9, "-07:00:00", "+00:00:00"),
    (9, "Z07:00", "Z"),
    (9, "Z07", "Z"),
    (9, "Z070000", "Z"),
    (9, ".000", ".000"),
    (9, ".999", ""),
    (9, "002", "365"),
    (9, "__2", "365"),
    (9, "Monday", "Thursday"),
    (10, "2006-01-02 15:04:05.999999999 -0700 MST", "2024-12-31 13:00:00 +0000 UTC"),
    (10, "Mon Jan _2 15:04:05 MST 2006", "Tue Dec 31 13:00:00 UTC 2024"),
    (10, "2006-01-02T15:04:05.999999999Z07:00", "2024-12-31T13:00:00Z"),
    (10, "3:04PM", "1:00PM"),
    (10, "2006", "2024"),
    (10, "06", "24"),
    (10, "January", "December"),
    (10, "_2", "31"),
    (10, "03", "01"),
    (10, "PM", "PM"),
    (10, "MST", "UTC"),
    (10, "-0700", "+0000"),
    (10, "-07", "+00"),
    (10, "-07:00:00", "+00:00:00"),
    (10, "Z07:00", "Z"),
    (10, "Z07", "Z"),
    (10, "Z070000", "Z"),
    (10, ".000", ".000"),
    (10, ".999", ""),
    (10, "002", "366"),
    (10, "__2", "366"),
    (10, "Monday", "Tuesday"),
    (11, "2006-01-02 15:04:05.999999999 -0700 MST", "-0044-03-15 00:00:00 +0000 UTC"),
    (11, "Mon Jan _2 15:04:05 MST 2006", "Thu Mar 15 00:00:00 UTC -0044"),
    (11, "2006-01-02T15:04:05.999999999Z07:00", "-0044-03-15T00:00:00Z"),
    (11, "3:04PM", "12:00AM"),
    (11, "2006", "-0044"),
    (11, "06", "44"),
    (11, "January", "March"),
    (11, "_2", "15"),
    (11, "03", "12"),
    (11, "PM", "AM"),
    (11, "MST", "UTC"),
    (11, "-0700", "+0000"),
    (11, "-07", "+00"),
    (11, "-07:00:00", "+00:00:00"),
    (11, "Z07:00", "Z"),
    (11, "Z07", "Z"),
    (11, "Z070000", "Z"),
    (11, ".000", ".000"),
    (11, ".999", ""),
    (11, "002", "075"),
    (11, "__2", " 75"),
    (11, "Monday", "Thursday"),
    (12, "2006-01-02 15:04:05.999999999 -0700 MST", "12345-01-01 00:00:00 +0000 UTC"),
    (12, "Mon Jan _2 15:04:05 MST 2006", "Mon Jan  1 00:00:00 UTC 12345"),
    (12, "2006-01-02T15:04:05.999999999Z07:00", "12345-01-01T00:00:00Z"),
    (12, "3:04PM", "12:00AM"),
    (12, "2006", "12345"),
    (12, "06", "45"),
    (12, "January", "January"),
    (12, "_2", " 1"),
    (12, "03", "12"),
    (12, "PM", "AM"),
    (12, "MST", "UTC"),
    (12, "-0700", "+0000"),
    (12, "-07", "+00"),
    (12, "-07:00:00", "+00:00:00"),
    (12, "Z07:00", "Z"),
    (12, "Z07", "Z"),
    (12, "Z070000", "Z"),
    (12, ".000", ".000"),
    (12, ".999", ""),
    (12, "002", "001"),
    (12, "__2", "  1"),
    (12, "Monday", "Monday"),
]


T0 = GoTime.date(2026, 11, 25, 16, 44, 20, 123456789, UTC)


@pytest.mark.parametrize(("layout", "expected"), T0_FORMATS)
def test_format_every_layout_element(layout: str, expected: str) -> None:
    assert T0.Format(layout) == expected


@needs_tzdata
@pytest.mark.parametrize(("index", "layout", "expected"), OTHER_FORMATS)
def test_format_in_zones_and_odd_years(index: int, layout: str, expected: str) -> None:
    assert _instants()[index].Format(layout) == expected


# (unix, UnixNano, Weekday, YearDay, Month) per instant, from Go
FIELDS = [
    (1795625060, 1795625060123456789, "Wednesday", 329, "November", 11),
    (1233651906, 1233651906100000000, "Tuesday", 34, "February", 2),
    (1783137600, 1783137600000000000, "Saturday", 185, "July", 7),
    (47670, 47670000000001, "Thursday", 1, "January", 1),
    (1767637799, 1767637799999000000, "Monday", 5, "January", 1),
    (-62004239450, -6664007228871345152, "Tuesday", 60, "March", 3),  # UnixNano wraps
    (1773008100, 1773008100000000000, "Monday", 68, "March", 3),
    (1709197628, 1709197628000000000, "Thursday", 60, "February", 2),
    (1795573938, 1795573938000000004, "Wednesday", 329, "November", 11),
    (1798722000, 1798722000000000000, "Thursday", 365, "December", 12),
    (1735650000, 1735650000000000000, "Tuesday", 366, "December", 12),
    (-63549360000, -8209127778871345152, "Thursday", 75, "March", 3),
    (327403382400, -4638010926771929088, "Monday", 1, "January", 1),
]


@needs_tzdata
@pytest.mark.parametrize("index", range(len(FIELDS)))
def test_fields(index: int) -> None:
    t = _instants()[index]
    unix, nano, weekday, yday, month_name, month = FIELDS[index]
    assert t.Unix() == unix
    assert t.UnixNano() == nano
    assert t.Weekday().String() == weekday
    assert t.YearDay() == yday
    assert t.Month().String() == month_name
    assert int(t.Month()) == month


def test_clock_fields() -> None:
    assert (T0.Year(), T0.Day(), T0.Hour(), T0.Minute(), T0.Second()) == (2026, 25, 16, 44, 20)
    assert T0.Nanosecond() == 123456789
    assert T0.UnixMilli() == 1795625060123
    assert T0.UnixMicro() == 1795625060123456
    assert isinstance(T0.Month(), Month) and T0.Month() == 11
    assert isinstance(T0.Weekday(), Weekday) and T0.Weekday() == 3


def test_string_has_no_monotonic_suffix() -> None:
    assert T0.String() == "2026-11-25 16:44:20.123456789 +0000 UTC"
    now = GoTime.now(UTC).String()
    assert " m=" not in now and now.endswith(" +0000 UTC")


def test_type_names() -> None:
    assert GoTime.go_type == "time.Time"
    assert Month.go_type == "time.Month" and Weekday.go_type == "time.Weekday"
    assert Duration.go_type == "time.Duration"


def test_add_and_add_date() -> None:
    assert T0.Add(90 * 60 * 10**9).String() == "2026-11-25 18:14:20.123456789 +0000 UTC"
    assert T0.Add(-123456790).String() == "2026-11-25 16:44:19.999999999 +0000 UTC"
    assert T0.AddDate(0, 1, 40).String() == "2027-02-03 16:44:20.123456789 +0000 UTC"
    assert T0.AddDate(-1, -11, -25).String() == "2024-11-30 16:44:20.123456789 +0000 UTC"


@needs_tzdata
def test_add_date_across_dst() -> None:
    summer = GoTime.date(2026, 7, 4, 0, 0, 0, 0, ZONES["America/New_York"])
    assert summer.AddDate(0, 0, 130).String() == "2026-11-11 00:00:00 -0500 EST"


def test_date_normalizes_like_go() -> None:
    assert (
        GoTime.date(2026, 13, 35, 25, 61, 61, 1000000005).String()
        == "2027-02-05 02:02:02.000000005 +0000 UTC"
    )
    assert (
        GoTime.date(2026, 0, 0, -1, -1, -1, -1).String()
        == "2025-11-29 22:58:58.999999999 +0000 UTC"
    )


@needs_tzdata
def test_date_in_dst_gap_and_overlap() -> None:
    ny = ZONES["America/New_York"]
    assert GoTime.date(2026, 3, 8, 2, 30, 0, 0, ny).String() == "2026-03-08 01:30:00 -0500 EST"
    assert GoTime.date(2026, 11, 1, 1, 30, 0, 0, ny).String() == "2026-11-01 01:30:00 -0400 EDT"


@needs_tzdata
def test_utc_and_in() -> None:
    t = _instants()[1]
    assert t.UTC().String() == "2009-02-03 09:05:06.1 +0000 UTC"
    assert T0.In(ZONES["America/New_York"]).String() == "2026-11-25 11:44:20.123456789 -0500 EST"


def test_sub_and_comparisons() -> None:
    other = GoTime.date(2026, 11, 25, 1, 2, 3, 4, fixed_zone("", -(3600 + 1800 + 15)))
    assert T0.Sub(other).String() == "14h12m2.123456785s"
    assert other.Sub(T0).String() == "-14h12m2.123456785s"
    assert other.Before(T0) and T0.After(other) and not T0.Before(other)
    assert T0.Equal(T0.In(fixed_zone("X", 3600))) and not T0.Equal(other)
    assert Duration(5400 * 10**9).Hours() == 1.5
    assert Duration(90 * 10**9).Minutes() == 1.5
    assert Duration(1500 * 10**6).Seconds() == 1.5
    assert Duration(1500 * 10**6).Milliseconds() == 1500


def test_out_of_range_names() -> None:
    assert Month(13).String() == "%!Month(13)"
    assert Weekday(7).String() == "%!Weekday(7)"


def test_zero_time() -> None:
    assert GoTime.date(1, 1, 1).IsZero()
    assert not T0.IsZero()
    assert GoTime.date(1, 1, 1).String() == "0001-01-01 00:00:00 +0000 UTC"


def test_now_is_now() -> None:
    now = GoTime.now(UTC)
    assert abs(now.Unix() - time.time()) < 5


# --- time.Local from TZ, as Go's initLocal reads it ------------------------------------


@needs_tzdata
@pytest.mark.parametrize(
    ("tz", "abbreviation"),
    [
        ("America/New_York", "EST"),
        (":Europe/Paris", "CET"),
        ("/usr/share/zoneinfo/Asia/Tokyo", "JST"),
        ("", "UTC"),  # TZ="" means UTC
        ("UTC", "UTC"),
        ("Nowhere/Bogus", "UTC"),  # unloadable: UTC
        ("EST5", "UTC"),  # POSIX rule strings are not zone files: Go falls back to UTC too
        ("../etc/passwd", "UTC"),
    ],
)
def test_local_zone_from_tz(tz: str, abbreviation: str) -> None:
    if tz.startswith("/") and not os.path.exists(tz):
        pytest.skip(f"{tz} not installed")
    zone = local_zone({"TZ": tz})
    assert GoTime(T0.Unix(), 0, zone).Format("MST") == abbreviation


def test_local_zone_without_tz_reads_etc_localtime() -> None:
    layout = "2006-01-02 15:04:05 -0700 MST"
    got = GoTime(T0.Unix(), 0, local_zone({})).Format(layout)
    if not os.path.exists("/etc/localtime"):
        assert got.endswith("+0000 UTC")
        return
    with open("/etc/localtime", "rb") as file:
        expected = GoTime(T0.Unix(), 0, ZoneInfo.from_file(file)).Format(layout)
    assert got == expected


def test_utc_prints_z_in_iso_layouts() -> None:
    assert UTC is timezone.utc
    assert GoTime(0).Format("2006-01-02T15:04:05Z07:00") == "1970-01-01T00:00:00Z"
    assert GoTime(0, 0, fixed_zone("", 0)).Format("Z0700 MST") == "Z +0000"
