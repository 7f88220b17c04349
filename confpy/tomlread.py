"""Reading TOML as confd's Go decoder (BurntSushi's) reads it, for confd.toml and conf.d:
keys matched exactly, else ignoring case; Go types checked; errors with line and column."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["TYPE_NAMES", "TomlSyntaxError", "describe_type", "fits", "match_keys", "parse_toml"]

TYPE_NAMES = {str: "a string", bool: "a boolean", int: "an integer", list: "an array of strings"}


class TomlSyntaxError(ValueError):
    """The text is not TOML; str() is tomllib's message with its line and column."""


def parse_toml(text: str) -> dict[str, Any]:
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
