"""confd's key/value store (memkv v0.1.1) as an immutable snapshot.

Templates see keys relative to the resource prefix (``store_key``) and query them with
memkv's functions: ``get``, ``gets``, ``getv``, ``getvs``, ``exists``, ``ls``, ``lsdir``.
Every quirk of memkv is kept on purpose, because users' templates depend on them:

* ``gets``/``getvs`` match keys with Go's ``path.Match`` (``go_path_match``): ``*`` and
  ``?`` never cross ``/``. A bad pattern errors only when the store is non-empty.
* ``getvs`` sorts by value, ``gets`` by key.
* ``ls "/"`` gives only top-level leaves and ``lsdir "/"`` is always empty, because memkv
  compares ``strings.Split(path.Clean(p), "/")`` term lists (``"/"`` gives ``["", ""]``).

The snapshot never changes, so a sorted key list (for prefix ranges) and the results of
``ls``/``lsdir``/``gets`` are computed once per argument and cached. List results are
fresh lists on every call: templates may reverse or sort them in place.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from confpy.gotemplate.values import GoList, StringList

__all__ = [
    "BadPatternError",
    "KVPair",
    "KVPairList",
    "KVPairs",
    "KVStore",
    "KeyNotFound",
    "go_bytes",
    "go_path_base",
    "go_path_clean",
    "go_path_dir",
    "go_path_match",
    "store_key",
]

_CACHE_LIMIT = 4096  # results kept per snapshot; templates use few distinct arguments


class KeyNotFound(KeyError):
    """memkv's ``KeyError``: its text is ``key does not exist: <key>``."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key does not exist: {key}")  # args[0] is the Go error text
        self.key = key

    def __str__(self) -> str:  # KeyError's own str() would quote the text
        return str(self.args[0])


class BadPatternError(ValueError):
    """Go's ``path.ErrBadPattern``."""

    def __init__(self) -> None:
        super().__init__("syntax error in pattern")


@dataclass(frozen=True, slots=True)
class KVPair:
    """memkv.KVPair: what ``get`` returns, and the elements of ``gets``."""

    go_type: ClassVar[str] = "memkv.KVPair"
    Key: str
    Value: str


class KVPairList(GoList):
    """A Go ``[]memkv.KVPair`` (what ``sortKVByLength`` takes and returns)."""

    go_type = "[]memkv.KVPair"
    elem_type = "memkv.KVPair"


class KVPairs(KVPairList):
    """The named type ``memkv.KVPairs`` that ``gets`` returns.

    It is assignable to a ``[]memkv.KVPair`` parameter (same underlying type), hence the
    subclass; but confd's ``reverse`` type switch does not match it, so it stays as is.
    """

    go_type = "memkv.KVPairs"


# --- Go's package path -------------------------------------------------------------


def go_path_clean(path: str) -> str:
    """``path.Clean``: the shortest equivalent path, lexically (no file system)."""
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


def go_path_base(path: str) -> str:
    """``path.Base``: the last element, trailing slashes removed; ``""`` gives ``"."``."""
    if path == "":
        return "."
    path = path.rstrip("/")
    if path == "":
        return "/"
    return path[path.rfind("/") + 1 :]


def go_path_dir(path: str) -> str:
    """``path.Dir``: everything but the last element, cleaned."""
    return go_path_clean(path[: path.rfind("/") + 1])


def store_key(full_key: str, prefix: str) -> str:
    """The key a template sees (confd §3.3 step 4): strip ``prefix`` as a plain string
    prefix (no path-boundary check), then ``path.Join("/", rest)``."""
    rest = full_key[len(prefix) :] if full_key.startswith(prefix) else full_key
    return go_path_clean("/" + rest)


def _clean_dir(key: str) -> str:
    """``path.Dir`` of a path that is already clean: cut at the last slash."""
    i = key.rfind("/")
    return key[:i] if i > 0 else "/" if i == 0 else "."


def _is_clean(key: str) -> bool:
    """Whether ``go_path_clean(key) == key``; a fast answer for the usual absolute keys."""
    if (
        key.startswith("/")
        and not key.endswith(("/", "/.", "/.."))
        and not any(bad in key for bad in ("//", "/./", "/../"))
    ):
        return True
    return go_path_clean(key) == key


# --- Go's path.Match, faithfully (it works on UTF-8 bytes) ---------------------------


def go_bytes(s: str) -> bytes:
    """The bytes of a Go string held in a ``str``: UTF-8, with bytes that were not
    UTF-8 carried as surrogate escapes (lone surrogates of other origin pass through)."""
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogatepass")


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


def go_path_match(pattern: str, name: str) -> bool:
    """Go 1.19 ``path.Match``; raises ``BadPatternError`` for a malformed pattern."""
    return _match_bytes(go_bytes(pattern), go_bytes(name))


@functools.lru_cache(maxsize=256)  # a pattern recurs in every store a template runs on
def _compile_glob(pattern: str) -> Callable[[str], bool]:
    """A fast predicate equal to ``go_path_match(pattern, ·)`` for a valid pattern.

    Without ``[`` every chunk matches a fixed number of non-``/`` runes (or literal
    slashes), so Go's leftmost-first chunk placement equals a full regex match. Classes
    can match ``/`` and break that equivalence, so those use the faithful matcher.
    """
    _match_bytes(go_bytes(pattern), b"")  # raises if malformed
    if not any(c in pattern for c in "*?[\\"):
        return pattern.__eq__
    if "[" in pattern:
        return lambda name: go_path_match(pattern, name)
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


def _literal_prefix(pattern: str) -> str:
    """The leading part of a pattern that only matches itself."""
    for i, c in enumerate(pattern):
        if c in "*?[\\":
            return pattern[:i]
    return pattern


# --- the store -------------------------------------------------------------------


class KVStore:
    """An immutable memkv snapshot: ``{key: value}`` with keys as ``store_key`` makes them."""

    __slots__ = ("_all_clean", "_cache", "_keys", "_pairs")

    def __init__(self, data: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        items = data.items() if isinstance(data, Mapping) else data
        # memkv's Set overwrites, so a later duplicate key wins
        self._pairs: dict[str, KVPair] = {k: KVPair(k, v) for k, v in items}
        self._keys: list[str] = sorted(self._pairs)
        self._all_clean: bool | None = None
        self._cache: dict[tuple[str, str], tuple[Any, ...]] = {}

    @classmethod
    def from_backend(cls, values: Mapping[str, str], prefix: str) -> KVStore:
        """A snapshot of a backend's ``{full_key: value}`` answer for ``prefix``."""
        return cls((store_key(k, prefix), v) for k, v in values.items())

    def __len__(self) -> int:
        return len(self._pairs)

    def __contains__(self, key: object) -> bool:
        return key in self._pairs

    def __repr__(self) -> str:
        return f"KVStore({len(self._pairs)} keys)"

    def keys(self) -> list[str]:
        """All keys, sorted."""
        return list(self._keys)

    def items(self) -> list[tuple[str, str]]:
        """All (key, value) pairs, sorted by key."""
        return [(k, self._pairs[k].Value) for k in self._keys]

    # memkv's template functions. Parameter names and annotations follow the Go
    # signatures: the template engine checks arguments against them.

    def get(self, key: str) -> KVPair:
        """The pair stored under exactly ``key``."""
        pair = self._pairs.get(key)
        if pair is None:
            raise KeyNotFound(key)
        return pair

    def getv(self, key: str, *v: str) -> str:
        """The value of ``key``; if missing, the first extra argument (even ``""``)."""
        pair = self._pairs.get(key)
        if pair is not None:
            return pair.Value
        if v:
            return v[0]
        raise KeyNotFound(key)

    def exists(self, key: str) -> bool:
        """Whether exactly ``key`` is stored (a "directory" with children is not)."""
        return key in self._pairs

    def gets(self, pattern: str) -> KVPairs:
        """Pairs whose key matches the ``path.Match`` pattern, sorted by key."""
        if not self._pairs:
            return KVPairs()  # memkv checks the pattern only against stored keys
        return KVPairs(self._cached("gets", pattern, self._get_all))

    def getvs(self, pattern: str) -> StringList:
        """Values of the pairs ``gets`` finds, sorted by value."""
        if not self._pairs:
            return StringList()
        return StringList(self._cached("getvs", pattern, self._get_all_values))

    def ls(self, path: str) -> StringList:
        """Child names under ``path``, with memkv's quirks (see the module doc)."""
        return StringList(self._cached("ls", path, self._list))

    def lsdir(self, path: str) -> StringList:
        """Child names under ``path`` that have children themselves."""
        return StringList(self._cached("lsdir", path, self._list_dir))

    # helpers

    def _cached(
        self, kind: str, arg: str, compute: Callable[[str], tuple[Any, ...]]
    ) -> tuple[Any, ...]:
        key = (kind, arg)
        found = self._cache.get(key)
        if found is None:
            found = compute(arg)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = found
        return found

    def _with_prefix(self, prefix: str) -> list[str]:
        """The sorted keys that start with ``prefix`` (a bisected range)."""
        if not prefix:
            return self._keys
        lo = bisect.bisect_left(self._keys, prefix)
        hi = lo
        n = len(self._keys)
        while hi < n and self._keys[hi].startswith(prefix):
            hi += 1
        return self._keys[lo:hi]

    def _get_all(self, pattern: str) -> tuple[KVPair, ...]:
        literal = _literal_prefix(pattern)
        candidates = self._with_prefix(literal)
        if pattern == literal + "*":  # the usual "/dir/*": no regex to build
            n = len(literal)
            return tuple(self._pairs[k] for k in candidates if "/" not in k[n:])
        matches = _compile_glob(pattern)
        return tuple(self._pairs[k] for k in candidates if matches(k))

    def _get_all_values(self, pattern: str) -> tuple[str, ...]:
        pairs = self._cached("gets", pattern, self._get_all)
        return tuple(sorted(pair.Value for pair in pairs))

    def _keys_are_clean(self) -> bool:
        if self._all_clean is None:
            self._all_clean = all(_is_clean(k) for k in self._keys)
        return self._all_clean

    def _dir_function(self) -> Callable[[str], str]:
        """``path.Dir``, or a shortcut that equals it when every key is clean."""
        return _clean_dir if self._keys_are_clean() else go_path_dir

    def _list(self, path: str) -> tuple[str, ...]:
        # memkv: a key equal to the path adds its base name; any other key whose dir's
        # terms start with clean(path)'s terms adds its first element after the string
        # path. Term-list prefix == (dir == c or dir starts with c + "/").
        c = go_path_clean(path)
        under = c + "/"
        dir_of = self._dir_function()
        if c in ("/", ".") or not self._keys_are_clean():
            candidates: Iterable[str] = self._keys
        else:
            candidates = self._with_prefix(under)  # clean keys below c start with c + "/"
        names: set[str] = set()
        if path in self._pairs:
            names.add(go_path_base(path))
        for key in candidates:
            if key == path:
                continue
            d = dir_of(key)
            if d == c or d.startswith(under):
                rest = key[len(path) :] if key.startswith(path) else key
                names.add(rest.removeprefix("/").split("/", 1)[0])
        return tuple(sorted(names))

    def _list_dir(self, path: str) -> tuple[str, ...]:
        # memkv: keys that string-start with path, whose dir has more terms than
        # clean(path) and starts with its terms, add the next term of the dir.
        c = go_path_clean(path)
        under = c + "/"
        names: set[str] = set()
        dir_of = self._dir_function()
        for key in self._with_prefix(path):
            d = dir_of(key)
            if d.startswith(under):  # "//" for c == "/": never, as Dir cleans
                names.add(d[len(under) :].split("/", 1)[0])
        return tuple(sorted(names))
