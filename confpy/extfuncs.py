"""The extended function set (``-extended-funcs``, or ``funcs = "extended"`` in confd.toml).

The functions confd and consul-template users ask for most, each named and behaving as
in sprig (Masterminds/sprig v3) or Go's standard library: ``default``, ``ternary``,
``toJson``, ``fromJson``, ``indent``, ``nindent``, ``trimPrefix``, ``trimSpace``,
``regexMatch``, ``regexReplaceAll``, ``dict``, ``list``, ``hasKey``, ``sha256sum``,
``hostname``, ``splitHostPort``. Off by default: a confd template that registers its own
function of one of these names keeps confd's behaviour. Like ``funcs.py``, annotations
are the Go parameter types and a raised exception is the Go function's error. sprig's
argument orders are kept (made for Go pipelines: the subject comes last), so
``{{"-x" | trimPrefix "-"}}`` is ``trimPrefix "-" "-x"``; confd's own ``trimSuffix``
takes the string first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable
from typing import Any, ClassVar

from .funcs import FuncError, GoPanic, json_value
from .gojson import MarshalError, marshal
from .golang.regexp import GoRegexpError, compile_go, must_compile_text, replace_all
from .golang.strings import go_bytes
from .gotemplate.gofmt import format_value
from .gotemplate.values import MISSING

__all__ = ["HostPort", "extended_funcs"]


def _empty(value: Any) -> bool:
    """sprig's empty: nil, false, 0, and empty strings, lists and maps; never a struct."""
    if value is None or value is MISSING:
        return True
    if isinstance(value, (bool, int, float, complex)):
        return value == 0
    if isinstance(value, (str, list, tuple, dict)):
        return len(value) == 0
    return False


def default(d: Any, *given: Any) -> Any:
    """``default "x" .Value``: the value, or ``d`` when it is missing or empty."""
    if not given or _empty(given[0]):
        return d
    return given[0]


def ternary(vt: Any, vf: Any, v: bool) -> Any:
    """``ternary "yes" "no" cond`` (or ``cond | ternary "yes" "no"``)."""
    return vt if v else vf


def toJson(v: Any) -> str:
    """``json.Marshal``; what Go cannot encode gives "" (sprig ignores the error)."""
    try:
        return marshal(v)
    except MarshalError:
        return ""


def fromJson(v: str) -> Any:
    """``json.Unmarshal`` into ``interface{}``; invalid JSON gives nil (sprig ignores
    the error)."""
    try:
        return json_value(v)
    except FuncError:
        return None


def indent(spaces: int, v: str) -> str:
    """Every line of ``v`` prefixed with ``spaces`` spaces."""
    if spaces < 0:
        raise GoPanic("strings: negative Repeat count")
    pad = " " * spaces
    return pad + v.replace("\n", "\n" + pad)


def nindent(spaces: int, v: str) -> str:
    """``indent`` after a newline."""
    return "\n" + indent(spaces, v)


def trimPrefix(a: str, b: str) -> str:
    """sprig's: ``b`` without the prefix ``a``."""
    return b.removeprefix(a)


# unicode.IsSpace: Python's str.strip() also takes U+001C..U+001F, Go does not.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def trimSpace(s: str) -> str:
    """``strings.TrimSpace``."""
    return s.strip(_GO_SPACE)


def regexMatch(regex: str, s: str) -> bool:
    """``regexp.MatchString``; a pattern Go rejects gives false (sprig ignores the
    error), one Python cannot match as Go does is an error."""
    try:
        compiled = compile_go(regex)
    except GoRegexpError:
        return False
    return compiled.pattern.search(s) is not None


def regexReplaceAll(regex: str, s: str, repl: str) -> str:
    """``regexp.MustCompile(regex).ReplaceAllString(s, repl)``: ``$1``, ``${name}``."""
    try:
        compiled = compile_go(regex)
    except GoRegexpError as exc:
        raise GoPanic(must_compile_text(regex, exc)) from None
    return replace_all(compiled, s, repl)


def _strval(v: Any) -> str:
    """sprig's strval: a string as it is, anything else as ``%v`` prints it."""
    return v if isinstance(v, str) else format_value(v)


def dict_(*v: Any) -> dict[str, Any]:
    """``dict "k1" v1 "k2" v2``: a ``map[string]interface{}``; a key without a value
    gets ""."""
    result: dict[str, Any] = {}
    for i in range(0, len(v), 2):
        result[_strval(v[i])] = v[i + 1] if i + 1 < len(v) else ""
    return result


def list_(*v: Any) -> list[Any]:
    """``list 1 "a"``: a ``[]interface{}``."""
    return list(v)


def hasKey(d: dict[str, Any], key: str) -> bool:  # Go's map[string]interface{}
    return key in d


def sha256sum(input: str) -> str:
    return hashlib.sha256(go_bytes(input)).hexdigest()


def hostname() -> str:
    """``os.Hostname()``: the kernel's host name."""
    return os.uname().nodename


@dataclasses.dataclass(frozen=True, slots=True)
class HostPort:
    """What ``splitHostPort`` returns: ``.Host`` and ``.Port``."""

    go_type: ClassVar[str] = "struct { Host string; Port string }"
    Host: str
    Port: str


def splitHostPort(hostport: str) -> HostPort:
    """``net.SplitHostPort`` (Registrator's ``ip:port``, ``[::1]:80``), with Go's errors."""

    def error(why: str) -> FuncError:
        return FuncError(f"address {hostport}: {why}" if hostport else why)

    i = hostport.rfind(":")
    if i < 0:
        raise error("missing port in address")
    j = k = 0
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise error("missing ']' in address")
        if end + 1 == len(hostport):
            raise error("missing port in address")
        if end + 1 != i:
            raise error("too many colons in address" if hostport[end + 1] == ":" else "missing port in address")
        host = hostport[1:end]
        j, k = 1, end + 1
    else:
        host = hostport[:i]
        if ":" in host:
            raise error("too many colons in address")
    if "[" in hostport[j:]:
        raise error("unexpected '[' in address")
    if "]" in hostport[k:]:
        raise error("unexpected ']' in address")
    return HostPort(host, hostport[i + 1 :])


_FUNCS: dict[str, Callable[..., Any]] = {
    "default": default, "ternary": ternary, "toJson": toJson, "fromJson": fromJson,
    "indent": indent, "nindent": nindent, "trimPrefix": trimPrefix, "trimSpace": trimSpace,
    "regexMatch": regexMatch, "regexReplaceAll": regexReplaceAll, "dict": dict_, "list": list_,
    "hasKey": hasKey, "sha256sum": sha256sum, "hostname": hostname, "splitHostPort": splitHostPort,
}  # fmt: skip


def extended_funcs() -> dict[str, Callable[..., Any]]:
    """The extended functions, to add to confd's map."""
    return dict(_FUNCS)
