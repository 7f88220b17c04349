"""Go's ``path``: Clean, Base, Dir, Join and Match on slash-separated paths.

``match`` is Go 1.19's ``path.Match`` to the letter (it works on UTF-8 bytes, and checks
the whole pattern, even after a mismatch); ``compile_match`` gives an equal predicate,
fast, for matching one pattern against many names. On Unix ``path/filepath.Match`` answers
the same, except that it reports a bad pattern only when matching gets to the bad part.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from .strings import go_bytes

__all__ = ["BadPatternError", "base", "clean", "compile_match", "dir", "join", "match"]


class BadPatternError(ValueError):
    """Go's ``path.ErrBadPattern``."""

    def __init__(self) -> None:
        super().__init__("syntax error in pattern")


def clean(path: str) -> str:
    """``path.Clean``: the shortest equivalent path, lexically (no file system)."""
    # What Clean changes always shows as "//", "/.", a leading "." or a trailing "/".
    if path and "//" not in path and "/." not in path and path[0] != "." and (path[-1] != "/" or path == "/"):
        return path
    if path == "":
        return "."
    rooted = path[0] == "/"
    parts: list[str] = []
    for part in path.split("/"):
        if part == "" or part == ".":
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


def base(path: str) -> str:
    """``path.Base``: the last element, trailing slashes removed; ``""`` gives ``"."``."""
    if path == "":
        return "."
    path = path.rstrip("/")
    if path == "":
        return "/"
    return path[path.rfind("/") + 1 :]


def dir(path: str) -> str:  # Go's name, as callers read it: path.dir
    """``path.Dir``: everything but the last element, cleaned."""
    i = path.rfind("/")
    if i > 0:
        return clean(path[:i])  # Clean("a/b/") == Clean("a/b"): the slash can stay out
    return "/" if i == 0 else "."


def join(*elems: str) -> str:
    """``path.Join``: the non-empty elements joined with slashes, cleaned; ``""`` if none."""
    joined = ""
    for elem in elems:
        if not elem:
            continue
        if not joined:
            joined = elem
        elif joined[-1] == "/":  # Clean drops a second slash: "/" + "a" is clean already
            joined += elem
        else:
            joined += "/" + elem
    return clean(joined) if joined else ""


# --- Match, faithfully: Go's algorithm on UTF-8 bytes ------------------------------------

_SLASH = ord("/")


def _decode_rune(data: bytes, i: int) -> tuple[int, int]:
    """``utf8.DecodeRune(data[i:])``: invalid or short input gives (U+FFFD, 1)."""
    b0 = data[i]
    if b0 < 0x80:
        return b0, 1
    size = 2 if 0xC0 <= b0 < 0xE0 else 3 if 0xE0 <= b0 < 0xF0 else 4 if 0xF0 <= b0 < 0xF8 else 0
    try:
        text = data[i : i + size].decode("utf-8")
    except UnicodeDecodeError:
        return 0xFFFD, 1
    if len(text) != 1:
        return 0xFFFD, 1
    return ord(text), size


def _scan_chunk(pattern: bytes) -> tuple[bool, bytes, bytes]:
    """Split off the next run of stars and the star-free chunk after it."""
    star = False
    while pattern[:1] == b"*":
        pattern = pattern[1:]
        star = True
    in_range = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == 0x5C:  # backslash: skip the escaped byte (a dangling one errors later)
            if i + 1 < len(pattern):
                i += 1
        elif c == 0x5B:  # [
            in_range = True
        elif c == 0x5D:  # ]
            in_range = False
        elif c == 0x2A and not in_range:  # *
            break
        i += 1
    return star, pattern[:i], pattern[i:]


def _get_esc(chunk: bytes, i: int) -> tuple[int, int]:
    """A possibly escaped character of a class, and the index after it."""
    if i >= len(chunk) or chunk[i] in (0x2D, 0x5D):  # - ]
        raise BadPatternError()
    if chunk[i] == 0x5C:
        i += 1
        if i >= len(chunk):
            raise BadPatternError()
    rune, size = _decode_rune(chunk, i)
    if rune == 0xFFFD and size == 1:
        raise BadPatternError()
    i += size
    if i >= len(chunk):
        raise BadPatternError()
    return rune, i


def _match_chunk(chunk: bytes, s: bytes) -> bytes | None:
    """Match ``chunk`` at the start of ``s``: the rest of ``s``, or None. After a mismatch
    the chunk is still parsed to the end, so a malformed one always raises."""
    failed = False
    ci = si = 0
    while ci < len(chunk):
        if not failed and si >= len(s):
            failed = True
        c = chunk[ci]
        if c == 0x5B:  # [ character class
            rune = 0
            if not failed:
                rune, size = _decode_rune(s, si)
                si += size
            ci += 1
            negated = ci < len(chunk) and chunk[ci] == 0x5E  # ^
            if negated:
                ci += 1
            matched = False
            nrange = 0
            while True:
                if ci < len(chunk) and chunk[ci] == 0x5D and nrange > 0:
                    ci += 1
                    break
                lo, ci = _get_esc(chunk, ci)
                hi = lo
                if chunk[ci] == 0x2D:  # -
                    hi, ci = _get_esc(chunk, ci + 1)
                if lo <= rune <= hi:
                    matched = True
                nrange += 1
            if matched == negated:
                failed = True
            continue
        if c == 0x3F:  # ?
            if not failed:
                if s[si] == _SLASH:
                    failed = True
                si += _decode_rune(s, si)[1]
            ci += 1
            continue
        if c == 0x5C:
            ci += 1
            if ci >= len(chunk):
                raise BadPatternError()
        if not failed:
            if chunk[ci] != s[si]:
                failed = True
            si += 1
        ci += 1
    return None if failed else s[si:]


def _match_bytes(pattern: bytes, name: bytes) -> bool:
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return _SLASH not in name  # a trailing * matches the rest unless it has a /
        rest = _match_chunk(chunk, name)
        if rest is not None and (not rest or pattern):
            name = rest
            continue
        if star:
            found = False
            i = 0
            while i < len(name) and name[i] != _SLASH:
                rest = _match_chunk(chunk, name[i + 1 :])
                i += 1
                if rest is not None:
                    if not pattern and rest:
                        continue  # the last chunk must use up the name
                    name = rest
                    found = True
                    break
            if found:
                continue
        while pattern:  # no match: still report a malformed rest of the pattern
            _, chunk, pattern = _scan_chunk(pattern)
            _match_chunk(chunk, b"")
        return False
    return not name


def match(pattern: str, name: str) -> bool:
    """Go 1.19 ``path.Match``; raises ``BadPatternError`` for a malformed pattern."""
    return _match_bytes(go_bytes(pattern), go_bytes(name))


@functools.lru_cache(maxsize=256)  # a pattern recurs in every store a template runs on
def compile_match(pattern: str) -> Callable[[str], bool]:
    """A predicate equal to ``match(pattern, ·)``, fast; ``BadPatternError`` at once for a
    malformed pattern (matching "" checks all of it).

    Without ``[`` every chunk matches a fixed number of non-``/`` runes (or literal
    slashes), so Go's leftmost-first chunk placement equals a full regex match. Classes
    can match ``/`` and break that equivalence, so those use the faithful matcher.
    """
    _match_bytes(go_bytes(pattern), b"")  # raises if malformed
    if not any(c in pattern for c in "*?[\\"):
        return pattern.__eq__
    if "[" in pattern:
        return lambda name: match(pattern, name)
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            if not parts or parts[-1] != "[^/]*":
                parts.append("[^/]*")
        elif c == "?":
            parts.append("[^/]")
        else:
            if c == "\\":
                i += 1
                c = pattern[i]
            parts.append(re.escape(c))
        i += 1
    regex = re.compile("".join(parts), re.DOTALL)
    return lambda name: regex.fullmatch(name) is not None
