"""confd's key/value store (memkv v0.1.1) as an immutable snapshot.

Templates see keys relative to the resource prefix (``store_key``) and query them with
memkv's functions: ``get``, ``gets``, ``getv``, ``getvs``, ``exists``, ``ls``, ``lsdir``.
Every quirk of memkv is kept on purpose, because users' templates depend on them:

* ``gets``/``getvs`` match keys with Go's ``path.Match`` (``confpy.golang.path``): ``*``
  and ``?`` never cross ``/``. A bad pattern errors only when the store is non-empty.
* ``getvs`` sorts by value, ``gets`` by key.
* ``ls "/"`` gives only top-level leaves and ``lsdir "/"`` is always empty, because memkv
  compares ``strings.Split(path.Clean(p), "/")`` term lists (``"/"`` gives ``["", ""]``).

The snapshot never changes, so a sorted key list (for prefix ranges) and the results of
``ls``/``lsdir``/``gets`` are computed once per argument and cached. List results are
fresh lists on every call: templates may reverse or sort them in place.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from confpy.golang import path as gopath
from confpy.gotemplate.values import GoList, StringList

__all__ = ["KVPair", "KVPairList", "KVPairs", "KVStore", "KeyNotFound", "store_key"]

_CACHE_LIMIT = 4096  # results kept per snapshot; templates use few distinct arguments


class KeyNotFound(KeyError):
    """memkv's ``KeyError``: its text is ``key does not exist: <key>``."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key does not exist: {key}")  # args[0] is the Go error text
        self.key = key

    def __str__(self) -> str:  # KeyError's own str() would quote the text
        return str(self.args[0])


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


def store_key(full_key: str, prefix: str) -> str:
    """The key a template sees, as confd makes it: strip ``prefix`` as a plain string
    prefix (no path-boundary check), then ``path.Join("/", rest)``."""
    rest = full_key[len(prefix) :] if full_key.startswith(prefix) else full_key
    return gopath.clean("/" + rest)


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
        matches = gopath.compile_match(pattern)
        return tuple(self._pairs[k] for k in candidates if matches(k))

    def _get_all_values(self, pattern: str) -> tuple[str, ...]:
        pairs = self._cached("gets", pattern, self._get_all)
        return tuple(sorted(pair.Value for pair in pairs))

    def _keys_are_clean(self) -> bool:
        if self._all_clean is None:
            clean = gopath.clean
            self._all_clean = all(clean(k) == k for k in self._keys)
        return self._all_clean

    def _list(self, path: str) -> tuple[str, ...]:
        # memkv: a key equal to the path adds its base name; any other key whose dir's
        # terms start with clean(path)'s terms adds its first element after the string
        # path. Term-list prefix == (dir == c or dir starts with c + "/").
        c = gopath.clean(path)
        under = c + "/"
        dir_of = gopath.dir
        if c in ("/", ".") or not self._keys_are_clean():
            candidates: Iterable[str] = self._keys
        else:
            candidates = self._with_prefix(under)  # clean keys below c start with c + "/"
        names: set[str] = set()
        if path in self._pairs:
            names.add(gopath.base(path))
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
        c = gopath.clean(path)
        under = c + "/"
        names: set[str] = set()
        dir_of = gopath.dir
        for key in self._with_prefix(path):
            d = dir_of(key)
            if d.startswith(under):  # "//" for c == "/": never, as Dir cleans
                names.add(d[len(under) :].split("/", 1)[0])
        return tuple(sorted(names))
