"""Template resources: ``<confdir>/conf.d/**/*toml`` files into ``TemplateResource`` records.

As in confd, every file whose base name matches ``*toml`` is a resource, found by a
lexical depth-first walk that does not follow symlinked directories; a file that is not
valid TOML, or has no ``src``, stops the whole run. A resource with a problem confd only
meets while processing it (a bad ``mode``, no ``dest``, an unknown ``owner``) loads with
that problem recorded, so it fails alone and the others still render. A name confd
ignores (an unknown field, a misspelt ``[templat]``) is a warning, with the known name
it is closest to. Every problem names the file, the field and the TOML line;
``read_resource`` gives them all as ``Problem`` records (``-validate`` prints them).
"""

from __future__ import annotations

import fnmatch
import grp
import logging
import os
import pwd
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .fileio import read_file
from .golang import path as gopath
from .problems import ERROR, FATAL, WARNING, Problems, did_you_mean
from .settings import Settings, delimiter_problem, parse_seconds
from .tomlread import (
    TYPE_NAMES,
    TomlSyntaxError,
    describe_type,
    fits,
    key_position,
    match_keys,
    parse_toml,
    unknown_keys,
)

__all__ = [
    "ConfdirMissing",
    "TemplateResource",
    "find_resource_files",
    "load_resource",
    "load_resources",
    "parse_mode",
    "read_resource",
]

log = logging.getLogger("confpy.resources")


class ConfdirMissing(ConfigError):
    """The confdir does not exist (a daemon waits for it; confd renders nothing)."""


# Compared by identity: one record per conf.d file. Not frozen, though nothing changes a
# resource once read: a frozen dataclass sets each of its 20 fields through
# object.__setattr__, 7 us a resource, a tenth of what reading its file costs.
@dataclass(eq=False, slots=True)
class TemplateResource:
    path: Path  # the conf.d file it came from
    src: Path  # the template file
    dest: str
    prefix: str  # effective prefix: the global one, else the resource's, with a leading /
    keys: tuple[str, ...]  # full store keys: prefix joined with each key, cleaned
    mode: int | None = None  # None: keep the dest's mode, or 0644 for a new file
    uid: int | None = None  # None: the effective uid
    gid: int | None = None
    check_cmd: str = ""
    reload_cmd: str = ""
    problem: str | None = None  # fails this resource when processed
    name: str = ""  # the conf.d file's path relative to conf.d, for messages
    engine: str = "go"  # "go" or "jinja2"
    delims: tuple[str, str] = ("{{", "}}")  # Go's actions; Jinja2's variables
    extended_funcs: bool = False
    template_dir: Path | None = None  # where includes are read; None: the src's directory
    rollback: bool = False  # a failed reload_cmd puts the previous file back
    backup: bool = False  # keep the replaced dest as <dest>.bak
    check_timeout: float | None = None  # seconds; None: no bound
    reload_timeout: float | None = None

    @property
    def template_name(self) -> str:
        return self.src.name

    @property
    def label(self) -> str:
        """How messages name the resource: ``app.toml`` (``sub/app.toml`` in a subdirectory)."""
        return self.name or self.path.name

    @property
    def templates_root(self) -> Path:
        return self.src.parent if self.template_dir is None else self.template_dir


# [template] fields: Go field names are matched ignoring case, tags exactly then ignoring case.
_FIELDS: dict[str, tuple[str, type]] = {
    "src": ("src", str),
    "dest": ("dest", str),
    "keys": ("keys", list),
    "prefix": ("prefix", str),
    "mode": ("mode", str),
    "uid": ("uid", int),
    "gid": ("gid", int),
    "check_cmd": ("check_cmd", str),
    "reload_cmd": ("reload_cmd", str),
    "owner": ("owner", str),
    "group": ("group", str),
    # confpy's own fields
    "engine": ("engine", str),
    "left_delimiter": ("left_delimiter", str),
    "right_delimiter": ("right_delimiter", str),
    "rollback": ("rollback", bool),
    "backup": ("backup", bool),
    "check_timeout": ("check_timeout", str),
    "reload_timeout": ("reload_timeout", str),
}
ENGINES = ("go", "jinja2")
JINJA_SUFFIXES = (".j2", ".jinja", ".jinja2")  # select Jinja2 when engine is not set
# Jinja2's block and comment markers, which its variable delimiters must not take.
_JINJA_MARKERS = {"{%": "block start", "%}": "block end", "{#": "comment start", "#}": "comment end"}
_MODE_HINT = ' (write it as a string, e.g. mode = "0644")'
_HINTS = {"mode": _MODE_HINT, "check_timeout": ' (a duration with its unit, e.g. "30s")'}
_HINTS["reload_timeout"] = _HINTS["check_timeout"]


def find_resource_files(conf_d: Path) -> list[Path]:
    """Files under conf_d whose base name matches ``*toml``, in Go's filepath.Walk order."""
    found: list[Path] = []

    def walk(directory: Path) -> None:
        with os.scandir(directory) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_dir(follow_symlinks=False):
                    walk(Path(entry.path))
                elif fnmatch.fnmatchcase(entry.name, "*toml"):
                    found.append(Path(entry.path))

    walk(conf_d)
    return found


def load_resources(settings: Settings, warn: Callable[[str], None] | None = None) -> list[TemplateResource]:
    """Every resource of the confdir. Raises ConfdirMissing, or ConfigError (fatal).

    ``warn`` receives what confd would silently ignore (an unknown field), as a message
    naming the file and line; by default it is logged as a WARNING."""
    confdir = Path(settings.confdir)
    if not confdir.is_dir():
        if confdir.exists():
            raise ConfigError(f"Cannot load template resources: confdir '{confdir}' is not a directory")
        raise ConfdirMissing(f"Cannot load template resources: confdir '{confdir}' does not exist")
    conf_d = settings.conf_d
    try:
        files = find_resource_files(conf_d)
    except FileNotFoundError:
        raise ConfigError(f"stat {conf_d}: no such file or directory") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {conf_d}: {exc.strerror}") from None
    template_paths: dict[str, Path] = {}
    return [load_resource(path, settings, template_paths, conf_d, warn) for path in files]


def load_resource(
    path: Path,
    settings: Settings,
    template_paths: dict[str, Path],
    conf_d: Path | None = None,
    warn: Callable[[str], None] | None = None,
) -> TemplateResource:
    """One conf.d file; ``template_paths`` caches each ``src``'s path across the files
    (and the templates directory, under ""). Raises ConfigError for a fatal problem."""
    problems = Problems()
    resource = read_resource(path, settings, template_paths, conf_d, problems)
    if not problems:  # the usual file
        assert resource is not None
        return resource
    for problem in problems.of(WARNING):  # first: a misspelt [template] explains "empty src"
        (warn or log.warning)(f"{path}: {problem.log_text()}")
    for problem in problems.of(FATAL):
        raise ConfigError(f"Cannot process template resource {path} - {problem.log_text()}")
    assert resource is not None  # no fatal problem
    return resource


def read_resource(
    path: Path,
    settings: Settings,
    template_paths: dict[str, Path],
    conf_d: Path | None,
    problems: Problems,
) -> TemplateResource | None:
    """One conf.d file, every problem found in it added to ``problems``: FATAL ones (the
    resource cannot be made: None), ERROR ones (recorded in its ``problem``: it fails
    alone), WARNING ones (what confd ignores)."""
    try:
        raw = read_file(path)
    except OSError as exc:
        problems.add(path, 0, 0, str(exc.strerror), FATAL)
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line, column = before.count(b"\n") + 1, len(before) - (before.rfind(b"\n") + 1) + 1
        problems.add(path, line, column, "not UTF-8 text", FATAL)
        return None
    document = _parse_toml(path, text, problems)
    if document is None:
        return None
    table = match_keys(document, _TEMPLATE_TABLE).get("template")
    for key in unknown_keys(document, _TEMPLATE_TABLE):
        what = f"unknown table [{key}]" if isinstance(document[key], dict) else f'unknown key "{key}"'
        line, column = key_position(text, key)
        problems.add(path, line, column, f"{what}: confd reads only [template]{did_you_mean(key, ['template'])}", WARNING)
    fields = _read_fields(path, text, table, document[table] if table is not None else {}, problems)
    if fields is None:
        return None
    where = _Where(path, text, table, problems)
    src = fields.get("src", "")
    if not src:
        where.add("src" if "src" in fields else table, "empty src template", FATAL)
        return None
    if "\0" in src:
        where.add("src", "field src contains a NUL byte", FATAL)
        return None

    dest = fields.get("dest", "")
    if not dest:
        where.add("dest" if "dest" in fields else table, "field dest is missing or empty: set the file to write")
    if "\\u0000" in text or "\\U00000000" in text:  # the only ways TOML can hold a NUL
        for name, value in fields.items():
            if name != "src" and any("\0" in item for item in (value if isinstance(value, list) else [value]) if isinstance(item, str)):
                where.add(name, f"field {name} contains a NUL byte")
    mode = None
    if fields.get("mode"):
        try:
            mode = parse_mode(fields["mode"])
        except ValueError as exc:
            where.add("mode", str(exc))
    uid = _owner_id(fields, "uid", "owner", where)
    gid = _owner_id(fields, "gid", "group", where)
    engine = _engine(fields, src, where)
    delims = _delimiters(fields, settings, engine, where)
    check_timeout = _timeout(fields, "check_timeout", settings.check_timeout, where)
    reload_timeout = _timeout(fields, "reload_timeout", settings.reload_timeout, where)

    prefix = settings.prefix or fields.get("prefix", "")
    if not prefix.startswith("/"):
        prefix = "/" + prefix
    keys = tuple(gopath.clean(prefix + "/" + key) for key in fields.get("keys", []))
    # confd joins src onto the templates directory even when it is absolute. Resources
    # share a few templates: one cleaned Path each (a Path is slow to build).
    src_path = template_paths.get(src)
    if src_path is None:
        src_path = template_paths[src] = Path(gopath.clean(f"{settings.confdir}/templates/{src}"))
    template_dir = template_paths.get("")
    if template_dir is None:
        template_dir = template_paths[""] = Path(gopath.clean(f"{settings.confdir}/templates"))
    errors = problems.of(ERROR) if problems else []
    return TemplateResource(
        path=path,
        src=src_path,
        dest=dest,
        prefix=prefix,
        keys=keys,
        mode=mode,
        uid=uid,
        gid=gid,
        check_cmd=fields.get("check_cmd", ""),
        reload_cmd=fields.get("reload_cmd", ""),
        problem=f"{path}: {'; '.join(p.log_text() for p in errors)}" if errors else None,
        name=_name_in(path, conf_d),
        engine=engine,
        delims=delims,
        extended_funcs=settings.extended_funcs,
        template_dir=template_dir,
        rollback=fields.get("rollback", settings.rollback),
        backup=fields.get("backup", settings.backup),
        check_timeout=check_timeout,
        reload_timeout=reload_timeout,
    )


class _Where:
    """Adds a problem of one conf.d file at the line of the field it concerns."""

    def __init__(self, path: Path, text: str, table: str | None, problems: Problems) -> None:
        self.path = path
        self.text = text
        self.table = table
        self.problems = problems

    def add(self, field: str | None, message: str, severity: str = ERROR) -> None:
        """A problem at ``field``'s line; at the [template] header for a field that is not
        written (``field`` is the table), without a line in the log (as confd words it)."""
        if field is not None and field == self.table:
            line, column = key_position(self.text, field)
            self.problems.add(self.path, line, column, message, severity, logged=message)
            return
        line, column = (0, 0) if field is None else key_position(self.text, field, self.table)
        self.problems.add(self.path, line, column, message, severity)


def _name_in(path: Path, conf_d: Path | None) -> str:
    """The conf.d file's path under conf.d (``sub/app.toml``), by its text: the walk
    joined it onto conf.d's, and Path.relative_to costs 15 µs a resource."""
    if conf_d is not None:
        text, root = str(path), str(conf_d).rstrip("/") + "/"
        if text.startswith(root):
            return text[len(root) :]
    return path.name


_TEMPLATE_TABLE = {"template": None}  # the one table confd reads from a conf.d file


def _timeout(fields: dict[str, Any], name: str, default: float, where: _Where) -> float | None:
    """The resource's check_timeout or reload_timeout (a Go duration), else the global
    one; None for none (0 is none too)."""
    value = fields.get(name)
    if value is None:
        return default or None
    try:
        return parse_seconds(value) or None
    except ValueError as exc:
        where.add(name, f'field {name} "{value}": {exc}{_HINTS[name]}')
        return None


def _engine(fields: dict[str, Any], src: str, where: _Where) -> str:
    """``engine``, else Jinja2 for a src ending in .j2, .jinja or .jinja2, else Go."""
    engine: str | None = fields.get("engine")
    if engine is None:
        return "jinja2" if src.endswith(JINJA_SUFFIXES) else "go"
    if engine not in ENGINES:
        where.add("engine", f'engine {engine!r} is unknown: use "go" or "jinja2"')
        return "go"
    return engine


def _delimiters(fields: dict[str, Any], settings: Settings, engine: str, where: _Where) -> tuple[str, str]:
    """The resource's delimiters, else the global ones, else ``{{`` and ``}}``."""
    resolved = []
    for name, default in (("left_delimiter", settings.left_delimiter or "{{"), ("right_delimiter", settings.right_delimiter or "}}")):
        value = fields.get(name)
        if value is None:
            resolved.append(default)
            continue
        problem = delimiter_problem(value)
        if problem:
            where.add(name, f"field {name} {problem}")
            value = default
        elif engine == "jinja2" and value in _JINJA_MARKERS:
            where.add(name, f"field {name} {value!r} is Jinja2's {_JINJA_MARKERS[value]}")
        resolved.append(value)
    left, right = resolved
    if left == right:
        field = "right_delimiter" if "right_delimiter" in fields else "left_delimiter"
        where.add(field, f"left and right delimiters are both {left!r}: they must differ")
    return left, right


def _parse_toml(path: Path, text: str, problems: Problems) -> dict[str, Any] | None:
    try:
        return parse_toml(text)
    except TomlSyntaxError as exc:
        reason, message = exc.reason, str(exc)
        # `mode = 0644` is not TOML (a leading zero): say what to write instead.
        source_line = text.split("\n")[exc.line - 1] if exc.line else ""
        if re.match(r"""[ \t]*(["']?)mode\1[ \t]*=[ \t]*[+-]?[0-9]""", source_line, re.I):
            reason = f"field mode must be a string, not an integer{_MODE_HINT}"
            message = f"line {exc.line}: {reason}"
        problems.add(path, exc.line, exc.column, reason, FATAL, logged=message)
        return None


def _read_fields(
    path: Path, text: str, table_key: str | None, table: Any, problems: Problems
) -> dict[str, Any] | None:
    """The [template] fields by name; None after a FATAL problem (each wrong type is one)."""
    if not isinstance(table, dict):
        line, column = key_position(text, table_key or "template")
        problems.add(path, line, column, "template must be a table", FATAL)
        return None
    for key in unknown_keys(table, _FIELDS):
        line, column = key_position(text, key, table_key)
        problems.add(path, line, column, f'unknown field "{key}" in [template]{did_you_mean(key, _FIELDS)}', WARNING)
    fields: dict[str, Any] = {}
    wrong = False
    for name, key in match_keys(table, _FIELDS).items():
        attr, expected = _FIELDS[name]
        value = table[key]
        if not fits(value, expected):
            hint = _HINTS.get(name, "")
            line, column = key_position(text, key, table_key)
            problems.add(path, line, column, f"field {key} must be {TYPE_NAMES[expected]}, not {describe_type(value)}{hint}", FATAL)
            wrong = True
        fields[attr] = value
    return None if wrong else fields


def parse_mode(text: str) -> int:
    """A file mode: ``"0644"``, ``"644"`` (octal: a deliberate divergence; confd reads
    it as decimal), ``"0o644"``, ``"0x1a4"``, ``"0b110100100"``.

    As in confd, only the permission bits are applied (setuid, setgid and sticky are not).
    """
    digits = text.replace("_", "")  # no blanks: confd's strconv.ParseUint refuses them
    try:
        if re.fullmatch(r"[0-7]+", digits):
            value = int(digits, 8)
        elif re.fullmatch(r"0[xXoObB][0-9a-fA-F]+", digits):
            value = int(digits, 0)
        else:
            raise ValueError
    except ValueError:
        raise ValueError(f'mode "{text}" is not a file mode: use an octal string such as "0644"') from None
    if value > 0o7777:
        raise ValueError(f'mode "{text}" is out of range: use an octal string such as "0644"')
    return value & 0o777


_MAX_ID = (1 << 32) - 2  # uid_t and gid_t are 32 bits; (uid_t)-1 means "unchanged"


def _owner_id(fields: dict[str, Any], id_field: str, name_field: str, where: _Where) -> int | None:
    """uid/gid (-1 or absent: the effective id); else owner/group resolved by name."""
    explicit: int | None = fields.get(id_field)
    if explicit is not None and explicit != -1:
        if not 0 <= explicit <= _MAX_ID:
            where.add(id_field, f"{id_field} {explicit} is out of range: use 0 to {_MAX_ID}, or -1 for the default")
            return None
        return explicit
    name = fields.get(name_field)
    if not name or "\0" in name:  # a NUL byte is a problem of its own
        return None
    try:
        if name_field == "owner":
            return pwd.getpwnam(name).pw_uid
        return grp.getgrnam(name).gr_gid
    except KeyError:
        kind = "user" if name_field == "owner" else "group"
        where.add(name_field, f"{name_field} {name!r}: no such {kind}")
        return None
