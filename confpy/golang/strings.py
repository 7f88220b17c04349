"""Go's ``strings.ToUpper``/``ToLower``, and the bytes of a Go string.

Go strings are bytes; confpy holds them as ``str``, with bytes that are not UTF-8 carried
as surrogate escapes (``errors="surrogateescape"``). ``go_bytes`` gives the bytes back and
``byte_len`` is Go's ``len(s)``.
"""

from __future__ import annotations

__all__ = ["byte_len", "go_bytes", "to_lower", "to_upper"]


def go_bytes(s: str) -> bytes:
    """The bytes of a Go string held in a ``str``: UTF-8, with bytes that were not
    UTF-8 carried as surrogate escapes (lone surrogates of other origin pass through)."""
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogatepass")


def byte_len(s: str) -> int:
    """Go's ``len(s)``: bytes, not characters."""
    return len(s) if s.isascii() else len(go_bytes(s))


# Case pairs Unicode 14 added: Go 1.19's tables (Unicode 13) leave them unchanged.
_UNICODE_14_CASED = ((0x2C2F, 0x2C2F), (0x2C5F, 0x2C5F), (0xA7C0, 0xA7C1), (0xA7D0, 0xA7D1),
                     (0xA7D6, 0xA7D9), (0x10570, 0x105BC))  # fmt: skip
_NEWER_THAN_GO = frozenset(chr(c) for lo, hi in _UNICODE_14_CASED for c in range(lo, hi + 1))


def _not_utf8(ch: str) -> str:
    """What strings.Map writes for a surrogate: U+FFFD for each byte Go cannot decode
    (one for a surrogate escape, three for a lone surrogate that go_bytes encodes)."""
    return "\ufffd" if "\udc80" <= ch <= "\udcff" else "\ufffd" * 3


def _one_for_one(ch: str, mapped: str) -> str | None:
    """Python's mapping ``mapped`` of ``ch`` as Go 1.19 maps it, where it is one character
    (None where it is several: Go maps rune by rune, no "ß" -> "SS")."""
    if len(mapped) != 1:
        return None
    if "\ud800" <= ch <= "\udfff":
        return _not_utf8(ch)
    return ch if ch in _NEWER_THAN_GO else mapped


def _simple_upper(ch: str) -> str:
    upper = _one_for_one(ch, ch.upper())
    if upper is not None:
        return upper
    # Where the full mapping has several characters, the single-character title case is
    # the simple upper case mapping when there is one (U+1F80 -> U+1F88).
    title = ch.title()
    return title if len(title) == 1 else ch


def _simple_lower(ch: str) -> str:
    lower = _one_for_one(ch, ch.lower())
    if lower is not None:
        return lower
    return "i" if ch == "\u0130" else ch  # only U+0130 has a longer full lower case


def to_upper(s: str) -> str:
    """``strings.ToUpper``: simple case mapping, rune by rune; bytes that are not UTF-8
    become U+FFFD."""
    return s.upper() if s.isascii() else "".join(map(_simple_upper, s))


def to_lower(s: str) -> str:
    """``strings.ToLower``: rune by rune, so no final-sigma rule either; bytes that are
    not UTF-8 become U+FFFD."""
    return s.lower() if s.isascii() else "".join(map(_simple_lower, s))
