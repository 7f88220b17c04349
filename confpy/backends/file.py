"""YAML or JSON files as a key/value store (``-backend file``, confd's rules).

Each ``-file`` entry is a file, or a directory walked recursively (lexical order, symlinked
directories skipped) for files whose base name matches ``-filter``. Every file is parsed
like go-yaml v2 parses YAML 1.1 into ``interface{}``, then flattened from ``/``; later
files overwrite earlier keys.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Iterator, Sequence
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

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[str, Any]:
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)  # merge keys (<<), which go-yaml v2 supports
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
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
        text = loader.construct_scalar(node)
        value = _resolve_plain(text)
        if name == "float" and type(value) is int:
            return float(value)
        if type(value) not in wanted:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot decode `{text}` as a !!{name}", node.start_mark
            )
        return value

    return construct


_GoYamlLoader.add_constructor(_PLAIN, _construct_plain)
_GoYamlLoader.add_constructor(None, _construct_unknown)
_GoYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_unknown)
for _tag, _types in (
    ("bool", (bool,)),
    ("int", (int, _Uint64)),
    ("float", (float,)),
    ("null", (type(None),)),
):
    _GoYamlLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _construct_tagged(_types, _tag))


def load_yaml(data: bytes | str, name: str) -> Any:
    """The first YAML document of ``data`` as go-yaml v2 decodes it; BackendError if bad."""
    try:
        for document in yaml.load_all(data, Loader=_GoYamlLoader):
            return document
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise BackendError(f"cannot parse {name}{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise BackendError(f"cannot parse {name}: {' '.join(str(exc).split())}") from None


def _flatten(node: Any, path: str, into: dict[str, str], active: set[int]) -> None:
    """confd's nodeWalk: leaves to text, nulls and other types dropped."""
    if isinstance(node, (dict, list)):
        if id(node) in active:  # an alias inside itself (&a [*a]) would never end
            raise BackendError(f"recursive YAML alias under {path}")
        active.add(id(node))
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for name, value in items:
            _flatten(value, gopath.join(path, str(name)), into, active)
        active.discard(id(node))
        return
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
                _flatten(document, "/", values, set())
            except RecursionError:
                raise BackendError(f"{path}: the YAML data nests too deeply") from None
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
