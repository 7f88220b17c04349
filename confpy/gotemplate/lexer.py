"""The lexer: template text to tokens, as Go's text/template/parse lexer scans it.

It is a set of state functions; each consumes input, may emit tokens, and returns the next
state. ``next_token`` runs states until a token is ready, so no thread or generator is
needed. Trim markers (``{{- `` and `` -}}``) are resolved here: the parser never sees the
trimmed spaces. Positions are offsets into the ``str``; Go counts bytes, and the only place
that difference shows (error columns) converts them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from enum import IntEnum
from typing import NamedTuple, Optional

from ..golang.strconv import is_print, quote

__all__ = ["Lexer", "Token", "TokenKind"]


class TokenKind(IntEnum):
    ERROR = 0
    BOOL = 1
    CHAR = 2  # a printable ASCII character: a grab bag for ',' and friends
    CHAR_CONSTANT = 3
    COMMENT = 4
    COMPLEX = 5
    ASSIGN = 6
    DECLARE = 7
    EOF = 8
    FIELD = 9
    IDENTIFIER = 10
    LEFT_DELIM = 11
    LEFT_PAREN = 12
    NUMBER = 13
    PIPE = 14
    RAW_STRING = 15
    RIGHT_DELIM = 16
    RIGHT_PAREN = 17
    SPACE = 18
    STRING = 19
    TEXT = 20
    VARIABLE = 21
    KEYWORD = 22  # keywords sort after this sentinel
    BLOCK = 23
    BREAK = 24
    CONTINUE = 25
    DOT = 26
    DEFINE = 27
    ELSE = 28
    END = 29
    IF = 30
    NIL = 31
    RANGE = 32
    TEMPLATE = 33
    WITH = 34


KEYWORDS: dict[str, TokenKind] = {
    ".": TokenKind.DOT,
    "block": TokenKind.BLOCK,
    "break": TokenKind.BREAK,
    "continue": TokenKind.CONTINUE,
    "define": TokenKind.DEFINE,
    "else": TokenKind.ELSE,
    "end": TokenKind.END,
    "if": TokenKind.IF,
    "range": TokenKind.RANGE,
    "nil": TokenKind.NIL,
    "template": TokenKind.TEMPLATE,
    "with": TokenKind.WITH,
}


class Token(NamedTuple):
    kind: TokenKind
    pos: int  # offset of the token's start in the input
    val: str
    line: int  # line of the token's start, 1-based

    def __str__(self) -> str:
        """Go's item.String(), used in "unexpected X in Y" messages."""
        if self.kind == TokenKind.EOF:
            return "EOF"
        if self.kind == TokenKind.ERROR:
            return self.val
        if self.kind > TokenKind.KEYWORD:
            return f"<{self.val}>"
        if len(self.val.encode("utf-8", "surrogateescape")) > 10:
            return quote(self.val[:10]) + "..."
        return quote(self.val)


SPACE_CHARS = " \t\r\n"
TRIM_MARKER_LEN = 2  # the marker plus the space before or after it
LEFT_COMMENT = "/*"
RIGHT_COMMENT = "*/"

State = Callable[["Lexer"], Optional["State"]]


def _is_space(ch: str) -> bool:
    return ch in (" ", "\t", "\r", "\n") and ch != ""


def _is_alnum(ch: str) -> bool:
    # Go: '_' or unicode.IsLetter or unicode.IsDigit (category Nd).
    return ch == "_" or (ch != "" and (ch.isalpha() or ch.isdecimal()))


def _has_left_trim(s: str, pos: int) -> bool:
    return s[pos : pos + 1] == "-" and _is_space(s[pos + 1 : pos + 2])


def _has_right_trim(s: str, pos: int) -> bool:
    return _is_space(s[pos : pos + 1]) and s[pos + 1 : pos + 2] == "-"


class Lexer:
    """Scans one template text; ``next_token()`` returns tokens until EOF or ERROR."""

    def __init__(
        self,
        text: str,
        left: str = "{{",
        right: str = "}}",
        *,
        break_ok: bool = True,
        continue_ok: bool = True,
    ) -> None:
        self.input = text
        self.left = left or "{{"
        self.right = right or "}}"
        self.break_ok = break_ok
        self.continue_ok = continue_ok
        self.pos = 0
        self.start = 0
        self.at_eof = False
        self.paren_depth = 0
        self.line = 1
        self.start_line = 1
        self._tokens: deque[Token] = deque()
        self._state: State | None = lex_text

    # -- driving ---------------------------------------------------------------------

    def next_token(self) -> Token:
        """The next token; after EOF or an error, EOF forever (Go drains the channel)."""
        while not self._tokens:
            if self._state is None:
                return Token(TokenKind.EOF, self.pos, "", self.line)
            self._state = self._state(self)
        return self._tokens.popleft()

    # -- primitives, as Go's lexer has them ---------------------------------------------

    def next(self) -> str:
        if self.pos >= len(self.input):
            self.at_eof = True
            return ""
        ch = self.input[self.pos]
        self.pos += 1
        if ch == "\n":
            self.line += 1
        return ch

    def peek(self) -> str:
        return self.input[self.pos] if self.pos < len(self.input) else ""

    def backup(self) -> None:
        if not self.at_eof and self.pos > 0:
            self.pos -= 1
            if self.input[self.pos] == "\n":
                self.line -= 1

    def emit(self, kind: TokenKind) -> None:
        self._tokens.append(Token(kind, self.start, self.input[self.start : self.pos], self.start_line))
        self.start = self.pos
        self.start_line = self.line

    def ignore(self) -> None:
        self.line += self.input.count("\n", self.start, self.pos)
        self.start = self.pos
        self.start_line = self.line

    def accept(self, valid: str) -> bool:
        ch = self.next()
        if ch != "" and ch in valid:
            return True
        self.backup()
        return False

    def accept_run(self, valid: str) -> None:
        while True:
            ch = self.next()
            if ch == "" or ch not in valid:
                break
        self.backup()

    def errorf(self, message: str) -> State | None:
        """Emit an error token; returns the nil state that ends the scan (as Go's)."""
        self._tokens.append(Token(TokenKind.ERROR, self.start, message, self.start_line))
        return None

    def at_right_delim(self) -> tuple[bool, bool]:
        """(at the right delimiter, with a trim marker before it)."""
        s, p = self.input, self.pos
        if _has_right_trim(s, p) and s.startswith(self.right, p + TRIM_MARKER_LEN):
            return True, True
        if s.startswith(self.right, p):
            return True, False
        return False, False

    def at_terminator(self) -> bool:
        ch = self.peek()
        if _is_space(ch) or ch in ("", ".", ",", "|", ":", ")", "("):
            return True
        return self.input.startswith(self.right, self.pos)


def _describe_rune(ch: str) -> str:
    """Go's %#U: ``U+0021 '!'``, the character itself only when printable."""
    code = ord(ch)
    return f"U+{code:04X} '{ch}'" if is_print(ch) else f"U+{code:04X}"


# -- states ------------------------------------------------------------------------------


def lex_text(lx: Lexer) -> State | None:
    s = lx.input
    x = s.find(lx.left, lx.pos)
    if x >= 0:
        delim_len = len(lx.left)
        lx.pos = x
        trim = 0
        if _has_left_trim(s, x + delim_len):
            segment = s[lx.start : x]
            trim = len(segment) - len(segment.rstrip(SPACE_CHARS))
        lx.pos -= trim
        if lx.pos > lx.start:
            lx.line += s.count("\n", lx.start, lx.pos)
            lx.emit(TokenKind.TEXT)
        lx.pos += trim
        lx.ignore()
        return lex_left_delim
    lx.pos = len(s)
    if lx.pos > lx.start:
        lx.line += s.count("\n", lx.start, lx.pos)
        lx.emit(TokenKind.TEXT)
    lx.emit(TokenKind.EOF)
    return None


def lex_left_delim(lx: Lexer) -> State | None:
    lx.pos += len(lx.left)
    trim = _has_left_trim(lx.input, lx.pos)
    after_marker = TRIM_MARKER_LEN if trim else 0
    if lx.input.startswith(LEFT_COMMENT, lx.pos + after_marker):
        lx.pos += after_marker
        lx.ignore()
        return lex_comment
    lx.emit(TokenKind.LEFT_DELIM)
    lx.pos += after_marker
    lx.ignore()
    lx.paren_depth = 0
    return lex_inside_action


def lex_comment(lx: Lexer) -> State | None:
    lx.pos += len(LEFT_COMMENT)
    i = lx.input.find(RIGHT_COMMENT, lx.pos)
    if i < 0:
        return lx.errorf("unclosed comment")
    lx.pos = i + len(RIGHT_COMMENT)
    delim, trim = lx.at_right_delim()
    if not delim:
        return lx.errorf("comment ends before closing delimiter")
    if trim:
        lx.pos += TRIM_MARKER_LEN
    lx.pos += len(lx.right)
    if trim:
        rest = lx.input[lx.pos :]
        lx.pos += len(rest) - len(rest.lstrip(SPACE_CHARS))
    lx.ignore()
    return lex_text


def lex_right_delim(lx: Lexer) -> State | None:
    trim = _has_right_trim(lx.input, lx.pos)
    if trim:
        lx.pos += TRIM_MARKER_LEN
        lx.ignore()
    lx.pos += len(lx.right)
    lx.emit(TokenKind.RIGHT_DELIM)
    if trim:
        rest = lx.input[lx.pos :]
        lx.pos += len(rest) - len(rest.lstrip(SPACE_CHARS))
        lx.ignore()
    return lex_text


def lex_inside_action(lx: Lexer) -> State | None:
    delim, _ = lx.at_right_delim()
    if delim:
        if lx.paren_depth == 0:
            return lex_right_delim
        return lx.errorf("unclosed left paren")
    ch = lx.next()
    if ch == "":
        return lx.errorf("unclosed action")
    if _is_space(ch):
        lx.backup()  # put the space back in case it is " -}}"
        return lex_space
    if ch == "=":
        lx.emit(TokenKind.ASSIGN)
    elif ch == ":":
        if lx.next() != "=":
            return lx.errorf("expected :=")
        lx.emit(TokenKind.DECLARE)
    elif ch == "|":
        lx.emit(TokenKind.PIPE)
    elif ch == '"':
        return lex_quote
    elif ch == "`":
        return lex_raw_quote
    elif ch == "$":
        return lex_variable
    elif ch == "'":
        return lex_char
    elif ch == "." and lx.peek() != "" and not "0" <= lx.peek() <= "9":
        return lex_field
    elif ch in "+-." or "0" <= ch <= "9":
        lx.backup()
        return lex_number
    elif _is_alnum(ch):
        lx.backup()
        return lex_identifier
    elif ch == "(":
        lx.emit(TokenKind.LEFT_PAREN)
        lx.paren_depth += 1
    elif ch == ")":
        lx.emit(TokenKind.RIGHT_PAREN)
        lx.paren_depth -= 1
        if lx.paren_depth < 0:
            return lx.errorf(f"unexpected right paren {_describe_rune(ch)}")
    elif ord(ch) < 0x80 and ch.isprintable():
        lx.emit(TokenKind.CHAR)
    else:
        return lx.errorf(f"unrecognized character in action: {_describe_rune(ch)}")
    return lex_inside_action


def lex_space(lx: Lexer) -> State | None:
    count = 0
    while _is_space(lx.peek()):
        lx.next()
        count += 1
    s, p = lx.input, lx.pos
    if _has_right_trim(s, p - 1) and s.startswith(lx.right, p - 1 + TRIM_MARKER_LEN):
        lx.backup()  # before the space
        if count == 1:
            return lex_right_delim  # on the delimiter: go straight to it
    lx.emit(TokenKind.SPACE)
    return lex_inside_action


def lex_identifier(lx: Lexer) -> State | None:
    while True:
        ch = lx.next()
        if _is_alnum(ch):
            continue
        lx.backup()
        word = lx.input[lx.start : lx.pos]
        if not lx.at_terminator():
            return lx.errorf(f"bad character {_describe_rune(ch or chr(0xFFFD))}")
        keyword = KEYWORDS.get(word)
        if keyword is not None and keyword > TokenKind.KEYWORD:
            if (keyword == TokenKind.BREAK and not lx.break_ok) or (
                keyword == TokenKind.CONTINUE and not lx.continue_ok
            ):
                lx.emit(TokenKind.IDENTIFIER)
            else:
                lx.emit(keyword)
        elif word[0] == ".":
            lx.emit(TokenKind.FIELD)
        elif word in ("true", "false"):
            lx.emit(TokenKind.BOOL)
        else:
            lx.emit(TokenKind.IDENTIFIER)
        return lex_inside_action


def lex_field(lx: Lexer) -> State | None:
    return _lex_field_or_variable(lx, TokenKind.FIELD)


def lex_variable(lx: Lexer) -> State | None:
    if lx.at_terminator():  # nothing interesting follows: "$"
        lx.emit(TokenKind.VARIABLE)
        return lex_inside_action
    return _lex_field_or_variable(lx, TokenKind.VARIABLE)


def _lex_field_or_variable(lx: Lexer, kind: TokenKind) -> State | None:
    if lx.at_terminator():  # nothing interesting follows: "." or "$"
        lx.emit(TokenKind.VARIABLE if kind == TokenKind.VARIABLE else TokenKind.DOT)
        return lex_inside_action
    while True:
        ch = lx.next()
        if not _is_alnum(ch):
            lx.backup()
            break
    if not lx.at_terminator():
        return lx.errorf(f"bad character {_describe_rune(ch or chr(0xFFFD))}")
    lx.emit(kind)
    return lex_inside_action


def _lex_quoted(lx: Lexer, closing: str, kind: TokenKind, what: str) -> State | None:
    while True:
        ch = lx.next()
        if ch == "\\":
            nxt = lx.next()
            if nxt not in ("", "\n"):
                continue
            return lx.errorf(f"unterminated {what}")
        if ch in ("", "\n"):
            return lx.errorf(f"unterminated {what}")
        if ch == closing:
            break
    lx.emit(kind)
    return lex_inside_action


def lex_char(lx: Lexer) -> State | None:
    return _lex_quoted(lx, "'", TokenKind.CHAR_CONSTANT, "character constant")


def lex_quote(lx: Lexer) -> State | None:
    return _lex_quoted(lx, '"', TokenKind.STRING, "quoted string")


def lex_raw_quote(lx: Lexer) -> State | None:
    while True:
        ch = lx.next()
        if ch == "":
            return lx.errorf("unterminated raw quoted string")
        if ch == "`":
            break
    lx.emit(TokenKind.RAW_STRING)
    return lex_inside_action


def lex_number(lx: Lexer) -> State | None:
    if not _scan_number(lx):
        return lx.errorf(f"bad number syntax: {quote(lx.input[lx.start : lx.pos])}")
    if lx.peek() in ("+", "-") and lx.peek() != "":
        # A complex number: 1+2i.
        if not _scan_number(lx) or lx.input[lx.pos - 1] != "i":
            return lx.errorf(f"bad number syntax: {quote(lx.input[lx.start : lx.pos])}")
        lx.emit(TokenKind.COMPLEX)
    else:
        lx.emit(TokenKind.NUMBER)
    return lex_inside_action


def _scan_number(lx: Lexer) -> bool:
    lx.accept("+-")
    digits = "0123456789_"
    if lx.accept("0"):
        if lx.accept("xX"):
            digits = "0123456789abcdefABCDEF_"
        elif lx.accept("oO"):
            digits = "01234567_"
        elif lx.accept("bB"):
            digits = "01_"
    lx.accept_run(digits)
    if lx.accept("."):
        lx.accept_run(digits)
    if len(digits) == 11 and lx.accept("eE"):
        lx.accept("+-")
        lx.accept_run("0123456789_")
    if len(digits) == 23 and lx.accept("pP"):
        lx.accept("+-")
        lx.accept_run("0123456789_")
    lx.accept("i")
    if _is_alnum(lx.peek()):
        lx.next()
        return False
    return True
