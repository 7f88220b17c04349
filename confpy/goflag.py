"""Command-line parsing with the rules of Go's ``flag`` package, which confd users rely on.

One or two dashes; ``-name=value`` or ``-name value``; booleans take no separate value
(``-watch false`` stops parsing at ``false``); parsing stops at the first non-flag
argument or after ``--``; an unknown flag is an error (exit 2) and ``-h``/``-help``
print the usage (exit 0).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

__all__ = ["Flag", "FlagError", "FlagSet", "HelpRequested", "InvalidValue"]


class FlagError(Exception):
    """A command-line error; str() is Go's message (usage follows it)."""


class HelpRequested(Exception):
    """-h or -help was given."""


class InvalidValue(ValueError):
    """Raised by a flag's parse function: its text says why, in place of Go's generic
    ``parse error``."""


# confpy.golang.strconv is imported where a value needs it: flags are parsed before the
# template engine (which loads it anyway), and -h, -version or a bad flag need not pay.


def _quote(text: str) -> str:
    """Go's %q, for values in error messages."""
    from .golang.strconv import quote

    return quote(text)


def _parse_bool(text: str) -> bool:
    from .golang.strconv import parse_bool

    return parse_bool(text)


def _parse_int(text: str) -> int:
    """Go's flag reads an int with strconv.ParseInt(text, 0, 64): the prefix picks the base."""
    from .golang.strconv import parse_int

    return parse_int(text, 0, 64)


def _reason(exc: ValueError) -> str:
    """Go's flag.numError: strconv's range error keeps its words, others are a parse error."""
    from .golang.strconv import ERR_RANGE, NumError

    return ERR_RANGE if isinstance(exc, NumError) and exc.err == ERR_RANGE else "parse error"


def _format_default(flag: Flag) -> str:
    """The default as Go's PrintDefaults shows it (%q for strings, Value.String() else)."""
    if flag.kind == "string":
        return _quote(str(flag.default))
    if flag.kind == "bool":
        return "true" if flag.default else "false"
    if flag.kind == "duration" and isinstance(flag.default, (int, float)):
        from .golang.duration import Duration  # only for -h

        return Duration(round(flag.default * 1e9)).String()  # the default is in seconds
    return str(flag.default)


class Flag(NamedTuple):
    name: str
    kind: str  # "bool", "string", "int", "list" (repeatable string) or "duration"
    usage: str
    default: Any = None
    parse: Callable[[str], Any] | None = None  # converts a value; raises ValueError or InvalidValue


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
                        given[name] = _parse_bool(value)
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
        converter = flag.parse or (_parse_int if flag.kind == "int" else str)
        try:
            return converter(value)
        except ValueError as exc:
            reason = str(exc) if isinstance(exc, InvalidValue) else _reason(exc)
            raise FlagError(f"invalid value {_quote(value)} for flag -{flag.name}: {reason}") from None

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
