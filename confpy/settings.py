"""Settings: defaults < confd.toml < environment < command line, validated into one record.

Every confd 0.16.0 flag exists under the same name, and every confd.toml key confd reads
(matched as confd's TOML decoder matches them: exactly, then ignoring case); a key confd
does not read is ignored as confd ignores it, with a warning naming the closest known
one. One deliberate divergence: a flag given on the command line beats confd.toml (confd
lets the file win, against its own documentation). ``load_settings`` can also collect
every problem instead of stopping at the first (``-validate``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from .errors import ConfigError
from .fileio import read_file
from .goflag import Flag, FlagSet, InvalidValue
from .log import LOG_FORMATS
from .problems import FATAL, WARNING, Problems, did_you_mean
from .tomlread import (
    TYPE_NAMES,
    TomlSyntaxError,
    fits,
    key_position,
    match_keys,
    parse_toml,
    unknown_keys,
)

__all__ = ["DEFAULT_CONFIG_FILE", "Settings", "build_flagset", "delimiter_problem", "load_settings", "parse_seconds"]

DEFAULT_CONFIG_FILE = "/etc/confd/confd.toml"

log = logging.getLogger("confpy.settings")


# Records are NamedTuples rather than dataclasses: a dataclass costs 0.6 to 4 ms to build
# when its module is imported (generated methods are compiled), and -onetime pays that at
# every start.
class Settings(NamedTuple):
    backend: str = "etcd"
    nodes: tuple[str, ...] = ()
    scheme: str = "http"
    basic_auth: bool = False
    username: str = ""
    password: str = ""
    auth_token: str = ""
    auth_type: str = ""
    app_id: str = ""
    user_id: str = ""
    role_id: str = ""
    secret_id: str = ""
    path: str = ""
    table: str = ""
    separator: str = ""
    client_cert: str = ""
    client_key: str = ""
    client_cakeys: str = ""
    client_insecure: bool = False
    files: tuple[str, ...] = ()
    filter: str = "*"
    confdir: str = "/etc/confd"
    config_file: str = DEFAULT_CONFIG_FILE
    noop: bool = False
    prefix: str = ""
    sync_only: bool = False
    interval: int = 600
    srv_domain: str = ""
    srv_record: str = ""
    log_level: str = ""
    watch: bool = False
    keep_stage_file: bool = False
    onetime: bool = False
    secret_keyring: str = ""
    # confpy's own settings
    backend_timeout: float = 3.0
    debounce_min: float = 0.0
    debounce_max: float = 0.0
    watch_confdir: bool = True
    state_file: str = ""  # "": pending.default_state_file()
    left_delimiter: str = ""  # "": the engine's own ({{ for both)
    right_delimiter: str = ""
    extended_funcs: bool = False
    log_format: str = "text"  # or "json"
    metrics_addr: str = ""  # host:port of /metrics, /health, /ready; "": off
    unhealthy_after: float = 0.0  # 0: 3 x backend_timeout + the watch backoff cap
    validate: bool = False
    rollback: bool = False  # a resource's own rollback field wins
    backup: bool = False
    check_timeout: float = 0.0  # seconds; 0: none, as confd
    reload_timeout: float = 0.0
    diff: bool = False

    @property
    def conf_d(self) -> Path:
        return Path(self.confdir) / "conf.d"

    @property
    def template_dir(self) -> Path:
        return Path(self.confdir) / "templates"


def parse_seconds(text: str) -> float:
    """A duration flag's value in seconds: Go's time.ParseDuration, so it needs a unit
    (``3s``, ``500ms``, ``1m30s``; a lone ``0`` is fine), and it must not be negative."""
    from .golang.duration import DurationError, parse_duration  # only when such a flag is given

    try:
        nanoseconds = parse_duration(text)
    except DurationError as exc:
        raise InvalidValue(str(exc)) from None
    if nanoseconds < 0:
        raise InvalidValue("must not be negative")
    return nanoseconds / 1e9


def _parse_debounce(text: str) -> tuple[float, float]:
    low, colon, high = text.partition(":")
    if ":" in high:
        raise InvalidValue("want MIN or MIN:MAX, e.g. 100ms:2s")
    minimum = parse_seconds(low)
    maximum = parse_seconds(high) if colon else max(minimum * 4, minimum)
    if maximum < minimum:
        raise InvalidValue(f"MAX {high} is shorter than MIN {low}")
    return minimum, maximum


# (flag name, settings field, kind, usage). Defaults come from Settings.
_FLAGS: tuple[tuple[str, str, str, str], ...] = (
    ("app-id", "app_id", "string", "Vault app-id for the app-id auth backend"),
    ("auth-token", "auth_token", "string", "auth bearer token (vault); the ACL token (consul)"),
    ("auth-type", "auth_type", "string", "vault auth backend type"),
    ("backend", "backend", "string", "backend to use: etcd (the v2 API), etcdv3, consul, redis, zookeeper, file or env"),
    ("basic-auth", "basic_auth", "bool", "use basic auth to authenticate (etcd, consul)"),
    ("client-ca-keys", "client_cakeys", "string", "CA certificate file of the backend"),
    ("client-cert", "client_cert", "string", "client certificate file"),
    ("client-insecure", "client_insecure", "bool", "skip TLS verification of the backend (ignored, as in confd 0.16)"),
    ("client-key", "client_key", "string", "client key file"),
    ("confdir", "confdir", "string", "confd configuration directory"),
    ("config-file", "config_file", "string", "the confd configuration file"),
    ("file", "files", "list", "YAML/JSON file or directory to watch (file backend); repeatable"),
    ("filter", "filter", "string", "files filter for directories (file backend)"),
    ("interval", "interval", "int", "backend polling interval in seconds"),
    ("keep-stage-file", "keep_stage_file", "bool", "keep staged files"),
    ("log-level", "log_level", "string", "level: debug, info, warning, error or fatal"),
    ("node", "nodes", "list", "backend node, host:port or URL; repeatable"),
    ("noop", "noop", "bool", "only show pending changes"),
    ("onetime", "onetime", "bool", "run once and exit"),
    ("password", "password", "string", "password for basic auth; the redis password"),
    ("path", "path", "string", "vault mount path"),
    ("prefix", "prefix", "string", "key path prefix, replacing each resource's prefix"),
    ("role-id", "role_id", "string", "vault role id"),
    ("scheme", "scheme", "string", "backend URL scheme (http or https)"),
    ("secret-id", "secret_id", "string", "vault secret id"),
    ("secret-keyring", "secret_keyring", "string", "path to an armored PGP secret keyring (crypt functions, unsupported)"),
    ("separator", "separator", "string", "key separator for the redis backend (default /)"),
    ("srv-domain", "srv_domain", "string", "domain to query for backend SRV records"),
    ("srv-record", "srv_record", "string", "SRV record to query for backend nodes"),
    ("sync-only", "sync_only", "bool", "sync without check_cmd and reload_cmd"),
    ("table", "table", "string", "DynamoDB table name"),
    ("user-id", "user_id", "string", "vault user id"),
    ("username", "username", "string", "username for basic auth"),
    ("version", "", "bool", "print version and exit"),
    ("watch", "watch", "bool", "enable watch support"),
    # confpy's own flags
    ("backend-timeout", "backend_timeout", "duration", "bound on connecting to the backend and on each answer, a duration with its unit (e.g. 3s, 500ms)"),
    ("debounce", "debounce", "string", "watch mode: wait MIN of quiet after a change, at most MAX (MIN[:MAX], durations with their unit, e.g. 100ms:2s)"),
    ("watch-confdir", "watch_confdir", "bool", "watch mode: pick up edits to conf.d and templates"),
    ("state-file", "state_file", "string", "where failed reloads are remembered for the next run (default /var/lib/confpy/state.json for root, else ~/.local/state/confpy/state.json)"),
    ("left-delimiter", "left_delimiter", "string", "templates' left action delimiter, e.g. << (default {{); a resource's left_delimiter wins"),
    ("right-delimiter", "right_delimiter", "string", "templates' right action delimiter, e.g. >> (default }}); a resource's right_delimiter wins"),
    ("extended-funcs", "extended_funcs", "bool", "templates get the extended functions: default, ternary, toJson, regexMatch, dict..."),
    ("log-format", "log_format", "string", "text (confd's line) or json (one object per line)"),
    ("metrics-addr", "metrics_addr", "string", "serve /metrics, /health and /ready on this host:port (e.g. 127.0.0.1:9180; needs confpy[metrics])"),
    ("unhealthy-after", "unhealthy_after", "duration", "/health answers 503 once the store has been unreachable this long (default 3 x -backend-timeout + 10s)"),
    ("validate", "validate", "bool", "check confd.toml, conf.d and the templates without the store; print every problem as file:line:col: error|warning: message; exit 1 on any error"),
    ("rollback", "rollback", "bool", "when reload_cmd fails, put the previous file back and run reload_cmd again (a resource's rollback wins)"),
    ("backup", "backup", "bool", "keep the previous content of a replaced dest as <dest>.bak (a resource's backup wins)"),
    ("check-timeout", "check_timeout", "duration", "stop a check_cmd running longer, e.g. 30s; it fails (default 0s: none; a resource's check_timeout wins)"),
    ("reload-timeout", "reload_timeout", "duration", "stop a reload_cmd running longer, e.g. 1m; it fails (default 0s: none; a resource's reload_timeout wins)"),
    ("diff", "diff", "bool", "with -noop, print a unified diff of each pending change; else log what was written at debug level"),
)

FLAG_FIELDS = {name: attr for name, attr, _, _ in _FLAGS}


def build_flagset(program: str) -> FlagSet:
    defaults = Settings()
    flagset = FlagSet(program)
    for name, attr, kind, usage in _FLAGS:
        default = getattr(defaults, attr) if attr and hasattr(defaults, attr) else None
        parse: Callable[[str], Any] | None = parse_seconds if kind == "duration" else None
        if name == "debounce":
            parse = _check_debounce
        flagset.add(Flag(name, kind, usage, default, parse))
    return flagset


def _check_debounce(text: str) -> str:
    _parse_debounce(text)
    return text


# confd.toml keys: (key as confd spells it, settings field, expected type).
_TOML_KEYS: tuple[tuple[str, str, type], ...] = (
    ("backend", "backend", str),
    ("auth_token", "auth_token", str),
    ("auth_type", "auth_type", str),
    ("basic_auth", "basic_auth", bool),
    ("client_cakeys", "client_cakeys", str),
    ("client_cert", "client_cert", str),
    ("client_key", "client_key", str),
    ("client_insecure", "client_insecure", bool),
    ("nodes", "nodes", list),
    ("password", "password", str),
    ("username", "username", str),
    ("scheme", "scheme", str),
    ("table", "table", str),
    ("separator", "separator", str),
    ("app_id", "app_id", str),
    ("user_id", "user_id", str),
    ("role_id", "role_id", str),
    ("secret_id", "secret_id", str),
    ("file", "files", list),
    ("filter", "filter", str),
    ("path", "path", str),
    ("confdir", "confdir", str),
    ("noop", "noop", bool),
    ("prefix", "prefix", str),
    ("sync-only", "sync_only", bool),
    ("interval", "interval", int),
    ("srv_domain", "srv_domain", str),
    ("srv_record", "srv_record", str),
    ("log-level", "log_level", str),
    ("watch", "watch", bool),
    ("secret_keyring", "secret_keyring", str),
    ("keepstagefile", "keep_stage_file", bool),  # untagged Go fields: matched by field name
    ("onetime", "onetime", bool),
    ("state_file", "state_file", str),
    # confpy's own keys
    ("left_delimiter", "left_delimiter", str),
    ("right_delimiter", "right_delimiter", str),
    ("funcs", "funcs", str),  # "extended" sets extended_funcs
    ("log-format", "log_format", str),
    ("metrics_addr", "metrics_addr", str),
    ("rollback", "rollback", bool),
    ("backup", "backup", bool),
    ("check_timeout", "check_timeout", str),  # Go durations, as the flags
    ("reload_timeout", "reload_timeout", str),
)
_FUNC_SETS = {"": False, "confd": False, "extended": True}


def _load_toml(path: Path, problems: Problems) -> tuple[str, dict[str, Any]] | None:
    """confd.toml's text and document; None after a FATAL problem."""
    try:
        text = read_file(path).decode("utf-8")
        return text, parse_toml(text)
    except TomlSyntaxError as exc:
        problems.add(path, exc.line, exc.column, exc.reason, FATAL, logged=f"cannot load config file {path}: {exc}")
    except UnicodeDecodeError as exc:
        problems.add(path, 0, 0, f"not UTF-8 ({exc.reason})", FATAL,
                     logged=f"cannot load config file {path}: not UTF-8 ({exc.reason})")  # fmt: skip
    except OSError as exc:
        problems.add(path, 0, 0, f"cannot read: {exc.strerror}", FATAL,
                     logged=f"cannot read config file {path}: {exc.strerror}")  # fmt: skip
    return None


def _settings_from_toml(path: Path, text: str, document: Mapping[str, Any], problems: Problems) -> dict[str, Any]:
    """The settings a confd.toml sets, matching keys exactly first, then ignoring case.
    A key of the wrong type is a FATAL problem (and left out), an unknown key a WARNING."""
    found: dict[str, Any] = {}
    known = [key for key, _, _ in _TOML_KEYS]
    for key in unknown_keys(document, known):
        line, column = key_position(text, key)
        if isinstance(document[key], dict):
            message = f"unknown table [{key}]: confd.toml's keys are read outside any table"
        else:
            message = f'unknown key "{key}"{did_you_mean(key, known)}'
        problems.add(path, line, column, message, WARNING)
    actual_keys = match_keys(document, known)
    for key, attr, expected in _TOML_KEYS:
        actual = actual_keys.get(key)
        if actual is None:
            continue
        value = document[actual]
        if not fits(value, expected):
            line, column = key_position(text, actual)
            message = f"key {actual!r} must be {TYPE_NAMES[expected]}"
            problems.add(path, line, column, message, FATAL, logged=f"cannot load config file {path}: {message}")
            continue
        if any("\0" in item for item in (value if expected is list else [value]) if isinstance(item, str)):
            # No path, name, URL or token can hold one; the system calls would refuse it.
            line, column = key_position(text, actual)
            message = f"key {actual!r} contains a NUL byte"
            problems.add(path, line, column, message, FATAL, logged=f"cannot load config file {path}: {message}")
            continue
        found[attr] = tuple(value) if expected is list else value
    if "funcs" in found:
        funcs = found.pop("funcs")
        if funcs in _FUNC_SETS:
            found["extended_funcs"] = _FUNC_SETS[funcs]
        else:
            line, column = key_position(text, actual_keys["funcs"])
            message = f'funcs must be "confd" or "extended", not {funcs!r}'
            problems.add(path, line, column, message, FATAL, logged=f"cannot load config file {path}: {message}")
    for attr in ("check_timeout", "reload_timeout"):
        if attr in found:
            try:
                found[attr] = parse_seconds(found[attr])
            except InvalidValue as exc:
                line, column = key_position(text, actual_keys[attr])
                message = f"key {actual_keys[attr]!r}: {exc}"
                problems.add(path, line, column, message, FATAL, logged=f"cannot load config file {path}: {message}")
                del found[attr]
    return found


def load_settings(
    given: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    problems: Problems | None = None,
    warn: Callable[[str], None] | None = None,
) -> Settings:
    """Merge defaults, confd.toml, the environment and the flags ``given`` (by flag name).

    Without ``problems``, the first fatal problem raises ConfigError and warnings (an
    unknown key) go to ``warn`` (default: logged). With it, every problem is added
    there and the settings come back without what was wrong (``-validate``)."""
    collect = problems is not None
    found = Problems() if problems is None else problems
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_file = given.get("config-file", DEFAULT_CONFIG_FILE)
    path = Path(config_file)
    text = ""
    if path.exists():
        loaded = _load_toml(path, found)
        if loaded is not None:
            text = loaded[0]
            values.update(_settings_from_toml(path, *loaded, found))
    elif "config-file" in given:  # confd skips it silently; the default path stays silent
        log.warning("Config file %s does not exist: using the command line and defaults only", config_file)
    if not collect:
        for problem in found:
            if problem.severity == FATAL:
                raise ConfigError(problem.log_text())
        for problem in found.of(WARNING):
            (warn or log.warning)(f"{path}: {problem.log_text()}")
    for name, value in given.items():
        attr = FLAG_FIELDS.get(name)
        if not attr:
            continue
        if name == "debounce":
            values["debounce_min"], values["debounce_max"] = _parse_debounce(value)
        else:
            values[attr] = tuple(value) if isinstance(value, list) else value
    values["config_file"] = config_file
    # confd reads these three only to fill what is still empty.
    for attr, var in (("client_cakeys", "CONFD_CLIENT_CAKEYS"), ("client_cert", "CONFD_CLIENT_CERT"), ("client_key", "CONFD_CLIENT_KEY")):
        if not values.get(attr) and environ.get(var):
            values[attr] = environ[var]
    settings = Settings(**{k: v for k, v in values.items() if k in _FIELD_NAMES})
    for check, flags, key in _CHECKS:
        try:
            check(settings, given)
        except ConfigError as exc:
            if not collect:
                raise
            # -validate: the problem is the flag's if given, else confd.toml's key's.
            flag = next((f for f in flags if f in given), None)
            if flag is not None:
                found.add(f"-{flag}", 0, 0, str(exc), FATAL)
            else:
                found.add(config_file, *key_position(text, key), str(exc), FATAL)
            if check is _check_delimiters:  # reported once here, not again by each resource
                settings = settings._replace(left_delimiter="", right_delimiter="")
    return settings


def _check_backend(settings: Settings, given: Mapping[str, Any]) -> None:
    """An unknown -backend is refused before anything is logged about it."""
    from .backends.registry import canonical_name

    canonical_name(settings.backend)


def _check_log_format(settings: Settings, given: Mapping[str, Any]) -> None:
    if settings.log_format not in LOG_FORMATS:
        raise ConfigError(f'log-format must be text or json, got "{settings.log_format}"')


def _check_interval(settings: Settings, given: Mapping[str, Any]) -> None:
    if settings.interval < 0:
        raise ConfigError(f"interval must not be negative, got {settings.interval}")


def _check_keyring(settings: Settings, given: Mapping[str, Any]) -> None:
    """confd reads the -secret-keyring file at start and stops if it cannot: so does
    confpy (the crypt functions stay unsupported; the contents are not used). One byte
    is read, without blocking: a FIFO or /dev/zero given by mistake must not hang."""
    path = settings.secret_keyring
    if not path:
        return
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        try:
            os.read(fd, 1)
        except BlockingIOError:
            pass
        finally:
            os.close(fd)
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise ConfigError(f"open {path}: {reason} (the -secret-keyring file)") from None
    except ValueError:  # a NUL byte in the path
        raise ConfigError(f"open {path!r}: invalid argument (the -secret-keyring file)") from None


def _check_delimiters(settings: Settings, given: Mapping[str, Any]) -> None:
    """The global delimiters: each without whitespace, and not the same pair."""
    sides = []
    for flag, key, value, default in (
        ("left-delimiter", "left_delimiter", settings.left_delimiter, "{{"),
        ("right-delimiter", "right_delimiter", settings.right_delimiter, "}}"),
    ):
        origin = f"-{flag}" if flag in given else f"{key} in {settings.config_file}" if value else f"the default {key}"
        problem = delimiter_problem(value, allow_empty=True)
        if problem:
            raise ConfigError(f"{origin} {problem}")
        sides.append((origin, value or default))
    (left_origin, left), (right_origin, right) = sides
    if left == right:
        raise ConfigError(f"{left_origin} and {right_origin} are both {left!r}: the left and right delimiters must differ")


def delimiter_problem(value: str, *, allow_empty: bool = False) -> str:
    """What is wrong with a template delimiter, or "" when nothing is."""
    if not value:
        return "" if allow_empty else "must not be empty (leave it out for the default)"
    if any(ch.isspace() for ch in value):
        return f"{value!r} must not contain whitespace"
    return ""


_FIELD_NAMES = frozenset(Settings._fields)
# The checks of the merged settings: (check, its flags, its confd.toml key).
_CHECKS = (
    (_check_backend, ("backend",), "backend"),
    (_check_interval, ("interval",), "interval"),
    (_check_delimiters, ("left-delimiter", "right-delimiter"), "left_delimiter"),
    (_check_log_format, ("log-format",), "log-format"),
    (_check_keyring, ("secret-keyring",), "secret_keyring"),
)

