"""YAML or JSON files as a key/value store (``-backend file``, confd's rules).

Each ``-file`` entry is a file, or a directory walked recursively (lexical order, symlinked
directories skipped) for files whose base name matches ``-filter``. Every file is parsed
like go-yaml v2 parses YAML 1.1 into ``interface{}``, then flattened from ``/``; later
files overwrite earlier keys.

go-yaml v2's rules kept on purpose (decode.go): merge keys (``<<``) apply in document
order, a later entry winning, and in a merge list (``<<: [*a, *b]``) the first map wins;
a document whose nodes come mostly from aliases is refused ("excessive aliasing": the
"billion laughs" bomb), with go-yaml's own ratio. PyYAML shares an aliased node rather
than copying it, so the count is kept while flattening, where the copies would be made.
One divergence: a standard tag that contradicts its node (``!!map [1, 2]``, ``!!str [a]``,
``!!seq {a: 1}``) is an error; go-yaml silently decodes the node by its kind.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import yaml

from confpy.backends.base import BackendSettings, Emit, Snapshot, StopSignal
from confpy.errors import BackendError, ConfigError
from confpy.golang import path as gopath
from confpy.golang.strconv import NumError, format_float, parse_float, parse_int, parse_uint

__all__ = ["FileBackend", "load_yaml"]

_PLAIN = "tag:confpy:go-yaml-v2-plain"
_MERGE = "tag:yaml.org,2002:merge"


class _Uint64(int):
    """go-yaml's uint64 (an int above int64): confd's flattening drops those."""


# go-yaml v2 resolve.go: plain scalars looked up as a whole, then by first character.
_RESOLVE_MAP: dict[str, Any] = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE"), True),
    **dict.fromkeys(("on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE"), False),
    **dict.fromkeys(("off", "Off", "OFF"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_HINTS = {
    **dict.fromkeys("+-", "S"),
    **dict.fromkeys("0123456789", "D"),
    **dict.fromkeys("yYnNtTfFoO~", "M"),
    ".": ".",
}
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")


def _go_int(text: str, base: int) -> int | None:
    """go-yaml's integer reading: strconv.ParseInt, else ParseUint (an uint64 above the
    int64 range), else None."""
    try:
        return parse_int(text, base, 64)
    except NumError:
        pass
    try:
        return _Uint64(parse_uint(text, base, 64))
    except NumError:
        return None


def _go_float(text: str) -> float | None:
    try:
        return parse_float(text)
    except NumError:  # a syntax error, or overflow: "1e400" stays a string
        return None


def _resolve_plain(text: str) -> Any:
    """What go-yaml v2 decodes an untagged plain scalar to (YAML 1.1 rules)."""
    hint = _HINTS.get(text[:1], "N" if not text else "")
    if not hint:
        return text
    if text in _RESOLVE_MAP:
        return _RESOLVE_MAP[text]
    if hint == "." and _DOT_FLOAT.fullmatch(text):
        value = _go_float(text)
        return text if value is None else value
    if hint in ("D", "S"):
        # Timestamps are tried first by go-yaml, but decode to their own text for an
        # interface{} target, so they simply stay strings here.
        plain = text.replace("_", "")
        integer = _go_int(plain, 0)
        if integer is not None:
            return integer
        if _YAML_FLOAT.fullmatch(plain):
            value = _go_float(plain)
            if value is not None:
                return value
        if plain.startswith("0b"):  # go-yaml then reads what follows "0b" in base 2
            integer = _go_int(plain[2:], 2)
        elif plain.startswith("-0b"):
            integer = _go_int("-" + plain[3:], 2)
        if integer is not None:
            return integer
    return text


_TYPE_NAMES = {bool: "bool", int: "int", _Uint64: "int", float: "float", type(None): "null"}

_LoaderBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# The base is PyYAML's C loader when it was built, else the pure one: chosen at run time,
# so typed Any, which mypy cannot check a subclass of.
class _GoYamlLoader(_LoaderBase):  # type: ignore[misc]
    """PyYAML's safe loader with go-yaml v2's scalar resolution and string-only keys."""

    # No PyYAML implicit resolvers: they are YAML 1.1 as PyYAML reads it (sexagesimal
    # ints, timestamps, no y/n booleans), not as go-yaml v2 does. resolve() decides.
    yaml_implicit_resolvers: dict[Any, Any] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            return _MERGE if value == "<<" else _PLAIN
        return str(super().resolve(kind, value, implicit))

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.budget = _AliasBudget()

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        self.budget.count(2 * len(node.value), aliased=False)
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE and key_node.value == "<<":
                self._merge(value_node, mapping)  # where it is written: later entries win
                continue
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                kind = _TYPE_NAMES.get(type(key), type(key).__name__)
                if isinstance(key_node, yaml.ScalarNode):
                    text = key_node.value
                    problem = (
                        f"mapping key {text!r} is a YAML 1.1 {kind}, not a string "
                        f'(confd needs string keys: quote it, "{text}":)'
                    )
                else:
                    problem = f"a mapping key is a {kind}, not a string"
                raise yaml.constructor.ConstructorError(None, None, problem, key_node.start_mark)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def _merge(self, node: Any, into: dict[str, Any]) -> None:
        """go-yaml v2's merge: a map's entries set into ``into``; a list of maps applied
        last to first, so that the first map wins."""
        sources = list(reversed(node.value)) if isinstance(node, yaml.SequenceNode) else [node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise yaml.constructor.ConstructorError(
                    None, None, "map merge requires map or sequence of maps as the value", source.start_mark
                )
            entries = self.construct_object(source, deep=True)
            # go-yaml decodes the merged map again: its entries count as alias expansion.
            self.budget.count(2 * len(entries), aliased=True)
            into.update(entries)


_NODE_KINDS = {yaml.ScalarNode: "scalar", yaml.SequenceNode: "sequence", yaml.MappingNode: "mapping"}


def _check_kind(node: Any, tag: str, kind: type) -> None:
    """A standard tag must fit its node: ``!!map [1, 2]`` is an error (go-yaml ignores
    the tag; a divergence, for what is always a mistake)."""
    if not isinstance(node, kind):
        raise yaml.constructor.ConstructorError(
            None, None, f"a !!{tag} tag on a {_NODE_KINDS.get(type(node), 'node')}: remove the tag or fix the value",
            node.start_mark,
        )


def _construct_kind(tag: str, kind: type) -> Any:
    """A collection tag: checked against the node, which is then decoded by its kind
    (go-yaml gives ``!!set``, ``!!omap`` and ``!!pairs`` no meaning of their own)."""

    def construct(loader: Any, node: Any) -> Any:
        _check_kind(node, tag, kind)
        return _construct_unknown(loader, node)

    return construct


def _construct_map(loader: Any, node: Any) -> Any:
    _check_kind(node, "map", yaml.MappingNode)
    data: dict[str, Any] = {}
    yield data  # filled afterwards, so that a node can hold an alias to itself
    data.update(loader.construct_mapping(node))


def _construct_seq(loader: Any, node: Any) -> Any:
    _check_kind(node, "seq", yaml.SequenceNode)
    data: list[Any] = []
    yield data
    data.extend(loader.construct_sequence(node))


def _construct_scalar_tag(tag: str, construct: Any) -> Any:
    def checked(loader: Any, node: Any) -> Any:
        _check_kind(node, tag, yaml.ScalarNode)
        return construct(loader, node)

    return checked


def _shown(text: str) -> str:
    """A scalar's text in a message: at most 40 characters of it."""
    return text if len(text) <= 40 else f"{text[:30]}... ({len(text)} characters)"


def _construct_plain(loader: Any, node: Any) -> Any:
    return _resolve_plain(loader.construct_scalar(node))


def _construct_unknown(loader: Any, node: Any) -> Any:
    # go-yaml v2 ignores tags it does not know (!foo bar is the string "bar").
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)


def _construct_tagged(wanted: tuple[type, ...], name: str) -> Any:
    """Explicit !!bool, !!int, !!float, !!null: go-yaml resolves the text, then checks."""

    def construct(loader: Any, node: Any) -> Any:
        _check_kind(node, name, yaml.ScalarNode)
        text = loader.construct_scalar(node)
        value = _resolve_plain(text)
        if name == "float" and type(value) is int:
            return float(value)
        if type(value) not in wanted:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot decode `{_shown(text)}` as a !!{name}", node.start_mark
            )
        return value

    return construct


_GoYamlLoader.add_constructor(_PLAIN, _construct_plain)
_GoYamlLoader.add_constructor(None, _construct_unknown)
_GoYamlLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_GoYamlLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
_GoYamlLoader.add_constructor("tag:yaml.org,2002:set", _construct_kind("set", yaml.MappingNode))
_GoYamlLoader.add_constructor("tag:yaml.org,2002:omap", _construct_kind("omap", yaml.SequenceNode))
_GoYamlLoader.add_constructor("tag:yaml.org,2002:pairs", _construct_kind("pairs", yaml.SequenceNode))
_GoYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_scalar_tag("timestamp", _construct_unknown))
_GoYamlLoader.add_constructor("tag:yaml.org,2002:str", _construct_scalar_tag("str", _LoaderBase.construct_yaml_str))
_GoYamlLoader.add_constructor("tag:yaml.org,2002:binary", _construct_scalar_tag("binary", _LoaderBase.construct_yaml_binary))
for _tag, _types in (
    ("bool", (bool,)),
    ("int", (int, _Uint64)),
    ("float", (float,)),
    ("null", (type(None),)),
):
    _GoYamlLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _construct_tagged(_types, _tag))


def load_yaml(data: bytes | str, name: str) -> Any:
    """The first YAML document of ``data`` as go-yaml v2 decodes it; BackendError if bad.

    Merges are counted against the alias budget as they are made (a quadratic number of
    them would otherwise be a bomb of its own); the walk that flattens the result counts
    again, with a budget of its own."""
    loader = _GoYamlLoader(data)
    try:
        return loader.get_data() if loader.check_data() else None
    except _AliasBomb as exc:
        raise BackendError(f"cannot parse {name}: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise BackendError(f"cannot parse {name}{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise BackendError(f"cannot parse {name}: {' '.join(str(exc).split())}") from None
    finally:
        loader.dispose()


class _AliasBomb(Exception):
    """go-yaml v2's "document contains excessive aliasing", or an alias inside itself."""


# go-yaml v2 decode.go: how much of a document may come from alias expansion.
_ALIAS_RATIO_RANGE_LOW = 400_000
_ALIAS_RATIO_RANGE_HIGH = 4_000_000


def _allowed_alias_ratio(decoded: int) -> float:
    if decoded <= _ALIAS_RATIO_RANGE_LOW:
        return 0.99  # small and medium documents: nearly all may be aliases
    if decoded >= _ALIAS_RATIO_RANGE_HIGH:
        return 0.10
    span = _ALIAS_RATIO_RANGE_HIGH - _ALIAS_RATIO_RANGE_LOW
    return 0.99 - 0.89 * (decoded - _ALIAS_RATIO_RANGE_LOW) / span


class _AliasBudget:
    """go-yaml v2's count of decoded nodes and of those decoded through an alias; too
    high a share of aliases is a bomb, refused after a few thousand nodes."""

    __slots__ = ("aliased", "decoded")

    def __init__(self) -> None:
        self.decoded = 0
        self.aliased = 0

    def count(self, nodes: int, aliased: bool) -> None:
        self.decoded += nodes
        if aliased:
            self.aliased += nodes
            if (
                self.aliased > 100
                and self.decoded > 1000
                and self.aliased / self.decoded > _allowed_alias_ratio(self.decoded)
            ):
                raise _AliasBomb(
                    "document contains excessive aliasing "
                    f"({self.aliased} of the first {self.decoded} values come from aliases: a YAML bomb?)"
                )


class _Walk:
    """What one flattening keeps track of: the containers being walked (an alias inside
    itself would never end), those walked before (met again: an alias, expanded), and
    the alias budget."""

    __slots__ = ("active", "budget", "seen")

    def __init__(self, budget: _AliasBudget) -> None:
        self.active: set[int] = set()
        self.seen: set[int] = set()
        self.budget = budget


def _flatten(node: Any, path: str, into: dict[str, str], walk: _Walk, aliased: bool = False) -> None:
    """confd's nodeWalk: leaves to text, nulls and other types dropped."""
    if isinstance(node, (dict, list)):
        ident = id(node)
        if ident in walk.active:  # an alias inside itself (&a [*a]) would never end
            raise _AliasBomb(f"recursive YAML alias under {path} (an anchor's value contains itself)")
        aliased = aliased or ident in walk.seen
        walk.seen.add(ident)
        walk.active.add(ident)
        walk.budget.count(1, aliased)
        if isinstance(node, dict):
            walk.budget.count(len(node), aliased)  # the keys, as go-yaml counts them
            items: Iterable[tuple[Any, Any]] = node.items()
        else:
            items = enumerate(node)
        for name, value in items:
            _flatten(value, gopath.join(path, str(name)), into, walk, aliased)
        walk.active.discard(ident)
        return
    walk.budget.count(1, aliased)
    text = _leaf_text(node)
    if text is not None:
        into[path] = text


def _leaf_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _Uint64):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value, "f", -1)  # Go's FormatFloat(v, 'f', -1, 64)
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):  # !!binary: Go keeps the raw bytes as a string
        return value.decode("utf-8", "replace")
    return None


def _strerror(exc: OSError) -> str:
    return os.strerror(exc.errno).lower() if exc.errno else str(exc)


class FileBackend:
    """The ``file`` backend: keys read from the ``-file`` entries at each ``get_values``."""

    name = "file"
    prefix_ordered = True

    def __init__(self, settings: BackendSettings) -> None:
        if not settings.files:
            raise ConfigError("the file backend needs at least one -file")
        self.files = tuple(settings.files)
        # An empty -filter would match nothing; confd's default is "*". confd matches with
        # filepath.Match, which answers as path.Match on Unix; a bad pattern is refused
        # here, whether or not a file name would have got to its bad part.
        pattern = settings.filter or "*"
        try:
            self._filter = gopath.compile_match(pattern)
        except gopath.BadPatternError:
            raise ConfigError(f"invalid -filter {pattern!r}: syntax error in pattern") from None

    def paths(self) -> list[str]:
        """Every file read, in reading order (BackendError for a missing entry)."""
        found: list[str] = []
        for entry in self.files:
            try:
                info = os.stat(entry)
            except OSError as exc:
                raise BackendError(f"stat {entry}: {_strerror(exc)}") from None
            if stat.S_ISDIR(info.st_mode):
                found.extend(self._walk(entry))
            else:
                found.append(entry)  # a file named directly is read whatever -filter says
        return found

    def _walk(self, directory: str) -> Iterator[str]:
        # Go's filepath.Walk: names in lexical order, depth first, no symlinked dirs;
        # unreadable directories are skipped as confd ignores walk errors.
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from self._walk(entry.path)
            elif self._filter(entry.name):
                try:
                    if entry.is_dir():  # a symlink to a directory: confd skips it
                        continue
                except OSError:
                    pass
                yield entry.path

    def get_values(self, keys: Sequence[str]) -> Snapshot:
        values: dict[str, str] = {}
        for path in self.paths():
            try:
                with open(path, "rb") as stream:
                    data = stream.read()
            except OSError as exc:
                raise BackendError(f"open {path}: {_strerror(exc)}") from None
            document = load_yaml(data, path)
            if document is None:
                continue
            if not isinstance(document, dict):
                kind = "a sequence" if isinstance(document, list) else "a single value"
                raise BackendError(f"{path}: the top level must be a mapping, not {kind}")
            try:
                _flatten(document, "/", values, _Walk(_AliasBudget()))
            except RecursionError:
                raise BackendError(f"{path}: the YAML data nests too deeply") from None
            except _AliasBomb as exc:
                raise BackendError(f"cannot parse {path}: {exc}") from None
        kept = {
            key: value
            for key, value in values.items()
            if any(key.startswith(requested) for requested in keys)
        }
        return Snapshot(dict(sorted(kept.items())), None)

    def key_matches(self, requested: str, found: str) -> bool:
        return found.startswith(requested)  # confd's file backend: a plain string prefix

    def watch(self, keys: Sequence[str], since: int | None, emit: Emit, stop: StopSignal) -> None:
        """File events tell only that a file changed: each change of a ``-file`` entry
        emits a fresh read of everything (raising BackendError while it cannot be read).

        Directories are watched, not files: an editor or a config manager often replaces
        a file by renaming another over it, which a watch on the old inode would miss.
        Once the watch is up (its first quiet second), the files are read once more, for
        a change made between the caller's read and the start of the watch.
        """
        import watchfiles

        sources = [os.path.abspath(s) for s in self.files]
        directories = sorted({s if os.path.isdir(s) else os.path.dirname(s) for s in sources})

        def concerns(path: str) -> bool:
            return any(path == s or path.startswith(s.rstrip("/") + "/") for s in sources)

        started = False
        for changes in watchfiles.watch(
            *directories, stop_event=stop, debounce=50, rust_timeout=1000, yield_on_timeout=True
        ):
            if not started or any(concerns(path) for _, path in changes):
                started = True
                emit(self.get_values(keys))

    def sources(self) -> str:
        return ", ".join(self.files)

    def close(self) -> None:
        pass
