"""Go's ``flag`` package rules, as confd's command line follows them."""

from __future__ import annotations

import pytest

from confpy.goflag import Flag, FlagError, FlagSet, HelpRequested, InvalidValue
from confpy.settings import build_flagset


@pytest.fixture()
def flags() -> FlagSet:
    """confpy's real flag set."""
    return build_flagset("confpy")


def test_one_and_two_dashes(flags: FlagSet) -> None:
    given, rest = flags.parse(["-onetime", "--noop", "-backend", "env", "--confdir", "/c"])
    assert given == {"onetime": True, "noop": True, "backend": "env", "confdir": "/c"}
    assert rest == []


def test_value_with_equals_or_as_next_argument(flags: FlagSet) -> None:
    given, _ = flags.parse(["-prefix=/a", "--backend=file", "-confdir", "/x", "--node", "n1"])
    assert given == {"prefix": "/a", "backend": "file", "confdir": "/x", "node": ["n1"]}
    # Only the first "=" splits; the value may contain more, or be empty.
    given, _ = flags.parse(["-prefix=a=b", "-srv-domain="])
    assert given == {"prefix": "a=b", "srv-domain": ""}
    # A value that looks like a flag is still the value.
    given, _ = flags.parse(["-prefix", "-onetime"])
    assert given == {"prefix": "-onetime"}


def test_bool_takes_no_separate_value_and_a_word_stops_parsing(flags: FlagSet) -> None:
    # `confd -onetime false -noop ...`: "false" is positional and every flag after it
    # is ignored, silently.
    given, rest = flags.parse(["-onetime", "false", "-noop", "-backend", "env"])
    assert given == {"onetime": True}
    assert rest == ["false", "-noop", "-backend", "env"]


def test_bool_with_explicit_value(flags: FlagSet) -> None:
    given, _ = flags.parse(["-onetime=false", "-noop=1", "-watch=T", "-sync-only=FALSE"])
    assert given == {"onetime": False, "noop": True, "watch": True, "sync-only": False}


def test_first_non_flag_stops_parsing(flags: FlagSet) -> None:
    given, rest = flags.parse(["-backend", "env", "foo", "-onetime"])
    assert given == {"backend": "env"}
    assert rest == ["foo", "-onetime"]
    # A lone "-" is not a flag either.
    given, rest = flags.parse(["-", "-onetime"])
    assert (given, rest) == ({}, ["-", "-onetime"])


def test_double_dash_stops_parsing_and_is_dropped(flags: FlagSet) -> None:
    given, rest = flags.parse(["-noop", "--", "-onetime", "x"])
    assert given == {"noop": True}
    assert rest == ["-onetime", "x"]


def test_unknown_flag(flags: FlagSet) -> None:
    with pytest.raises(FlagError) as caught:
        flags.parse(["-onetime", "-x"])
    assert str(caught.value) == "flag provided but not defined: -x"
    # Two dashes and a value: the message still names it with one dash, without the value.
    with pytest.raises(FlagError, match=r"^flag provided but not defined: -nosuch$"):
        flags.parse(["--nosuch=1"])


@pytest.mark.parametrize("arg", ["-h", "-help", "--help", "--h", "-help=1"])
def test_help(flags: FlagSet, arg: str) -> None:
    with pytest.raises(HelpRequested):
        flags.parse(["-onetime", arg, "-x"])


@pytest.mark.parametrize("arg", ["---x", "-=x", "--=x"])
def test_bad_flag_syntax(flags: FlagSet, arg: str) -> None:
    with pytest.raises(FlagError) as caught:
        flags.parse([arg])
    assert str(caught.value) == f"bad flag syntax: {arg}"


def test_repeated_node_and_file_accumulate(flags: FlagSet) -> None:
    given, _ = flags.parse(
        ["-node", "a:1", "--node=b:2", "-file", "x.yaml", "-node", "a:1,c:3", "-file=y.json"]
    )
    # Commas are not split; duplicates are kept, in order.
    assert given["node"] == ["a:1", "b:2", "a:1,c:3"]
    assert given["file"] == ["x.yaml", "y.json"]


def test_repeated_scalar_flag_last_wins(flags: FlagSet) -> None:
    given, _ = flags.parse(["-backend", "env", "-backend", "file"])
    assert given == {"backend": "file"}


def test_bad_bool_value(flags: FlagSet) -> None:
    with pytest.raises(FlagError) as caught:
        flags.parse(["-onetime=yes"])
    assert str(caught.value) == 'invalid boolean value "yes" for -onetime: parse error'


def test_bad_value_is_go_quoted(flags: FlagSet) -> None:
    # Go formats the value with %q.
    with pytest.raises(FlagError) as caught:
        flags.parse(['-noop=a"b\tc'])
    assert str(caught.value) == 'invalid boolean value "a\\"b\\tc" for -noop: parse error'


@pytest.mark.parametrize("name", ["backend", "node", "interval", "prefix"])
def test_missing_argument(flags: FlagSet, name: str) -> None:
    with pytest.raises(FlagError) as caught:
        flags.parse(["-onetime", f"-{name}"])
    assert str(caught.value) == f"flag needs an argument: -{name}"


@pytest.mark.parametrize(("text", "value"), [("10", 10), ("010", 8), ("0x1f", 31), ("-0b1_0", -2)])
def test_int_parsing_like_go(flags: FlagSet, text: str, value: int) -> None:
    # strconv.ParseInt(text, 0, 64): the prefix picks the base (tests/golang/test_strconv.py).
    given, _ = flags.parse(["-interval", text])
    assert given == {"interval": value}


@pytest.mark.parametrize("text", ["08", "abc", "1.5", "", " 10", "10 ", "1__0", "_1", "\u0661\u0660", "0x"])
def test_bad_int(flags: FlagSet, text: str) -> None:
    with pytest.raises(FlagError) as caught:
        flags.parse([f"-interval={text}"])
    assert str(caught.value) == f'invalid value "{text}" for flag -interval: parse error'


def test_int_out_of_range(flags: FlagSet) -> None:
    with pytest.raises(FlagError) as caught:
        flags.parse(["-interval", "9223372036854775808"])
    assert str(caught.value) == (
        'invalid value "9223372036854775808" for flag -interval: value out of range'
    )
    assert flags.parse(["-interval", "9223372036854775807"])[0]["interval"] == (1 << 63) - 1


def test_custom_parser_errors_become_flag_errors() -> None:
    flagset = FlagSet("p")
    flagset.add(Flag("timeout", "duration", "t", 3.0, parse=float))
    assert flagset.parse(["-timeout", "1.5"])[0] == {"timeout": 1.5}
    with pytest.raises(FlagError, match=r'^invalid value "soon" for flag -timeout: parse error$'):
        flagset.parse(["-timeout", "soon"])


def test_a_parser_may_say_why_a_value_is_invalid() -> None:
    def positive(text: str) -> int:
        if text.startswith("-"):
            raise InvalidValue("must be positive")
        return int(text)

    flagset = FlagSet("p")
    flagset.add(Flag("n", "int", "n", 1, parse=positive))
    with pytest.raises(FlagError, match=r'^invalid value "-2" for flag -n: must be positive$'):
        flagset.parse(["-n", "-2"])


def test_usage_layout(flags: FlagSet) -> None:
    usage = flags.usage()
    lines = usage.splitlines()
    assert lines[0] == "Usage of confpy:"
    # Go's PrintDefaults: sorted, "  -name type" then a tab-indented usage line.
    names = [line.split()[0] for line in lines[1:] if line.startswith("  -")]
    assert names == sorted(names)
    assert "  -backend string\n    \tbackend to use: etcd (the v2 API), etcdv3, consul, redis, zookeeper, file or env (default \"etcd\")\n" in usage
    assert "  -interval int\n" in usage and "(default 600)" in usage
    assert "  -node value\n" in usage
    assert "  -onetime\n    \trun once and exit\n" in usage


def test_usage_defaults_printed_as_go_prints_them(flags: FlagSet) -> None:
    usage = flags.usage()
    # A bool default is Go's "true"; a duration default is Go's Duration.String().
    watch_confdir = usage.split("  -watch-confdir\n", 1)[1].split("\n", 1)[0]
    assert watch_confdir.count("(default true)") == 1, watch_confdir
    assert "True" not in usage
    timeout = usage.split("  -backend-timeout duration\n", 1)[1].split("\n", 1)[0]
    assert timeout.endswith("(default 3s)"), timeout
