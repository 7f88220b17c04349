"""Reading TOML as confd's Go decoder (BurntSushi's) reads it, for confd.toml and conf.d:
keys matched exactly, else ignoring case; Go types checked; errors with line and column.

tomllib is pure Python and spends about 50 µs on a six-line conf.d file: a tenth of
confpy's own time for ``-onetime`` over 500 resources. The shapes conf.d files are
written in (one table, bare keys, plain strings, integers, booleans, arrays of strings,
comments) are therefore read by a handful of regular expressions first; anything else,
including every error, goes to tomllib, which stays the judge. Property tests hold the
two readers to the same result.

Two things tomllib does not bound are bounded before it runs, as errors with a line and
column: arrays and inline tables nested more than ``MAX_NESTING`` deep (tomllib recurses
until Python's stack gives out), and integers outside Go's int64 (confd's decoder refuses
them; tomllib would spend its time on, or refuse with an unplaced ValueError, an integer
of tens of thousands of digits).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "MAX_NESTING",
    "TYPE_NAMES",
    "TomlSyntaxError",
    "describe_type",
    "fits",
    "key_position",
    "match_keys",
    "parse_toml",
    "unknown_keys",
]

MAX_NESTING = 100  # arrays and inline tables; conf.d files nest 1 or 2 deep
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1

TYPE_NAMES = {str: "a string", bool: "a boolean", int: "an integer", list: "an array of strings"}


class TomlSyntaxError(ValueError):
    """The text is not TOML. str() is the message with its place, tomllib's way:
    ``Invalid value (at line 3, column 10)``; ``reason``, ``line`` and ``column``
    (1-based; 0 when unknown) are the parts."""

    def __init__(self, reason: str, line: int = 0, column: int = 0) -> None:
        super().__init__(f"{reason} (at line {line}, column {column})" if line else reason)
        self.reason = reason
        self.line = line
        self.column = column


_AT = re.compile(r" ?\(at line (\d+), column (\d+)\)$")


def parse_toml(text: str) -> dict[str, Any]:
    document = parse_simple_toml(text)
    if document is not None:
        return document
    _check_bounds(text)
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        if message.endswith(" (at end of document)"):  # give it a line and column too
            lines = text.split("\n")
            raise TomlSyntaxError(message[: -len(" (at end of document)")], len(lines), len(lines[-1]) + 1) from None
        at = _AT.search(message)
        if at is None:
            raise TomlSyntaxError(message) from None
        raise TomlSyntaxError(message[: at.start()], int(at.group(1)), int(at.group(2))) from None


# Characters TOML forbids in strings and comments: ASCII controls but tab.
_CONTROL = r"\x00-\x08\x0a-\x1f\x7f"
_BASIC = rf'"(?P<basic>[^"\\{_CONTROL}]*)"'  # no escapes: its text is its value
_LITERAL = rf"'(?P<literal>[^'{_CONTROL}]*)'"
_END = rf"[ \t]*(?:\#[^{_CONTROL}]*)?(?:\r?\n|\Z)"  # rest of a line
# One line (an array may span several): blank, a [table] header or key = value.
_LINE = re.compile(
    rf"""[ \t]*(?:
        \[[ \t]*(?P<table>[A-Za-z0-9_-]+)[ \t]*\]
      | (?P<key>[A-Za-z0-9_-]+)[ \t]*=[ \t]*(?:
            {_BASIC} | {_LITERAL}
          | (?P<int>[+-]?(?:0|[1-9][0-9]*))
          | (?P<bool>true|false)
          | \[(?P<array>[^\]]*)\]  # the first ] is the end, or the strings will not close
        )
    )?{_END}""",
    re.VERBOSE,
)
# Inside an array: blanks, newlines and comments, each comment ending its line.
_SPACE_IN_ARRAY = rf"(?:[ \t]|\r?\n|\#[^{_CONTROL}]*\r?\n)*"
_ARRAY_SPACE = re.compile(_SPACE_IN_ARRAY)
_ARRAY_ITEM = re.compile(rf"(?:{_BASIC}|{_LITERAL}){_SPACE_IN_ARRAY}(?P<comma>,?)")


def parse_simple_toml(text: str) -> dict[str, Any] | None:
    """The document, if ``text`` is in the simple subset; None to leave it to tomllib."""
    document: dict[str, Any] = {}
    table = document
    position, size = 0, len(text)
    while position < size:
        line = _LINE.match(text, position)
        if line is None or line.end() == position:
            return None
        position = line.end()
        name = line["table"]
        if name is not None:
            if name in document:  # redefined, or already a key: tomllib's error to give
                return None
            table = document[name] = {}
            continue
        key = line["key"]
        if key is None:
            continue
        if key in table:
            return None
        value: Any
        if line["basic"] is not None:
            value = line["basic"]
        elif line["literal"] is not None:
            value = line["literal"]
        elif line["int"] is not None:
            value = _int64(line["int"], text, line.start("int"))
        elif line["bool"] is not None:
            value = line["bool"] == "true"
        else:
            value = _array(line["array"])
            if value is None:
                return None
        table[key] = value
    return document


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of an offset."""
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _int64(token: str, text: str, offset: int) -> int:
    """A decimal, hex, octal or binary integer token, which must fit Go's int64."""
    body = token.replace("_", "")
    sign = -1 if body.startswith("-") else 1
    digits = body.lstrip("+-")
    base = {"0x": 16, "0o": 8, "0b": 2}.get(digits[:2], 10)
    if base != 10:
        digits = digits[2:]
    digits = digits.lstrip("0") or "0"
    # 2**63 has 19 decimal digits: a longer number is out of range without converting
    # it (Python refuses to convert more than 4300 digits anyway).
    if (base == 10 and len(digits) <= 19) or (base != 10 and len(digits) <= 64):
        value = sign * int(digits, base)
        if _INT64_MIN <= value <= _INT64_MAX:
            return value
    shown = token if len(token) <= 24 else f"{token[:20]}... ({len(token)} characters)"
    raise TomlSyntaxError(f"Integer '{shown}' is out of the range of 64-bit signed integers", *_position(text, offset))


_INTEGER = re.compile(r"[+-]?(?:0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+|[0-9][0-9_]*)")
_BARE = re.compile(r"[A-Za-z0-9_+\-.:]+")


def _check_bounds(text: str) -> None:
    """TomlSyntaxError for nesting deeper than MAX_NESTING, or an integer value out of
    int64, with its position. A lexical scan: strings and comments are skipped, and
    anything it does not understand is left for tomllib to judge."""
    depth = 0
    position, size = 0, len(text)
    line_start = True  # only blanks since the last newline
    while position < size:
        char = text[position]
        if char == "\n":
            line_start = True
            position += 1
            continue
        if char in " \t\r":
            position += 1
            continue
        at_line_start, line_start = line_start, False
        if char == "#":
            end = text.find("\n", position)
            position = size if end < 0 else end
        elif char in "\"'":
            position = _skip_string(text, position)
        elif char == "[" and depth == 0 and at_line_start:  # a [table] or [[array]] header
            end = text.find("\n", position)
            position = size if end < 0 else end
        elif char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise TomlSyntaxError(
                    f"arrays or inline tables nested more than {MAX_NESTING} deep", *_position(text, position)
                )
            position += 1
        elif char in "]}":
            depth = max(depth - 1, 0)
            position += 1
        else:
            bare = _BARE.match(text, position)
            if bare is None:
                position += 1
                continue
            token, end = bare.group(), bare.end()
            following = text[end : end + 64].lstrip(" \t")
            if _INTEGER.fullmatch(token) and not following.startswith(("=", ".")):
                _int64(token, text, position)
            position = end


def _skip_string(text: str, start: int) -> int:
    """The offset after the string starting at ``start`` (the end of the text if it does
    not close: tomllib reports that)."""
    quote = text[start]
    if text.startswith(quote * 3, start):
        end = text.find(quote * 3, start + 3)
        while quote == '"' and end > 0 and _escaped(text, end):
            end = text.find(quote * 3, end + 1)
        return len(text) if end < 0 else end + 3
    position = start + 1
    while position < len(text):
        char = text[position]
        if char == "\n":
            return position
        if char == "\\" and quote == '"':
            position += 2
            continue
        if char == quote:
            return position + 1
        position += 1
    return position


def _escaped(text: str, offset: int) -> bool:
    """Whether the character at ``offset`` follows an odd number of backslashes."""
    count = 0
    while offset - count - 1 >= 0 and text[offset - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _array(content: str) -> list[str] | None:
    """The strings of an array's inside, or None if it holds anything else."""
    items: list[str] = []
    position = _skip_space(content, 0)
    while position < len(content):
        item = _ARRAY_ITEM.match(content, position)
        if item is None:
            return None
        items.append(item["basic"] if item["basic"] is not None else item["literal"])
        position = item.end()
        if not item["comma"]:
            return items if position == len(content) else None
        position = _skip_space(content, position)
    return items


def _skip_space(content: str, position: int) -> int:
    """The position after the blanks, newlines and comments at ``position``."""
    space = _ARRAY_SPACE.match(content, position)
    return space.end() if space is not None else position  # it matches even nothing


def match_keys(table: Mapping[str, Any], names: Iterable[str]) -> dict[str, str]:
    """For each wanted name present in ``table``, the key that holds it: the exact key,
    else one equal ignoring case (BurntSushi's rule for tags and field names)."""
    names = names if isinstance(names, dict) else dict.fromkeys(names)
    if table.keys() <= names.keys():  # every key spelt exactly: the usual file
        return {key: key for key in table}
    lowered = {key.lower(): key for key in table}
    found: dict[str, str] = {}
    for name in names:
        key = name if name in table else lowered.get(name.lower())
        if key is not None:
            found[name] = key
    return found


def unknown_keys(table: Mapping[str, Any], names: Iterable[str]) -> list[str]:
    """The keys of ``table`` that no name in ``names`` matches, exactly or ignoring case
    (what confd's decoder silently ignores)."""
    names = names if isinstance(names, dict) else dict.fromkeys(names)
    if table.keys() <= names.keys():  # every key spelt exactly: the usual file
        return []
    others = [key for key in table if key not in names]
    known = {name.lower() for name in names}
    return [key for key in others if key.lower() not in known]


def key_position(text: str, key: str, table: str | None = None) -> tuple[int, int]:
    """Where ``key`` is written (1-based line and column): as ``key =``, a dotted
    ``key.x =``, in an inline table, or as a ``[key]`` header; within ``[table]`` when
    one is named. Matched exactly, else ignoring case; (0, 0) when not found."""
    start, end = 0, len(text)
    if table is not None:
        header = _find(_header_pattern(table), text, 0, end)
        if header is not None:
            start = header.end()
            following = re.compile(r"^[ \t]*\[", re.M).search(text, start)
            end = following.start() if following else end
    found = _find(_key_pattern(key), text, start, end)
    if found is None:
        found = _find(_header_pattern(key), text, 0, len(text))
    if found is None:
        return 0, 0
    offset = found.start("key")
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _key_pattern(key: str) -> str:
    return rf"""(?:^|[{{,])[ \t]*(?P<key>(["']?){re.escape(key)}\2)[ \t]*[=.]"""


def _header_pattern(key: str) -> str:
    return rf"""^[ \t]*\[\[?[ \t]*(?P<key>(["']?){re.escape(key)}\2)[ \t]*[\].]"""


def _find(pattern: str, text: str, start: int, end: int) -> re.Match[str] | None:
    for flags in (re.M, re.M | re.I):
        found = re.compile(pattern, flags).search(text, start, end)
        if found is not None:
            return found
    return None


def fits(value: Any, expected: type) -> bool:
    """Whether a TOML value decodes into a Go field of ``expected`` (list: of strings)."""
    if expected is list:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return isinstance(value, expected) and not (expected is int and isinstance(value, bool))


def describe_type(value: Any) -> str:
    """What a TOML value is, for "must be a string, not an integer" messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array of strings" if all(isinstance(v, str) for v in value) else "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__
