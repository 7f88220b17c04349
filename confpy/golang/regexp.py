"""Go's ``regexp`` (RE2 syntax, Go 1.19) on Python's ``re``, for regexMatch and regexReplaceAll.

A Go pattern is parsed here and written out as a Python pattern that matches the same
text: ``$`` is the end of the text (Python's also matches before a final newline), ``\\d``
``\\s`` ``\\w`` ``\\b`` and ``[[:alpha:]]`` are ASCII as in Go, octal escapes are not
backreferences, ``{`` that is not a repetition is a literal, ``(?i)`` in the middle of a
group applies to the rest of it. What Go rejects is an error with Go's text
(``GoRegexpError``); what Go accepts but Python's ``re`` cannot do the same way (Unicode
classes ``\\pL``, the ungreedy flag ``U``, a negated class inside a class) is refused
(``UnsupportedRegexp``) rather than matched differently. Matching is leftmost-first in
both. ``replace_all`` follows Go's ReplaceAllString: its loop over empty matches and its
``$1``/``${name}`` expansion.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from .strconv import can_backquote, quote

__all__ = ["GoRegexp", "GoRegexpError", "UnsupportedRegexp", "compile_go", "replace_all"]

_WORD = "0-9A-Za-z_"
_PERL_CLASSES = {"d": "0-9", "s": "\\t\\n\\f\\r ", "w": _WORD}
_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~",
    "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z", "word": _WORD,
    "xdigit": "0-9A-Fa-f",
}  # fmt: skip
_SIMPLE_ESCAPES = {"a": "\\a", "f": "\\f", "n": "\\n", "r": "\\r", "t": "\\t", "v": "\\v"}
_WORD_BOUNDARY = f"(?:(?<![{_WORD}])(?=[{_WORD}])|(?<=[{_WORD}])(?![{_WORD}]))"
_NOT_WORD_BOUNDARY = f"(?:(?<![{_WORD}])(?![{_WORD}])|(?<=[{_WORD}])(?=[{_WORD}]))"
_MAX_REPEAT = 1000
_MAX_DEPTH = 200  # groups in groups: deeper is refused (the translation recurses)
_REPEAT = re.compile(r"\{(0|[1-9][0-9]*)(,(0|[1-9][0-9]*)?)?\}")  # Go: no leading zeros


class GoRegexpError(ValueError):
    """Go rejects the pattern: ``str()`` is Go's ``error parsing regexp: ...`` text."""

    def __init__(self, code: str, expr: str) -> None:
        super().__init__(f"error parsing regexp: {code}: `{expr}`")


class UnsupportedRegexp(ValueError):
    """Go accepts the pattern, but Python's re cannot match it the same way."""


class GoRegexp(NamedTuple):
    source: str  # the Go pattern
    pattern: re.Pattern[str]


def _char(ch: str) -> str:
    """One character as a Python pattern literal, inside or outside a class."""
    if ch.isalnum() and ch.isascii():
        return ch
    if ch.isascii() and ch.isprintable() and ch != " ":
        return "\\" + ch
    return f"\\U{ord(ch):08x}"


class _Translator:
    """A recursive-descent reading of Go's syntax (regexp/syntax's Perl flags)."""

    def __init__(self, source: str) -> None:
        self.s = source
        self.i = 0

    def error(self, code: str, expr: str) -> GoRegexpError:
        return GoRegexpError(code, expr)

    # regexp := alternation (")" closes a group at depth > 0)
    def translate(self) -> str:
        out = self.group(flags=frozenset(), depth=0)
        if self.i < len(self.s):  # a ")" with no group open
            raise self.error("unexpected )", self.s)
        return out

    def group(self, flags: frozenset[str], depth: int) -> str:
        """Alternatives up to a ")" (not consumed) or the end, with Go's flag scoping:
        ``(?i)`` holds to the end of the group, across ``|``."""
        alternatives: list[str] = []
        current: list[str] = []
        last_atom_start = -1  # index in current of the last atom, for repetition
        last_was_repeat = ""
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch == ")":
                break
            if ch == "|":
                self.i += 1
                alternatives.append("".join(current))
                current, last_atom_start, last_was_repeat = [], -1, ""
                continue
            if ch in "*+?{":
                repeat = self.repetition()
                if repeat is None:  # a "{" that is not a repetition: a literal
                    self.i += 1
                    current.append("\\{")
                    last_atom_start, last_was_repeat = len(current) - 1, ""
                    continue
                op, text = repeat
                if last_was_repeat:  # a** is an error in Go (and a*+ no possessive)
                    raise self.error("invalid nested repetition operator", last_was_repeat + text)
                if last_atom_start < 0:
                    raise self.error("missing argument to repetition operator", text)
                atom = "".join(current[last_atom_start:])
                del current[last_atom_start:]
                current.append(f"(?:{atom}){op}")
                last_was_repeat = text
                continue
            last_was_repeat = ""
            if ch == "(" and self.s.startswith("(?", self.i) and self._is_flag_set():
                flags = self.flag_set(flags)
                last_atom_start = -1
                continue
            last_atom_start = len(current)
            current.append(self.atom(flags, depth))
        alternatives.append("".join(current))
        return "|".join(alternatives)

    def _is_flag_set(self) -> bool:
        """Whether the group starting here is ``(?flags)`` (no ``:``)."""
        j = self.i + 2
        while j < len(self.s) and self.s[j] in "imsU-":
            j += 1
        return j < len(self.s) and self.s[j] == ")"

    def flag_set(self, flags: frozenset[str]) -> frozenset[str]:
        start = self.i
        flags, end = self.read_flags(self.i + 2, flags)
        if self.s[end] != ")":  # pragma: no cover (checked by _is_flag_set)
            raise self.error("invalid or unsupported Perl syntax", self.s[start : end + 1])
        self.i = end + 1
        return flags

    def read_flags(self, j: int, flags: frozenset[str]) -> tuple[frozenset[str], int]:
        """Go's parsePerlFlags from ``j`` (after ``(?``): the new flags and the index of
        the ``:`` or ``)`` that ends them."""
        start = self.i
        on = set(flags)
        sign, saw = 1, False
        while j < len(self.s):
            c = self.s[j]
            if c in "imsU":
                if c == "U":
                    raise UnsupportedRegexp(f"the ungreedy flag U is not supported: `{self.s}`")
                (on.add if sign > 0 else on.discard)(c)
                saw = True
            elif c == "-" and sign > 0:
                sign, saw = -1, False
            elif c in ":)":
                if sign < 0 and not saw:
                    break
                return frozenset(on), j
            else:
                break
            j += 1
        raise self.error("invalid or unsupported Perl syntax", self.s[start : j + 1])

    def repetition(self) -> tuple[str, str] | None:
        """``*``, ``+``, ``?`` or ``{n,m}``, with a ``?`` for non-greedy: (Python
        operator, Go text); None for a ``{`` that is not a repetition."""
        start = self.i
        ch = self.s[self.i]
        if ch == "{":
            m = _REPEAT.match(self.s, self.i)
            if m is None:
                return None
            low = int(m.group(1))
            high = low if m.group(2) is None else (int(m.group(3)) if m.group(3) else -1)
            if low > _MAX_REPEAT or high > _MAX_REPEAT or (high >= 0 and high < low):
                raise self.error("invalid repeat count", m.group(0))
            op = m.group(0) if high != -1 else f"{{{low},}}"
            self.i = m.end()
        else:
            op = ch
            self.i += 1
        if self.i < len(self.s) and self.s[self.i] == "?":
            op += "?"
            self.i += 1
        return op, self.s[start : self.i]

    def atom(self, flags: frozenset[str], depth: int) -> str:
        if self.s[self.i] == "(":  # its own atoms carry the flags
            return self.paren(flags, depth)
        out = self.leaf(flags)
        # Case folding: Python's scoped flag around each character or class read under
        # it, so that a (?-i) inside a group is never under an outer (?i:...).
        return f"(?i:{out})" if "i" in flags else out

    def leaf(self, flags: frozenset[str]) -> str:
        ch = self.s[self.i]
        if ch == "[":
            return self.char_class()
        if ch == "\\":
            return self.escape()
        self.i += 1
        if ch == ".":
            return "(?s:.)" if "s" in flags else "[^\\n]"
        if ch == "^":
            return "(?m:^)" if "m" in flags else "(?:\\A)"
        if ch == "$":
            return "(?m:$)" if "m" in flags else "(?:\\Z)"
        return _char(ch)

    def paren(self, flags: frozenset[str], depth: int) -> str:
        s, start = self.s, self.i
        if s.startswith("(?P<", start) and len(s) - start > 4:
            end = s.find(">", start)
            if end < 0:
                raise self.error("invalid named capture", s[start:])
            name = s[start + 4 : end]
            if not name or not re.fullmatch(f"[{_WORD}]+", name):
                raise self.error("invalid named capture", s[start : end + 1])
            self.i = end + 1
            opening = f"(?P<{name}>"
        elif s.startswith("(?", start):
            flags, end = self.read_flags(start + 2, flags)
            self.i = end + 1  # after ":" (a flag set with ")" is handled in group)
            opening = "(?:"
        else:
            self.i += 1
            opening = "("
        if depth >= _MAX_DEPTH:
            raise UnsupportedRegexp(f"groups nested more than {_MAX_DEPTH} deep are not supported")
        body = self.group(flags, depth + 1)
        if self.i >= len(s):
            raise self.error("missing closing )", s)
        self.i += 1
        return f"{opening}{body})"

    def escape(self) -> str:
        s, start = self.s, self.i
        if start + 1 >= len(s):
            raise self.error("trailing backslash at end of expression", "")
        c = s[start + 1]
        self.i = start + 2
        if c == "Q":  # literal text up to \E
            end = s.find("\\E", self.i)
            literal = s[self.i :] if end < 0 else s[self.i : end]
            self.i = len(s) if end < 0 else end + 2
            return "".join(_char(x) for x in literal) if literal else "(?:)"
        if c == "A":
            return "(?:\\A)"
        if c == "z":
            return "(?:\\Z)"
        if c == "b":
            return _WORD_BOUNDARY
        if c == "B":
            return _NOT_WORD_BOUNDARY
        if c in "dsw":
            return f"[{_PERL_CLASSES[c]}]"
        if c in "DSW":
            return f"[^{_PERL_CLASSES[c.lower()]}]"
        if c in "pP":
            raise UnsupportedRegexp(f"Unicode classes (\\p, \\P) are not supported: `{s}`")
        self.i = start
        return _char(self.escaped_char())

    def escaped_char(self) -> str:
        """A single-character escape (outside or inside a class) at ``self.i``."""
        s, start = self.s, self.i
        if start + 1 >= len(s):
            raise self.error("trailing backslash at end of expression", "")
        c = s[start + 1]
        self.i = start + 2
        if c in "1234567" and not (self.i < len(s) and s[self.i] in "01234567"):
            raise self.error("invalid escape sequence", s[start : self.i])
        if c in "01234567":  # up to three octal digits
            m = re.compile("[0-7]{1,3}").match(s, start + 1)
            assert m is not None
            self.i = m.end()
            return chr(int(m.group(0), 8))
        if c == "x":
            if s.startswith("{", self.i):  # any number of hex digits, up to U+10FFFF
                j, value = self.i + 1, 0
                while j < len(s) and s[j] != "}":
                    digit = s[j]
                    j += 1
                    if digit not in "0123456789abcdefABCDEF" or (value := value * 16 + int(digit, 16)) > 0x10FFFF:
                        raise self.error("invalid escape sequence", s[start:j])
                if j >= len(s) or j == self.i + 1:
                    raise self.error("invalid escape sequence", s[start : j + 1])
                self.i = j + 1
                return chr(value)
            digits = s[self.i : self.i + 2]
            if not re.fullmatch("[0-9A-Fa-f]{2}", digits):
                raise self.error("invalid escape sequence", s[start : self.i + len(digits)][:4])
            self.i += 2
            return chr(int(digits, 16))
        if c in _SIMPLE_ESCAPES:
            return {"a": "\a", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}[c]
        if c.isascii() and not c.isalnum():
            return c
        raise self.error("invalid escape sequence", s[start : self.i])

    def char_class(self) -> str:
        """``[...]``, written out item by item (Python would read ``[[``, ``--``, ``&&``
        its own way)."""
        s, start = self.s, self.i
        self.i += 1
        negated = s.startswith("^", self.i)
        if negated:
            self.i += 1
        items: list[str] = []
        negated_items: list[str] = []  # \D, [:^alpha:]: only as the whole class
        first = True
        while self.i < len(s) and (s[self.i] != "]" or first):
            first = False
            if s.startswith("[:", self.i):
                end = s.find(":]", self.i + 2)
                name = s[self.i + 2 : end] if end > 0 else ""
                bare = name.lstrip("^")
                if end > 0:
                    if bare not in _POSIX_CLASSES or name.count("^") > 1:
                        raise self.error("invalid character class range", s[self.i : end + 2])
                    (negated_items if name.startswith("^") else items).append(_POSIX_CLASSES[bare])
                    self.i = end + 2
                    continue
            if s.startswith("\\", self.i) and self.i + 1 < len(s) and s[self.i + 1] in "dswDSWpP":
                c = s[self.i + 1]
                if c in "pP":
                    raise UnsupportedRegexp(f"Unicode classes (\\p, \\P) are not supported: `{s}`")
                (negated_items if c.isupper() else items).append(_PERL_CLASSES[c.lower()])
                self.i += 2
                continue
            item_start = self.i
            low = self.class_char()
            if s.startswith("-", self.i) and self.i + 1 < len(s) and s[self.i + 1] != "]":
                self.i += 1
                high = self.class_char()
                if ord(high) < ord(low):
                    raise self.error("invalid character class range", s[item_start : self.i])
                items.append(f"{_char(low)}-{_char(high)}")
            else:
                items.append(_char(low))
        if self.i >= len(s):
            raise self.error("missing closing ]", s[start:])
        self.i += 1
        if negated_items:
            if items or len(negated_items) > 1:
                raise UnsupportedRegexp(f"a negated class inside a class is not supported: `{s[start : self.i]}`")
            negated = not negated
            items = negated_items
        if not items:  # [^\x00-\x{10FFFF}] and the like
            return "(?!)" if not negated else "(?s:.)"
        return f"[{'^' if negated else ''}{''.join(items)}]"

    def class_char(self) -> str:
        s = self.s
        if s.startswith("\\", self.i):
            return self.escaped_char()
        ch = s[self.i]
        self.i += 1
        return ch


@functools.lru_cache(maxsize=256)
def compile_go(source: str) -> GoRegexp:
    """``regexp.Compile(source)``: GoRegexpError if Go rejects it, UnsupportedRegexp if
    Python cannot match it as Go does."""
    translated = _Translator(source).translate()
    try:
        pattern = re.compile(translated)
    except re.error as exc:
        raise UnsupportedRegexp(f"cannot use `{source}` here: {exc}") from None
    return GoRegexp(source, pattern)


def must_compile_text(source: str, error: GoRegexpError) -> str:
    """The text of regexp.MustCompile's panic."""
    shown = f"`{source}`" if can_backquote(source) else quote(source)
    return f"regexp: Compile({shown}): {error}"


def _extract(template: str) -> tuple[str, int, str] | None:
    """Go's extract: the name after ``$`` (``name`` or ``{name}``), its number (-1 if
    not a number), and the rest; None when malformed."""
    brace = template.startswith("{")
    rest = template[1:] if brace else template
    i = 0
    while i < len(rest) and (rest[i].isalpha() or rest[i].isdecimal() or rest[i] == "_"):
        i += 1
    if i == 0:
        return None
    name = rest[:i]
    if brace:
        if i >= len(rest) or rest[i] != "}":
            return None
        i += 1
    num = -1
    if name.isascii() and name.isdigit() and not (name[0] == "0" and len(name) > 1):
        num = int(name) if len(name) < 9 else -1
    return name, num, rest[i:]


def _expand(template: str, match: re.Match[str]) -> str:
    out: list[str] = []
    names = match.re.groupindex
    while template:
        before, dollar, after = template.partition("$")
        out.append(before)
        if not dollar:
            return "".join(out)
        template = after
        if template.startswith("$"):
            out.append("$")
            template = template[1:]
            continue
        extracted = _extract(template)
        if extracted is None:
            out.append("$")
            continue
        name, num, template = extracted
        group = num if num >= 0 else names.get(name)
        if group is not None and group <= match.re.groups:
            out.append(match.group(group) or "")
    return "".join(out)


def replace_all(regexp: GoRegexp, src: str, repl: str) -> str:
    """``re.ReplaceAllString(src, repl)``: Go's loop (an empty match right after a
    match is not replaced) and Go's ``$`` expansion."""
    out: list[str] = []
    last_end = search = 0
    end = len(src)
    while search <= end:
        match = regexp.pattern.search(src, search)
        if match is None:
            break
        a0, a1 = match.span()
        out.append(src[last_end:a0])
        if a1 > last_end or a0 == 0:
            out.append(_expand(repl, match))
        last_end = a1
        width = 1 if search < end else 0
        if search + width > a1:
            search += width
        elif search + 1 > a1:
            search += 1
        else:
            search = a1
    out.append(src[last_end:])
    return "".join(out)
