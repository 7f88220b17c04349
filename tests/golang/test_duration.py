"""confpy.golang.duration against Go 1.19's time.ParseDuration and Duration.String.

``recorded/time.json`` (``recorder/``; how to re-record: ``go_recorded.py``) holds both
for hostile inputs: bare numbers, signs, fractions, every unit, overflow, bytes that are
not UTF-8. The table after it was recorded earlier for ``datetime``'s Sub and moved here.
"""

from __future__ import annotations

from typing import Any

import pytest
from go_recorded import go_str, load, replay

from confpy.golang.duration import Duration, DurationError, parse_duration

RECORDED = load("time")


def _parse_answers(s: Any, nanoseconds: int | None, error: str | None) -> tuple[Any, Any]:
    try:
        return (nanoseconds, error), (parse_duration(go_str(s)), None)
    except DurationError as exc:
        return (nanoseconds, error), (None, str(exc))


def test_parse_duration_and_string_recorded() -> None:
    replay(RECORDED["ParseDuration"], _parse_answers)
    replay(RECORDED["DurationString"], lambda nanoseconds, text: (text, Duration(nanoseconds).String()))


def test_missing_unit_is_the_message_a_user_sees() -> None:
    with pytest.raises(DurationError, match=r'^time: missing unit in duration "100"$'):
        parse_duration("100")
    assert parse_duration("0") == 0 and parse_duration("-0") == 0


def test_round_trip() -> None:
    for nanoseconds in (1, 999, 1500, 1_234_567, 3_723_000_000_005, -5_400_000_000_000):
        assert parse_duration(Duration(nanoseconds).String()) == nanoseconds


@pytest.mark.parametrize(
    ("nanos", "text"),
    [
        (0, "0s"),
        (1, "1ns"),
        (999, "999ns"),
        (1000, "1µs"),
        (1500, "1.5µs"),
        (999999, "999.999µs"),
        (1000000, "1ms"),
        (1234567, "1.234567ms"),
        (999999999, "999.999999ms"),
        (1000000000, "1s"),
        (1500000000, "1.5s"),
        (61000000000, "1m1s"),
        (3723000000005, "1h2m3.000000005s"),
        (360000000000000, "100h0m0s"),
        (-5400000000000, "-1h30m0s"),
        (-1, "-1ns"),
        (9223372036854775807, "2562047h47m16.854775807s"),
        (-9223372036854775808, "-2562047h47m16.854775808s"),
    ],
)
def test_duration_string(nanos: int, text: str) -> None:
    assert Duration(nanos).String() == text
