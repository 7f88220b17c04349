"""Go's ``fmt`` printing (Go 1.19) for the values of :mod:`confpy.gotemplate.values`.

``sprint``, ``sprintln`` and ``sprintf`` behave as ``fmt.Sprint``, ``fmt.Sprintln`` and
``fmt.Sprintf`` would on the Go values our Python values stand for, error forms included
(``%!d(string=x)``, ``%!d(MISSING)``, ``%!(EXTRA int=1)``...). ``format_value`` is the ``%v``
text of one value, for the template engine's hot path.

This module is the format-string side: a format string is parsed once into literals and
``_Directive`` records (cached), and each directive's flags, width, precision and argument
are worked out here. Printing one operand under its verb is :mod:`.fmtvalue`'s, as Go keeps
fmt/format.go apart from the doPrintf loop.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .fmtvalue import PLAIN, Flags, float_v, print_arg
from .values import MISSING, go_type_name

__all__ = ["format_value", "sprint", "sprintf", "sprintln"]

_TOO_LARGE = 1_000_000  # Go refuses widths, precisions and indexes beyond this
_STAR = -2  # a width or precision taken from the arguments


# --- format strings ----------------------------------------------------------------------


def _verb_flags(verb: str, plus: bool, minus: bool, sharp: bool, space: bool, zero: bool,
                wid: int, prec: int) -> Flags:
    """Flags for one verb; for %v, + and # become plus_v and sharp_v as in doPrintf."""
    if not (plus or minus or sharp or space or zero or wid or prec >= 0):
        return PLAIN
    if verb == "v":
        return Flags(False, minus, False, space, zero, wid, prec, plus, sharp)
    return Flags(plus, minus, sharp, space, zero, wid, prec)


class _Directive:
    """One parsed %-directive. Only argument-dependent steps are left for run time.

    An index is ``None`` (no ``[n]``) or ``(zero-based index, parsed ok)``; a width or
    precision is ``None`` (absent), a number, or ``_STAR``.
    """

    __slots__ = ("bad_prec_index", "bad_wid_index", "flags", "has_prec", "minus", "plus",
                 "prec", "prec_index", "sharp", "simple", "space", "verb", "verb_index",
                 "wid", "wid_index", "zero")

    def __init__(self) -> None:
        self.plus = self.minus = self.sharp = self.space = self.zero = False
        self.wid_index: tuple[int, bool] | None = None
        self.wid: int | None = None
        self.bad_wid_index = False  # "%[3]2d": a width after an index is an error
        self.has_prec = False
        self.bad_prec_index = False
        self.prec_index: tuple[int, bool] | None = None
        self.prec: int | None = None
        self.verb_index: tuple[int, bool] | None = None
        self.verb: str | None = None  # None: the format ended before a verb
        self.simple = False  # no [n] and no *: flags are known now
        self.flags = PLAIN

    def make_flags(self, wid: int, prec: int, minus: bool, zero: bool) -> Flags:
        return _verb_flags(self.verb or "", self.plus, minus, self.sharp, self.space, zero,
                           wid, prec)


def _parse_num(s: str, i: int, end: int) -> tuple[int, bool, int]:
    """Go's parsenum: a decimal number at s[i:end]; an absurdly long one eats the rest."""
    num, found = 0, False
    while i < end and "0" <= s[i] <= "9":
        if num > _TOO_LARGE:
            return 0, False, end
        num = num * 10 + ord(s[i]) - 48
        found = True
        i += 1
    return num, found, i


def _parse_index(s: str, i: int) -> tuple[tuple[int, bool] | None, int]:
    """An explicit argument index ``[n]`` at s[i], if any: ((n-1, ok), next i)."""
    if i >= len(s) or s[i] != "[":
        return None, i
    close = s.find("]", i + 1)
    if len(s) - i < 3 or close < 0:
        return (0, False), i + 1
    num, ok, after = _parse_num(s, i + 1, close)
    if not ok or after != close:
        return (0, False), close + 1
    return (num - 1, True), close + 1


def _parse_directive(s: str, i: int) -> tuple[_Directive, int]:
    """Parse the directive after the % at s[i-1]; returns it and the index after it."""
    d = _Directive()
    end = len(s)
    while i < end:
        c = s[i]
        if c == "#":
            d.sharp = True
        elif c == "0":
            d.zero = not d.minus  # zero padding only on the left
        elif c == "+":
            d.plus = True
        elif c == "-":
            d.minus, d.zero = True, False
        elif c == " ":
            d.space = True
        else:
            break
        i += 1
    d.wid_index, i = _parse_index(s, i)
    after_index = d.wid_index is not None and d.wid_index[1]
    if i < end and s[i] == "*":
        d.wid, after_index = _STAR, False
        i += 1
    else:
        wid, present, i = _parse_num(s, i, end)
        if present:
            d.wid = wid
            d.bad_wid_index = after_index
    if i + 1 < end and s[i] == ".":
        i += 1
        d.has_prec, d.bad_prec_index = True, after_index
        d.prec_index, i = _parse_index(s, i)
        after_index = d.prec_index is not None and d.prec_index[1]
        if i < end and s[i] == "*":
            d.prec, after_index = _STAR, False
            i += 1
        else:
            d.prec, _, i = _parse_num(s, i, end)  # "%.d" is precision 0
    if not after_index:
        d.verb_index, i = _parse_index(s, i)
    if i < end:
        d.verb = s[i]
        i += 1
    d.simple = (d.wid_index is None and d.prec_index is None and d.verb_index is None
                and d.wid != _STAR and d.prec != _STAR and d.verb is not None)
    if d.simple:
        d.flags = d.make_flags(d.wid or 0, d.prec if d.has_prec and d.prec is not None else -1, d.minus, d.zero)
    return d, i


class _Format:
    """A parsed format string: literal text and directives, in order.

    When every directive is a bare verb (no flags, width, precision or index), ``verbs``
    lists them and ``texts`` the literal text after each one (``head`` before the first):
    sprintf then takes a shorter path.
    """

    __slots__ = ("head", "items", "texts", "verbs")

    def __init__(self, items: tuple[str | _Directive, ...]) -> None:
        self.items = items
        self.verbs: tuple[str, ...] | None = None
        directives = [x for x in items if isinstance(x, _Directive)]
        if all(d.simple and d.flags is PLAIN for d in directives):
            texts = [""]
            for x in items:
                if isinstance(x, str):
                    texts[-1] += x
                else:
                    texts.append("")
            self.head, self.texts = texts[0], tuple(texts[1:])
            self.verbs = tuple(d.verb or "" for d in directives)


@lru_cache(maxsize=1024)
def _parse_format(s: str) -> _Format:
    """Split a format into literal text and directives; a plain %% becomes text."""
    items: list[str | _Directive] = []
    lit: list[str] = []
    i, end = 0, len(s)
    while i < end:
        j = s.find("%", i)
        if j < 0:
            lit.append(s[i:])
            break
        lit.append(s[i:j])
        d, i = _parse_directive(s, j + 1)
        if d.simple and d.verb == "%":
            lit.append("%")
            continue
        if lit:
            items.append("".join(lit))
            lit = []
        items.append(d)
        if d.verb is None:
            break
    if lit:
        items.append("".join(lit))
    return _Format(tuple(x for x in items if x != ""))


def _int_arg(args: tuple[Any, ...], n: int) -> tuple[int, bool, int]:
    """Go's intFromArg: a * width or precision; the argument is used even when it is bad."""
    if n >= len(args):
        return 0, False, n
    v = args[n]
    if v.__class__ is not int or not -_TOO_LARGE <= v <= _TOO_LARGE:
        return 0, False, n + 1
    return v, True, n + 1


def _use_index(index: tuple[int, bool] | None, n: int, nargs: int) -> tuple[int, bool]:
    """Go's argNumber at run time: the argument an ``[n]`` selects, and whether it exists."""
    if index is None:
        return n, True
    if index[1] and 0 <= index[0] < nargs:
        return index[0], True
    return n, False


def _complex_directive(d: _Directive, args: tuple[Any, ...], n: int,
                       out: list[str]) -> int:
    """Run a directive with [n] indexes or * arguments; returns the next argument number."""
    nargs = len(args)
    n, good = _use_index(d.wid_index, n, nargs)
    minus, zero = d.minus, d.zero
    wid = 0
    if d.wid == _STAR:
        wid, present, n = _int_arg(args, n)
        if not present:
            out.append("%!(BADWIDTH)")
        if wid < 0:
            wid, minus, zero = -wid, True, False
    elif d.wid is not None:
        wid = d.wid
        good = good and not d.bad_wid_index
    prec = -1
    if d.has_prec:
        good = good and not d.bad_prec_index
        n, ok = _use_index(d.prec_index, n, nargs)
        good = good and ok
        if d.prec == _STAR:
            prec, present, n = _int_arg(args, n)
            if prec < 0 or not present:  # a negative precision is bad too
                prec = -1
                out.append("%!(BADPREC)")
        else:
            prec = d.prec or 0
    n, ok = _use_index(d.verb_index, n, nargs)
    good = good and ok
    verb = d.verb
    if verb is None:
        out.append("%!(NOVERB)")
    elif verb == "%":
        out.append("%")
    elif not good:
        out.append(f"%!{verb}(BADINDEX)")
    elif n >= nargs:
        out.append(f"%!{verb}(MISSING)")
    else:
        out.append(print_arg(args[n], verb, d.make_flags(wid, prec, minus, zero)))
        n += 1
    return n


def _extra(args: tuple[Any, ...]) -> str:
    """``%!(EXTRA type=value, ...)`` for arguments no verb used."""
    parts = [
        "<nil>" if a is None or a is MISSING else go_type_name(a) + "=" + print_arg(a, "v", PLAIN)
        for a in args
    ]
    return "%!(EXTRA " + ", ".join(parts) + ")"


def sprintf(format: str, *args: Any) -> str:
    """Go's fmt.Sprintf."""
    parsed = _parse_format(format)
    verbs = parsed.verbs
    if verbs is not None and len(verbs) == len(args):
        # Bare verbs, one argument each: no error forms but bad verbs are possible.
        out = [parsed.head]
        append = out.append
        for verb, a, text in zip(verbs, args, parsed.texts):
            cls = a.__class__
            if cls is str and (verb == "s" or verb == "v"):
                append(a)
            elif cls is int and (verb == "d" or verb == "v"):
                append(str(a))
            elif cls is float and verb == "v":
                append(float_v(a))
            else:
                append(print_arg(a, verb, PLAIN))
            append(text)
        return "".join(out)
    return _sprintf(parsed.items, args)


def _sprintf(items: tuple[str | _Directive, ...], args: tuple[Any, ...]) -> str:
    """The general case of sprintf: flags, missing or extra arguments, indexes, stars."""
    out: list[str] = []
    append = out.append
    n = 0
    nargs = len(args)
    reordered = False
    for item in items:
        if isinstance(item, str):
            append(item)
            continue
        if not item.simple:
            reordered = reordered or (item.wid_index is not None or item.prec_index is not None
                                      or item.verb_index is not None)
            n = _complex_directive(item, args, n, out)
        elif n >= nargs:
            append(f"%!{item.verb}(MISSING)")
        else:
            append(print_arg(args[n], item.verb or "", item.flags))
            n += 1
    if not reordered and n < nargs:
        append(_extra(args[n:]))
    return "".join(out)


def format_value(value: Any) -> str:
    """The ``%v`` text of one value (``fmt.Sprint(value)`` for anything but a string)."""
    cls = value.__class__
    if cls is str:
        return value
    if cls is int:
        return str(value)
    if cls is float:
        return float_v(value)
    if cls is bool:
        return "true" if value else "false"
    return print_arg(value, "v", PLAIN)


def sprint(*args: Any) -> str:
    """Go's fmt.Sprint: a space between operands when neither is a string."""
    out: list[str] = []
    prev_string = False
    for i, a in enumerate(args):
        is_string = isinstance(a, str)
        if i > 0 and not is_string and not prev_string:
            out.append(" ")
        out.append(format_value(a))
        prev_string = is_string
    return "".join(out)


def sprintln(*args: Any) -> str:
    """Go's fmt.Sprintln: spaces between all operands and a final newline."""
    return " ".join(map(format_value, args)) + "\n"
