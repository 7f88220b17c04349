"""confd 0.16.0's template function map, byte-for-byte.

``confd_funcs(store)`` returns every function a confd template can call: memkv's store
functions (``get``, ``gets``, ``getv``, ``getvs``, ``exists``, ``ls``, ``lsdir``) and
confd's own (``newFuncMap``). They are plain callables with no engine knowledge, so the
Go engine and Jinja2 can share them. Conventions the Go engine relies on:

* annotations are the Go parameter types (``int`` is Go int, ``StringList`` is
  ``[]string``, ``Any`` is ``interface{}``); the engine checks arguments against them;
* the functions that are Go's own (``atoi`` is strconv.Atoi, ``base`` path.Base,
  ``toUpper`` strings.ToUpper...) are ``confpy.golang``'s, registered as they are;
* a raised exception is the Go function's returned error, its ``str()`` Go's text;
  ``GoPanic`` is a Go runtime panic (integer division by zero);
* Go strings are bytes; here they are ``str``, with bytes that are not UTF-8 carried as
  surrogate escapes (``errors="surrogateescape"``), so lengths and quoting count bytes.

The functions that touch the host (``getenv``, ``datetime``, ``fileExists``, the DNS
lookups) live together in ``HostIO``; everything else is pure.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from confpy.golang import path as gopath
from confpy.golang import strconv
from confpy.golang.arith import quo, rem, wrap64
from confpy.golang.strings import byte_len, go_bytes, to_lower, to_upper
from confpy.gotemplate.values import IntList, StringList, go_type_name
from confpy.store import KVPair, KVPairList, KVPairs

if TYPE_CHECKING:  # imported when called: DNS and time zones are not -onetime's start-up
    from confpy.dnslookup import SRV, ResolvConf, SRVList
    from confpy.golang.time import GoTime

__all__ = ["FuncError", "GoPanic", "HostIO", "confd_funcs", "json_value"]


class FuncError(ValueError):
    """An error a Go function returned (encoding/json, encoding/base64...); strconv's
    functions raise their own ``confpy.golang.strconv.NumError``."""


class GoPanic(RuntimeError):
    """A Go runtime panic inside a function; text/template reports it like an error."""


# --- strings --------------------------------------------------------------


def split(s: str, sep: str) -> StringList:
    """``strings.Split``; an empty separator splits into characters."""
    return StringList(s) if sep == "" else StringList(s.split(sep))


def join(a: StringList, sep: str) -> str:
    return sep.join(a)


def replace(s: str, old: str, new: str, n: int) -> str:
    """``strings.Replace``: at most ``n`` replacements, all when ``n < 0``."""
    return s.replace(old, new, n if n >= 0 else -1)


def contains(s: str, substr: str) -> bool:
    return substr in s


def trimSuffix(s: str, suffix: str) -> str:
    return s.removesuffix(suffix)


# --- encodings ----------------------------------------------------------------------


def base64Encode(data: str) -> str:
    return base64.b64encode(go_bytes(data)).decode("ascii")


_B64 = {
    c: i for i, c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}
_B64_CANONICAL = re.compile(rb"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def _corrupt(offset: int) -> FuncError:
    return FuncError(f"illegal base64 data at input byte {offset}")


def base64Decode(data: str) -> str:
    """``base64.StdEncoding.DecodeString``: padding required, CR/LF skipped anywhere,
    errors at Go's byte offsets."""
    src = go_bytes(data)
    if _B64_CANONICAL.fullmatch(src):  # the usual case, where Python and Go agree
        return base64.b64decode(src).decode("utf-8", "surrogateescape")
    out = bytearray()
    si, n = 0, len(src)
    while si < n:  # one 4-character quantum per round, as Go's decodeQuantum
        quad = [0, 0, 0, 0]
        j, trailing = 0, -1
        while j < 4:
            if si == n:
                if j == 0:
                    return out.decode("utf-8", "surrogateescape")
                raise _corrupt(si - j)
            c = src[si]
            si += 1
            if c in _B64:
                quad[j] = _B64[c]
                j += 1
                continue
            if c in (10, 13):
                continue
            if c != 61 or j < 2:  # not "=", or padding too early
                raise _corrupt(si - 1)
            if j == 2:  # "==" expected: find the second "="
                while si < n and src[si] in (10, 13):
                    si += 1
                if si == n:
                    raise _corrupt(n)
                if src[si] != 61:
                    raise _corrupt(si - 1)
                si += 1
            while si < n and src[si] in (10, 13):
                si += 1
            if si < n:
                trailing = si
            break
        value = quad[0] << 18 | quad[1] << 12 | quad[2] << 6 | quad[3]
        out += value.to_bytes(3, "big")[: j - 1]
        if trailing >= 0:
            raise _corrupt(trailing)
    return out.decode("utf-8", "surrogateescape")


# --- JSON: Python decodes, a port of Go's scanner words the errors ----------------------

_LITERALS = {ord("t"): "true", ord("f"): "false", ord("n"): "null"}
_DIGITS = b"0123456789"
_HEX = b"0123456789abcdefABCDEF"


def _quote_char(c: int) -> str:
    """encoding/json's quoteChar: the byte as a rune, in single quotes."""
    if c == 0x27:
        return "'\\''"
    if c == 0x22:
        return "'\"'"
    return "'" + strconv.quote(chr(c))[1:-1] + "'"


def _bad(c: int, context: str) -> str:
    return f"invalid character {_quote_char(c)} {context}"


def _at(data: bytes, i: int) -> int:
    """The byte at ``i``; past the end a space, as Go's scanner feeds one at EOF."""
    return data[i] if i < len(data) else 0x20


def _scan_string(data: bytes, i: int) -> tuple[int, str | None]:
    """From just after an opening quote to just after the closing one."""
    while i < len(data):
        c = data[i]
        i += 1
        if c == 0x22:
            return i, None
        if c < 0x20:
            return i, _bad(c, "in string literal")
        if c == 0x5C:
            c = _at(data, i)
            i += 1
            if c == 0x75:  # \u and four hex digits
                for _ in range(4):
                    c = _at(data, i)
                    i += 1
                    if c not in _HEX:
                        return i, _bad(c, "in \\u hexadecimal character escape")
            elif c not in b'bfnrt\\/"':
                return i, _bad(c, "in string escape code")
    return i, "unexpected end of JSON input"


def _scan_number(data: bytes, i: int) -> tuple[int, str | None]:
    if data[i] == 0x2D:  # -
        i += 1
        if _at(data, i) not in _DIGITS:
            return i, _bad(_at(data, i), "in numeric literal")
    i += 1
    if data[i - 1] != 0x30:  # no digits after a leading 0
        while _at(data, i) in _DIGITS:
            i += 1
    if _at(data, i) == 0x2E:  # .
        i += 1
        if _at(data, i) not in _DIGITS:
            return i, _bad(_at(data, i), "after decimal point in numeric literal")
        while _at(data, i) in _DIGITS:
            i += 1
    if _at(data, i) in b"eE":
        i += 1 + (_at(data, i + 1) in b"+-")
        if _at(data, i) not in _DIGITS:
            return i, _bad(_at(data, i), "in exponent of numeric literal")
        while _at(data, i) in _DIGITS:
            i += 1
    return i, None


def _json_syntax_error(data: bytes) -> str | None:
    """Go's checkValid: the text of the first syntax error, or None for valid JSON.
    Each byte is judged in the same context as Go's scanner, so the messages agree."""
    stack: list[int] = []  # open { and [
    want = "value"  # value, first_value (after [), key, first_key (after {), colon, next
    i = 0
    while True:
        while i < len(data) and data[i] in b" \t\r\n":
            i += 1
        c = data[i] if i < len(data) else None
        if want == "next" and not stack:
            return None if c is None else _bad(c, "after top-level value")
        if c is None:
            return "unexpected end of JSON input"
        i += 1
        error = None
        if want == "colon":
            if c != 0x3A:
                return _bad(c, "after object key")
            want = "value"
        elif want == "next":
            in_object = stack[-1] == 0x7B
            if c == 0x2C:
                want = "key" if in_object else "value"
            elif c == (0x7D if in_object else 0x5D):
                stack.pop()
            else:
                return _bad(
                    c, "after object key:value pair" if in_object else "after array element"
                )
        elif want in ("key", "first_key"):
            if c == 0x7D and want == "first_key":
                stack.pop()
                want = "next"
            elif c != 0x22:
                return _bad(c, "looking for beginning of object key string")
            else:
                i, error = _scan_string(data, i)
                want = "colon"
        elif c == 0x5D and want == "first_value":
            stack.pop()
            want = "next"
        elif c in b"{[":
            stack.append(c)
            if len(stack) > 10_000:
                return _bad(c, "exceeded max depth")
            want = "first_key" if c == 0x7B else "first_value"
        else:
            if c == 0x22:
                i, error = _scan_string(data, i)
            elif c == 0x2D or c in _DIGITS:
                i, error = _scan_number(data, i - 1)
            elif c in _LITERALS:
                word = _LITERALS[c]
                for k in range(1, len(word)):
                    if _at(data, i) != ord(word[k]):
                        return _bad(_at(data, i), f"in literal {word} (expecting '{word[k]}')")
                    i += 1
            else:
                return _bad(c, "looking for beginning of value")
            want = "next"
        if error:
            return error


_SURROGATES = re.compile("[\ud800-\udfff]")
_MAY_HAVE_SURROGATES = re.compile(r"[\ud800-\udfff]|\\u[dD][89a-fA-F]")
_JSON_KINDS = {dict: "object", list: "array", str: "string", float: "number", bool: "bool"}


def _replace_surrogates(value: Any) -> Any:
    """Go turns lone surrogate escapes and bytes that are not UTF-8 into U+FFFD."""
    if isinstance(value, str):
        return _SURROGATES.sub("\ufffd", value)
    if isinstance(value, list):
        return [_replace_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are not JSON


def _json_decode(data: str, want: type | None, go_type: str) -> Any:
    """``json.Unmarshal`` into ``want`` (dict or list; None: any value, as into an
    ``interface{}``); numbers become float64."""
    overflow: list[str] = []

    def number(text: str) -> float:
        value = float(text)
        if math.isinf(value):
            overflow.append(text)
        return value

    try:
        value = json.loads(
            data, parse_float=number, parse_int=number, parse_constant=_reject_constant
        )
    except (ValueError, RecursionError) as exc:
        raise FuncError(_json_syntax_error(go_bytes(data)) or f"json: {exc}") from None
    if value is None:
        return want() if want is not None else None  # JSON null leaves Go's nil map or slice
    if want is not None and type(value) is not want:
        raise FuncError(
            f"json: cannot unmarshal {_JSON_KINDS[type(value)]} into Go value of type {go_type}"
        )
    if overflow:
        raise FuncError(
            f"json: cannot unmarshal number {overflow[0]} into Go value of type float64"
        )
    if _MAY_HAVE_SURROGATES.search(data):
        value = _replace_surrogates(value)
    return value


def json_(data: str) -> dict[str, Any]:
    """confd's ``json``: a JSON object as a ``map[string]interface{}``."""
    decoded: dict[str, Any] = _json_decode(data, dict, "map[string]interface {}")
    return decoded


def jsonArray(data: str) -> list[Any]:
    """confd's ``jsonArray``: a JSON array as a ``[]interface{}``."""
    decoded: list[Any] = _json_decode(data, list, "[]interface {}")
    return decoded


def json_value(data: str) -> Any:
    """``json.Unmarshal`` into an ``interface{}`` (sprig's fromJson)."""
    return _json_decode(data, None, "interface {}")


def map_(*values: Any) -> dict[str, Any]:
    """confd's ``map``: ``map "k1" v1 "k2" v2`` builds a ``map[string]interface{}``."""
    if len(values) % 2:
        raise FuncError("invalid map call")
    result: dict[str, Any] = {}
    for key, value in zip(values[::2], values[1::2]):
        if go_type_name(key) != "string":
            raise FuncError("map keys must be strings")
        result[key] = value
    return result


# --- arithmetic (Go int: 64-bit, wrapping, truncating division) ----------------------------


def add(a: int, b: int) -> int:
    return wrap64(a + b)


def sub(a: int, b: int) -> int:
    return wrap64(a - b)


def mul(a: int, b: int) -> int:
    return wrap64(a * b)


def _divisor(b: int) -> int:
    if b == 0:
        raise GoPanic("runtime error: integer divide by zero")
    return b


def div(a: int, b: int) -> int:
    return wrap64(quo(a, _divisor(b)))  # MinInt64 / -1 wraps back to MinInt64, as in Go


def mod(a: int, b: int) -> int:
    return rem(a, _divisor(b))  # the sign of the dividend: mod -7 3 is -1


def seq(first: int, last: int) -> IntList:
    """``[first, first+1, ..., last]``; empty when ``first > last``."""
    return IntList(range(first, last + 1))


# --- slices -------------------------------------------------------------------------


def reverse(values: Any) -> Any:
    """Reverses a ``[]string`` or ``[]memkv.KVPair`` in place; anything else, including
    the named ``memkv.KVPairs`` that ``gets`` returns, comes back untouched."""
    if go_type_name(values) in ("[]string", "[]memkv.KVPair"):
        values.reverse()
    return values


def sortByLength(values: StringList) -> StringList:
    """Sorts in place by byte length. Go's sort.Sort leaves the order of equal lengths
    unspecified; we keep their input order (stable), which is what Go 1.19 gives for
    up to 12 elements (insertion sort)."""
    values.sort(key=byte_len)
    return values


def sortKVByLength(values: KVPairList) -> KVPairList:
    """Sorts pairs in place by key byte length (stable, as ``sortByLength``). The
    result is typed ``[]memkv.KVPair``, so ``reverse`` works on it."""
    values.sort(key=lambda pair: byte_len(pair.Key))
    return values if type(values) is KVPairList else KVPairList(values)


# --- functions that touch the host ------------------------------------------------------


def _srv_order(record: SRV) -> str:
    """confd's sort key: Sprintf("%s%d%d%d"), compared as a string (port 9 after 80)."""
    return f"{record.Target}{record.Port}{record.Priority}{record.Weight}"


class HostIO(NamedTuple):
    """The I/O side of the function map: environment, clock, files and DNS.

    ``environ`` defaults to the live ``os.environ``; ``resolv_conf`` to reading
    /etc/resolv.conf at each ``lookupSRV``.
    """

    environ: Mapping[str, str] | None = None
    resolv_conf: ResolvConf | None = None

    def _env(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ

    def getenv(self, key: str, *v: str) -> str:
        """The variable's value; when unset **or empty**, the first extra argument."""
        return self._env().get(key) or (v[0] if v else "")

    def datetime(self) -> GoTime:
        """``time.Now()`` in the local zone (``TZ`` as Go reads it)."""
        from confpy.golang.time import GoTime, local_zone

        return GoTime.now(local_zone(self._env()))

    def fileExists(self, fpath: str) -> bool:
        """False only when stat says "does not exist" (ENOENT); other errors give true."""
        try:
            os.stat(fpath)
        except FileNotFoundError:
            return False
        except (OSError, ValueError):  # ValueError: a NUL byte, EINVAL in Go
            return True
        return True

    def lookupIP(self, data: str) -> StringList:
        """Addresses as strings, sorted as strings; any resolution error gives []."""
        from confpy.dnslookup import lookup_ip

        try:
            return StringList(sorted(lookup_ip(data)))
        except (OSError, UnicodeError, ValueError):
            return StringList()

    def lookupIPV4(self, data: str) -> StringList:
        return StringList(ip for ip in self.lookupIP(data) if "." in ip)

    def lookupIPV6(self, data: str) -> StringList:
        return StringList(ip for ip in self.lookupIP(data) if ":" in ip)

    def lookupSRV(self, service: str, proto: str, name: str) -> SRVList:
        """SRV records sorted by the string Target+Port+Priority+Weight; errors give []."""
        from confpy.dnslookup import DNSError, SRVList, lookup_srv

        try:
            records = lookup_srv(service, proto, name, self.resolv_conf)
        except (DNSError, OSError, ValueError):
            return SRVList()
        return SRVList(sorted(records, key=_srv_order))


_PURE_FUNCS: dict[str, Callable[..., Any]] = {
    "base": gopath.base, "dir": gopath.dir, "split": split, "join": join, "replace": replace,
    "contains": contains, "trimSuffix": trimSuffix, "toUpper": to_upper, "toLower": to_lower,
    "json": json_, "jsonArray": jsonArray, "map": map_,
    "base64Encode": base64Encode, "base64Decode": base64Decode,
    "parseBool": strconv.parse_bool, "atoi": strconv.atoi,
    "add": add, "sub": sub, "mul": mul, "div": div, "mod": mod, "seq": seq,
    "reverse": reverse, "sortByLength": sortByLength, "sortKVByLength": sortKVByLength,
}  # fmt: skip


if TYPE_CHECKING:  # for the type checker only: building a Protocol costs start-up time

    class MemkvFunctions(Protocol):
        """What the function map takes from a store: memkv's functions (a ``KVStore``, or
        the renderer's slot that forwards to whichever snapshot is current)."""

        def get(self, key: str) -> KVPair: ...
        def gets(self, pattern: str) -> KVPairs: ...
        def getv(self, key: str, *v: str) -> str: ...
        def getvs(self, pattern: str) -> StringList: ...
        def exists(self, key: str) -> bool: ...
        def ls(self, path: str) -> StringList: ...
        def lsdir(self, path: str) -> StringList: ...


def confd_funcs(
    store: MemkvFunctions,
    *,
    environ: Mapping[str, str] | None = None,
    resolv_conf: ResolvConf | None = None,
) -> dict[str, Callable[..., Any]]:
    """The complete confd 0.16.0 function map over ``store``."""
    host = HostIO(environ, resolv_conf)
    return {
        **_PURE_FUNCS,
        # memkv's Store.FuncMap
        "exists": store.exists, "ls": store.ls, "lsdir": store.lsdir, "get": store.get,
        "gets": store.gets, "getv": store.getv, "getvs": store.getvs,
        # I/O
        "getenv": host.getenv, "datetime": host.datetime, "fileExists": host.fileExists,
        "lookupIP": host.lookupIP, "lookupIPV4": host.lookupIPV4,
        "lookupIPV6": host.lookupIPV6, "lookupSRV": host.lookupSRV,
    }  # fmt: skip
