"""Reading TOML as confd's Go decoder (BurntSushi's) reads it, for confd.toml and conf.d:
keys matched exactly, else ignoring case; Go types checked; errors with line and column.

tomllib is pure Python and spends about 50 µs on a six-line conf.d file: a tenth of
confpy's own time for ``-onetime`` over 500 resources. The shapes conf.d files are
written in (one table, bare keys, plain strings, integers, booleans, arrays of strings,
comments) are therefore read by a handful of regular expressions first; anything else,
including every error, goes to tomllib, which stays the judge. Property tests hold the
two readers to the same result.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["TYPE_NAMES", "TomlSyntaxError", "describe_type", "fits", "match_keys", "parse_toml"]

TYPE_NAMES = {str: "a string", bool: "a boolean", int: "an integer", list: "an array of strings"}


class TomlSyntaxError(ValueError):
    """The text is not TOML; str() is tomllib's message with its line and column."""


def parse_toml(text: str) -> dict[str, Any]:
    document = parse_simple_toml(text)
    if document is not None:
        return document
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        if message.endswith("(at end of document)"):  # give it a line and column too
            lines = text.split("\n")
            message = message[: -len("(at end of document)")] + f"(at line {len(lines)}, column {len(lines[-1]) + 1})"
        raise TomlSyntaxError(message) from None


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
            value = int(line["int"])
        elif line["bool"] is not None:
            value = line["bool"] == "true"
        else:
            value = _array(line["array"])
            if value is None:
                return None
        table[key] = value
    return document


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
    lowered = {key.lower(): key for key in table}
    found: dict[str, str] = {}
    for name in names:
        key = name if name in table else lowered.get(name.lower())
        if key is not None:
            found[name] = key
    return found


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
