"""Command-line parsing with the rules of Go's ``flag`` package, which confd users rely on.

One or two dashes; ``-name=value`` or ``-name value``; booleans take no separate value
(``-watch false`` stops parsing at ``false``); parsing stops at the first non-flag
argument or after ``--``; an unknown flag is an error (exit 2) and ``-h``/``-help``
print the usage (exit 0).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

__all__ = ["Flag", "FlagError", "FlagSet", "HelpRequested", "parse_go_bool", "parse_go_int"]


class FlagError(Exception):
    """A command-line error; str() is Go's message (usage follows it)."""


class HelpRequested(Exception):
    """-h or -help was given."""


def parse_go_bool(text: str) -> bool:
    """strconv.ParseBool."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(text)


_GO_INT = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9_]+)")


class OutOfRange(ValueError):
    """strconv's range error: the number does not fit."""


def parse_go_int(text: str) -> int:
    """strconv.ParseInt(text, 0, 64): the prefix picks the base."""
    if not _GO_INT.fullmatch(text):  # int() would also take spaces and non-ASCII digits
        raise ValueError(text)
    body = text.lstrip("+-")
    if body[:1] == "0" and len(body) > 1 and body[1] not in "xXoObB":
        text = text.replace("0", "0o", 1)  # Go reads a leading 0 as octal
    value = int(text, 0)
    if not -(1 << 63) <= value < 1 << 63:
        raise OutOfRange(text)
    return value


def _quote(text: str) -> str:
    """Go's %q, for values in error messages."""
    from .golang.strconv import quote  # only on this error path: keeps start-up light

    return quote(text)


def _format_default(flag: Flag) -> str:
    """The default as Go's PrintDefaults shows it (%q for strings, Value.String() else)."""
    if flag.kind == "string":
        return _quote(str(flag.default))
    if flag.kind == "bool":
        return "true" if flag.default else "false"
    if flag.kind == "duration" and isinstance(flag.default, (int, float)):
        return format_go_duration(flag.default)
    return str(flag.default)


def format_go_duration(seconds: float) -> str:
    """time.Duration(seconds).String(): ``3s``, ``1m30s``, ``500ms``, ``1h0m0s``, ``0s``."""
    ns = round(seconds * 1e9)
    sign, ns = ("-" if ns < 0 else ""), abs(ns)

    def fraction(value: int, unit: int) -> str:
        whole, rest = divmod(value, unit)
        digits = len(str(unit)) - 1
        return f"{whole}.{rest:0{digits}d}".rstrip("0") if rest else str(whole)

    if ns == 0:
        return "0s"
    if ns < 1_000:
        return f"{sign}{ns}ns"
    if ns < 1_000_000:
        return f"{sign}{fraction(ns, 1_000)}µs"
    if ns < 1_000_000_000:
        return f"{sign}{fraction(ns, 1_000_000)}ms"
    hours, ns = divmod(ns, 3_600_000_000_000)
    minutes, ns = divmod(ns, 60_000_000_000)
    text = f"{hours}h{minutes}m" if hours else (f"{minutes}m" if minutes else "")
    return f"{sign}{text}{fraction(ns, 1_000_000_000)}s"


class Flag(NamedTuple):
    name: str
    kind: str  # "bool", "string", "int", "list" (repeatable string) or "duration"
    usage: str
    default: Any = None
    parse: Callable[[str], Any] | None = None  # converts a value; raises ValueError


class FlagSet:
    """A set of Go-style flags; ``parse`` returns only the flags actually given."""

    def __init__(self, program: str) -> None:
        self.program = program
        self.flags: dict[str, Flag] = {}

    def add(self, flag: Flag) -> None:
        self.flags[flag.name] = flag

    def parse(self, args: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
        """Returns (values of the flags given, remaining positional arguments)."""
        given: dict[str, Any] = {}
        rest = list(args)
        while rest:
            arg = rest[0]
            if len(arg) < 2 or arg[0] != "-":
                break
            rest.pop(0)
            name = arg[1:]
            if name.startswith("-"):
                name = name[1:]
                if name == "":  # "--" ends the flags
                    break
            if name == "" or name[0] in "-=":
                raise FlagError(f"bad flag syntax: {arg}")
            name, has_value, value = name.partition("=")
            flag = self.flags.get(name)
            if flag is None:
                if name in ("help", "h"):
                    raise HelpRequested()
                raise FlagError(f"flag provided but not defined: -{name}")
            if flag.kind == "bool":
                if has_value:
                    try:
                        given[name] = parse_go_bool(value)
                    except ValueError:
                        raise FlagError(f"invalid boolean value {_quote(value)} for -{name}: parse error") from None
                else:
                    given[name] = True
                continue
            if not has_value:
                if not rest:
                    raise FlagError(f"flag needs an argument: -{name}")
                value = rest.pop(0)
            given[name] = self._convert(flag, value, given.get(name))
        return given, rest

    def _convert(self, flag: Flag, value: str, previous: Any) -> Any:
        if flag.kind == "list":
            return [*(previous or []), value]
        converter = flag.parse or (parse_go_int if flag.kind == "int" else str)
        try:
            return converter(value)
        except OutOfRange:
            raise FlagError(f"invalid value {_quote(value)} for flag -{flag.name}: value out of range") from None
        except ValueError:
            raise FlagError(f"invalid value {_quote(value)} for flag -{flag.name}: parse error") from None

    def usage(self) -> str:
        """Go's PrintDefaults layout, headed ``Usage of <program>:``."""
        lines = [f"Usage of {self.program}:"]
        for name in sorted(self.flags):
            flag = self.flags[name]
            type_name = {"bool": "", "list": "value", "int": "int", "duration": "duration"}.get(flag.kind, "string")
            head = f"  -{name}" + (f" {type_name}" if type_name else "")
            text = flag.usage
            if flag.default not in (None, "", False, 0, ()):
                text += f" (default {_format_default(flag)})"
            lines.append(head + "\n    \t" + text.replace("\n", "\n    \t"))
        return "\n".join(lines) + "\n"
