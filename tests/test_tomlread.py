"""The TOML reader: its fast path for conf.d's simple shapes must agree with tomllib on
every text it accepts, and must accept the shapes real conf.d files are written in."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confpy.tomlread import TomlSyntaxError, parse_simple_toml, parse_toml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def typed(value: Any) -> Any:
    """``value`` with every scalar tagged by its type: True must not pass for 1."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def assert_agrees(text: str) -> dict[str, Any] | None:
    """The fast reader either declines ``text`` or reads what tomllib reads (but for an
    integer outside int64, which confd's decoder refuses, and so does the fast reader)."""
    try:
        fast = parse_simple_toml(text)
    except TomlSyntaxError as exc:
        assert "out of the range of 64-bit signed integers" in str(exc), text
        assert any(
            isinstance(v, int) and not -(2**63) <= v < 2**63 for v in _scalars(tomllib.loads(text))
        ), text
        return None
    if fast is not None:
        try:
            expected = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            pytest.fail(f"fast path accepted text tomllib rejects ({exc}): {text!r}")
        assert typed(fast) == typed(expected), text
    return fast


def _scalars(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _scalars(item)]
    if isinstance(value, list):
        return [s for item in value for s in _scalars(item)]
    return [value]


CONF_D_SHAPES = [
    '[template]\nsrc = "nginx.conf.tmpl"\ndest = "/etc/nginx/conf.d/app.conf"\nkeys = ["/nginx-80"]\n',
    "[template]\r\nsrc = 'a.tmpl'\r\ndest = '/tmp/a'\r\nkeys = [ '/a', '/b', ]\r\n",
    '# confd resource\n\n[template]\nprefix = "/app"  # comment\nsrc = "a"\ndest = "/a"\n'
    'keys = [\n  "/upstream",   # the servers\n  "/settings",\n]\nmode = "0644"\n'
    'uid = 0\ngid = -1\ncheck_cmd = "nginx -t -c {{.src}}"\nreload_cmd = "nginx -s reload"\n',
    '[ template ]\n\tsrc="a"\ndest="b"\nkeys=[]\nowner = "www-data"\n',
    'backend = "etcd"\nnodes = ["http://127.0.0.1:2379", "http://127.0.0.1:4001"]\n'
    'interval = 600\nwatch = true\nnoop = false\nlog-level = "debug"\n',
    '[template]\nsrc = "é ü ✓ \t tab"\ndest = "/tmp/x"\n',
    "",
    "\n\n",
    "# only a comment",
]


@pytest.mark.parametrize("text", CONF_D_SHAPES)
def test_fast_path_reads_conf_d_shapes(text: str) -> None:
    assert assert_agrees(text) is not None


def test_fast_path_reads_the_bundled_examples() -> None:
    for path in sorted(ROOT.glob("examples/**/*.toml")):
        assert assert_agrees(path.read_text()) is not None, path


DECLINED = [
    'k = """multi\nline"""',  # multi-line string
    'k = "esc\\"aped"',  # escapes
    "k = 1.5",  # float
    "k = 0x1f",  # other integer forms
    "k = 1_000",
    "k = 1979-05-27",  # date
    "a.b = 1",  # dotted key
    '"quoted" = 1',
    "k = [1, 2]",  # array of non-strings
    'k = ["a]"]',  # a ] inside a string
    'k = ["a" # c ]\n]',  # a ] inside a comment
    "k = {x = 1}",  # inline table
    "[[t]]\nk = 1",  # array of tables
    "[a]\n[a]",  # duplicate table
    "k = 1\nk = 2",  # duplicate key
    "a = 1\n[a]",  # table over a key
    "k = 01",  # leading zero
    "k = 1\rx = 2",  # lone carriage return
    'k = "a\x01"',  # control character
    "\ufeffk = 1",  # byte-order mark
    "k = [ , ]",
    'k = ["a" "b"]',
    "k = ",
    "k = true x",
]


@pytest.mark.parametrize("text", DECLINED)
def test_fast_path_leaves_everything_else_to_tomllib(text: str) -> None:
    assert parse_simple_toml(text) is None


def test_parse_toml_uses_tomllib_for_the_rest_and_its_errors() -> None:
    assert parse_toml('k = """multi\nline"""') == {"k": "multi\nline"}
    with pytest.raises(TomlSyntaxError, match=r"Cannot overwrite a value \(at line 2, column 6\)"):
        parse_toml("k = 1\nk = 2")


@pytest.mark.parametrize(
    "text",
    ["k = 9223372036854775808", "k = -9223372036854775809", "k = " + "9" * 5000,  # the fast path
     "k = 1_000_000_000_000_000_000_000", "a.b = 9223372036854775808", "k = 0x8000000000000000",  # tomllib's
     "k = [1, 99999999999999999999]", "k = {a = -99999999999999999999}"],
)  # fmt: skip
def test_integers_outside_int64_are_refused_on_both_paths(text: str) -> None:
    # confd's TOML decoder: "Integer '...' is out of the range of 64-bit signed integers".
    with pytest.raises(TomlSyntaxError, match=r"out of the range of 64-bit signed integers \(at line 1, column"):
        parse_toml(text)


def test_int64_bounds_are_read() -> None:
    assert parse_toml("a = 9223372036854775807\nb = -9223372036854775808\nc.d = 0x7fffffffffffffff\n") == {
        "a": 2**63 - 1, "b": -(2**63), "c": {"d": 2**63 - 1},
    }  # fmt: skip


@pytest.mark.parametrize(
    "text",
    ["k = " + "[" * 101 + "]" * 101, "k = " + "{a = " * 101 + "1" + "}" * 101,
     "k = [" * 3000 + "1" + "]" * 3000],
)  # fmt: skip
def test_nesting_is_bounded_before_tomllib_recurses(text: str) -> None:
    with pytest.raises(TomlSyntaxError, match=r"nested more than 100 deep \(at line 1, column"):
        parse_toml(text)


def test_nesting_and_numbers_inside_strings_and_comments_are_not_counted() -> None:
    text = 'a = "[[[[ 99999999999999999999"\nb = \'[[[\'\n# [[[[ 99999999999999999999\nc = """\n[[[\n"""\nd = [[1]]\n'
    assert parse_toml(text)["d"] == [[1]]
    deep = "k = " + "[" * 100 + "]" * 100  # the limit itself is fine
    assert parse_toml(deep)["k"] is not None


# Pieces TOML is made of, so random texts land near the subset's edges.
TOKENS = [
    "[", "]", "[[", "=", " = ", '"', "'", '"""', "#", ",", " ", "\t", "\n", "\r\n", "\r",
    "a", "k", "template", "src", "-", "+", "_", ".", "0", "1", "07", "\\", "\\n", "true",
    "false", "{", "}", "é", "\x00", "\x7f", "\x1f", '"/a"', "'/b'", "[ ]",
]  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_fast_path_agrees_with_tomllib_on_token_soup(text: str) -> None:
    assert_agrees(text)


SPACE = st.sampled_from(["", " ", "\t", "  "])
COMMENT = st.sampled_from(["", " # note", "# ]", "\t#\t[x] = 'y'"])
NEWLINE = st.sampled_from(["\n", "\r\n"])
STRING_CHARS = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\"'\\")
PLAIN = st.text(STRING_CHARS, max_size=12)
STRING = st.one_of(PLAIN.map(lambda s: f'"{s}"'), PLAIN.map(lambda s: f"'{s}'"))
BARE_KEY = st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True)


@st.composite
def array(draw: st.DrawFn) -> str:
    # A "]" inside an array's strings is left to tomllib too.
    items = draw(st.lists(STRING.filter(lambda s: "]" not in s), max_size=4))
    # A comment holding "]" inside an array is left to tomllib (see DECLINED).
    comment = st.sampled_from(["", " # note", "#\t'x' = \"y\""])
    gap = st.one_of(SPACE, st.tuples(comment, NEWLINE, SPACE).map("".join))
    inside = "".join(f"{draw(gap)}{item}{draw(gap)}," for item in items)
    if items and not draw(st.booleans()):
        inside = inside[:-1]  # no trailing comma
    return f"[{inside}{draw(gap)}]"


VALUE = st.one_of(
    STRING,
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.sampled_from(["true", "false", "+0", "-0", "+7"]),
    array(),
)


@st.composite
def document(draw: st.DrawFn) -> str:
    lines: list[str] = []
    tables = draw(st.lists(BARE_KEY, unique=True, max_size=3))
    for table in [None, *tables]:
        if table is not None:
            lines.append(f"{draw(SPACE)}[{draw(SPACE)}{table}{draw(SPACE)}]{draw(COMMENT)}")
        keys = draw(st.lists(BARE_KEY, unique=True, max_size=5))
        if table is None:
            keys = [key for key in keys if key not in tables]
        for key in keys:
            lines.append(f"{draw(SPACE)}{key}{draw(SPACE)}={draw(SPACE)}{draw(VALUE)}{draw(COMMENT)}")
        lines.extend(draw(st.lists(st.sampled_from(["", "# x", "  "]), max_size=2)))
    return "".join(line + draw(NEWLINE) for line in lines)


@settings(max_examples=600, deadline=None)
@given(document())
def test_fast_path_reads_generated_simple_documents_as_tomllib(text: str) -> None:
    assert assert_agrees(text) is not None, text
