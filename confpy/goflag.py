"""Command-line parsing with the rules of Go's ``flag`` package, which confd users rely on.

One or two dashes; ``-name=value`` or ``-name value``; booleans take no separate value
(``-watch false`` stops parsing at ``false``); parsing stops at the first non-flag
argument or after ``--``; an unknown flag is an error (exit 2) and ``-h``/``-help``
print the usage (exit 0).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

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


def parse_go_int(text: str) -> int:
    """strconv.ParseInt(text, 0, 64): the prefix picks the base."""
    body = text.lstrip("+-")
    if body[:1] == "0" and len(body) > 1 and body[1] not in "xXoObB":
        text = text.replace("0", "0o", 1)  # Go reads a leading 0 as octal
    value = int(text, 0)
    if not -(1 << 63) <= value < 1 << 63:
        raise ValueError(text)
    return value


@dataclass(frozen=True)
class Flag:
    name: str
    kind: str  # "bool", "string", "int", "list" (repeatable string) or "duration"
    usage: str
    default: Any = None
    parse: Callable[[str], Any] | None = None  # converts a value; raises ValueError


@dataclass
class FlagSet:
    """A set of Go-style flags; ``parse`` returns only the flags actually given."""

    program: str
    flags: dict[str, Flag] = field(default_factory=dict)

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
                        raise FlagError(f'invalid boolean value "{value}" for -{name}: parse error') from None
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
        except ValueError:
            raise FlagError(f'invalid value "{value}" for flag -{flag.name}: parse error') from None

    def usage(self) -> str:
        """Go's PrintDefaults layout, headed ``Usage of <program>:``."""
        lines = [f"Usage of {self.program}:"]
        for name in sorted(self.flags):
            flag = self.flags[name]
            type_name = {"bool": "", "list": "value", "int": "int", "duration": "duration"}.get(flag.kind, "string")
            head = f"  -{name}" + (f" {type_name}" if type_name else "")
            text = flag.usage
            if flag.default not in (None, "", False, 0, ()):
                shown = f'"{flag.default}"' if flag.kind == "string" else str(flag.default)
                text += f" (default {shown})"
            lines.append(head + "\n    \t" + text.replace("\n", "\n    \t"))
        return "\n".join(lines) + "\n"
