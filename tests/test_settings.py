"""Settings: defaults, confd.toml (keys as confd matches them), environment, flags."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest

from confpy.errors import ConfigError
from confpy.goflag import FlagError
from confpy.settings import (
    DEFAULT_CONFIG_FILE,
    Settings,
    build_flagset,
    load_settings,
    parse_seconds,
)


def settings_from(tmp_path: Path, toml: str, *args: str, environ: dict[str, str] | None = None) -> Settings:
    config = tmp_path / "confd.toml"
    config.write_text(toml)
    given, _ = build_flagset("confpy").parse(["-config-file", str(config), *args])
    return load_settings(given, environ or {})


def test_defaults_without_a_config_file(tmp_path: Path) -> None:
    given: dict[str, Any] = {"config-file": str(tmp_path / "missing.toml")}
    settings = load_settings(given, {})
    assert settings == Settings(config_file=str(tmp_path / "missing.toml"))
    assert settings.backend == "etcd"
    assert settings.confdir == "/etc/confd"
    assert settings.interval == 600
    assert settings.filter == "*"
    assert settings.scheme == "http"
    assert settings.backend_timeout == 3.0
    assert settings.conf_d == Path("/etc/confd/conf.d")
    assert settings.template_dir == Path("/etc/confd/templates")
    assert Settings().config_file == DEFAULT_CONFIG_FILE == "/etc/confd/confd.toml"


def test_every_tagged_key(tmp_path: Path) -> None:
    settings = settings_from(
        tmp_path,
        """
backend = "file"
auth_token = "tok"
auth_type = "token"
basic_auth = true
client_cakeys = "/ca"
client_cert = "/cert"
client_key = "/key"
client_insecure = true
nodes = ["a:1", "b:2"]
password = "pw"
username = "me"
scheme = "https"
table = "tbl"
separator = ":"
app_id = "app"
user_id = "user"
role_id = "role"
secret_id = "secret"
file = ["x.yaml", "y.yaml"]
filter = "*.yaml"
path = "mnt"
confdir = "/c"
noop = true
prefix = "/p"
sync-only = true
interval = 5
srv_domain = "example.com"
srv_record = "_etcd._tcp.example.com."
log-level = "debug"
watch = true
""",
    )
    assert settings.backend == "file"
    assert (settings.auth_token, settings.auth_type) == ("tok", "token")
    assert settings.basic_auth is True and settings.client_insecure is True
    assert (settings.client_cakeys, settings.client_cert, settings.client_key) == ("/ca", "/cert", "/key")
    assert settings.nodes == ("a:1", "b:2")
    assert (settings.username, settings.password, settings.scheme) == ("me", "pw", "https")
    assert (settings.table, settings.separator, settings.path) == ("tbl", ":", "mnt")
    assert (settings.app_id, settings.user_id, settings.role_id, settings.secret_id) == (
        "app", "user", "role", "secret"
    )  # fmt: skip
    assert settings.files == ("x.yaml", "y.yaml") and settings.filter == "*.yaml"
    assert (settings.confdir, settings.prefix, settings.interval) == ("/c", "/p", 5)
    assert settings.noop is True and settings.sync_only is True and settings.watch is True
    assert (settings.srv_domain, settings.srv_record) == ("example.com", "_etcd._tcp.example.com.")
    assert settings.log_level == "debug"


def test_tagged_keys_match_in_any_case(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, 'BACKEND = "env"\nSync-Only = true\nLog-Level = "warn"\nNodes = ["n"]\n')
    assert settings.backend == "env"
    assert settings.sync_only is True
    assert settings.log_level == "warn"
    assert settings.nodes == ("n",)


def test_exact_key_wins_over_other_case(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, 'Backend = "file"\nbackend = "env"\n')
    assert settings.backend == "env"


def test_untagged_fields_by_go_name(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "onetime = true\nkeepstagefile = true\n")
    assert settings.onetime is True
    assert settings.keep_stage_file is True
    settings = settings_from(tmp_path, "OneTime = true\nKeepStageFile = true\n")
    assert settings.onetime is True and settings.keep_stage_file is True


def test_spellings_confd_does_not_read_are_ignored(tmp_path: Path) -> None:
    settings = settings_from(
        tmp_path,
        'keep_stage_file = true\nkeep-stage-file = true\nsync_only = true\nlog_level = "debug"\n'
        'unknown = 1\n[confd]\nbackend = "env"\n',
    )
    assert settings.keep_stage_file is False
    assert settings.sync_only is False
    assert settings.log_level == ""
    assert settings.backend == "etcd"  # a [confd] table is not read either


@pytest.mark.parametrize(
    ("toml", "key"),
    [('nodes = "x"', "nodes"), ("interval = true", "interval"), ('onetime = "yes"', "onetime"),
     ("backend = 1", "backend"), ("file = [1]", "file"), ("interval = 1.5", "interval")],
)  # fmt: skip
def test_wrong_type_names_the_key(tmp_path: Path, toml: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, toml + "\n")
    message = str(caught.value)
    assert f"'{key}'" in message
    assert str(tmp_path / "confd.toml") in message


def test_bad_toml_syntax_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, 'backend = "env"\n\nprefix = /x\n')
    message = str(caught.value)
    assert message.startswith(f"cannot load config file {tmp_path / 'confd.toml'}: ")
    assert "(at line 3, column 10)" in message
    # tomllib says "at end of document" for an unterminated value: we give the line too.
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, 'backend = "env"\n\nnodes = [\n')
    assert "(at line 4, column 1)" in str(caught.value)


def test_unreadable_config_file(tmp_path: Path) -> None:
    (tmp_path / "confd.toml").mkdir()
    with pytest.raises(ConfigError, match=r"confd\.toml"):
        load_settings({"config-file": str(tmp_path / "confd.toml")}, {})


def test_flag_beats_config_file(tmp_path: Path) -> None:
    # Deliberate divergence: confd 0.16.0 lets the file win.
    settings = settings_from(
        tmp_path,
        'backend = "file"\nnodes = ["from-file:1"]\nprefix = "/file"\nconfdir = "/file"\n',
        "-backend", "env", "-node", "from-flag:1", "-prefix", "/flag",
    )  # fmt: skip
    assert settings.backend == "env"
    assert settings.nodes == ("from-flag:1",)
    assert settings.prefix == "/flag"
    # A key only in the file is used.
    assert settings.confdir == "/file"


def test_flag_set_to_its_default_still_wins(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "noop = true\ninterval = 5\n", "-noop=false", "-interval", "600")
    assert settings.noop is False
    assert settings.interval == 600


def test_client_env_fills_only_empty_fields(tmp_path: Path) -> None:
    environ = {
        "CONFD_CLIENT_CERT": "/env/cert",
        "CONFD_CLIENT_KEY": "/env/key",
        "CONFD_CLIENT_CAKEYS": "/env/ca",
    }
    empty = settings_from(tmp_path, "", environ=environ)
    assert (empty.client_cert, empty.client_key, empty.client_cakeys) == ("/env/cert", "/env/key", "/env/ca")
    partly = settings_from(tmp_path, 'client_cert = "/file/cert"\n', "-client-key", "/flag/key", environ=environ)
    assert partly.client_cert == "/file/cert"
    assert partly.client_key == "/flag/key"
    assert partly.client_cakeys == "/env/ca"
    # An empty variable fills nothing.
    none = settings_from(tmp_path, "", environ={"CONFD_CLIENT_CERT": ""})
    assert none.client_cert == ""


def test_other_confd_variables_are_not_read(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "", environ={"CONFD_BACKEND": "env", "CONFD_PREFIX": "/x"})
    assert settings.backend == "etcd" and settings.prefix == ""


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("3s", 3.0), ("1s", 1.0), ("500ms", 0.5), ("1m30s", 90.0), ("1.5h", 5400.0), ("2s", 2.0),
     ("250ms", 0.25), ("100us", 1e-4), ("100µs", 1e-4), ("0", 0.0), (".5s", 0.5), ("+2s", 2.0)],
)  # fmt: skip
def test_backend_timeout(tmp_path: Path, text: str, seconds: float) -> None:
    settings = settings_from(tmp_path, "", "-backend-timeout", text)
    assert math.isclose(settings.backend_timeout, seconds)


# A duration is Go's time.ParseDuration: a bare number other than 0 needs a unit (it was
# read as seconds once, so "-debounce 100" meant 100 s).
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2", 'time: missing unit in duration "2"'),
        ("0.25", 'time: missing unit in duration "0.25"'),
        ("100", 'time: missing unit in duration "100"'),
        ("", 'time: invalid duration ""'),
        ("soon", 'time: invalid duration "soon"'),
        ("3 s", 'time: unknown unit " s" in duration "3 s"'),
        ("1x", 'time: unknown unit "x" in duration "1x"'),
        ("1e3", 'time: unknown unit "e" in duration "1e3"'),
        ("nan", 'time: invalid duration "nan"'),
        ("9" * 400 + "h", 'time: invalid duration "' + "9" * 400 + 'h"'),
        ("-1s", "must not be negative"),
    ],
)
def test_bad_backend_timeout(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(reason)}$"):
        parse_seconds(text)
    with pytest.raises(FlagError) as caught:
        build_flagset("confpy").parse(["-backend-timeout", text])
    assert str(caught.value) == f'invalid value "{text}" for flag -backend-timeout: {reason}'


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("100ms:2s", 0.1, 2.0), ("1s", 1.0, 4.0), ("0", 0.0, 0.0), ("1s:1s", 1.0, 1.0), ("0:1s", 0.0, 1.0)],
)
def test_debounce(tmp_path: Path, text: str, low: float, high: float) -> None:
    settings = settings_from(tmp_path, "", "-debounce", text)
    assert math.isclose(settings.debounce_min, low)
    assert math.isclose(settings.debounce_max, high)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("100", 'time: missing unit in duration "100"'),
        ("100ms:2", 'time: missing unit in duration "2"'),
        ("2s:1s", "MAX 1s is shorter than MIN 2s"),
        ("x", 'time: invalid duration "x"'),
        ("1s:", 'time: invalid duration ""'),
        (":1s", 'time: invalid duration ""'),
        ("1s:2s:3s", "want MIN or MIN:MAX, e.g. 100ms:2s"),
        ("-1s", "must not be negative"),
    ],
)
def test_bad_debounce(text: str, reason: str) -> None:
    with pytest.raises(FlagError) as caught:
        build_flagset("confpy").parse(["-debounce", text])
    assert str(caught.value) == f'invalid value "{text}" for flag -debounce: {reason}'


def test_duration_usage_shows_units() -> None:
    usage = build_flagset("confpy").usage()
    timeout = usage.split("  -backend-timeout duration\n", 1)[1].split("\n", 1)[0]
    debounce = usage.split("  -debounce string\n", 1)[1].split("\n", 1)[0]
    assert "e.g. 3s, 500ms" in timeout and timeout.endswith("(default 3s)")
    assert "e.g. 100ms:2s" in debounce


def test_negative_interval_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="interval"):
        settings_from(tmp_path, "", "-interval", "-1")


# -- templates: delimiters and the extended functions -----------------------------------


def test_template_settings_default_to_go_delimiters_and_confd_functions(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "")
    assert (settings.left_delimiter, settings.right_delimiter, settings.extended_funcs) == ("", "", False)


def test_template_settings_from_the_config_file(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, 'left_delimiter = "<<"\nright_delimiter = ">>"\nfuncs = "extended"\n')
    assert (settings.left_delimiter, settings.right_delimiter, settings.extended_funcs) == ("<<", ">>", True)
    assert settings_from(tmp_path, 'funcs = "confd"\n').extended_funcs is False


def test_template_flags_beat_the_config_file(tmp_path: Path) -> None:
    settings = settings_from(
        tmp_path,
        'left_delimiter = "<<"\nright_delimiter = ">>"\nfuncs = "extended"\n',
        "-left-delimiter", "[[", "-right-delimiter=]]", "-extended-funcs=false",
    )  # fmt: skip
    assert (settings.left_delimiter, settings.right_delimiter, settings.extended_funcs) == ("[[", "]]", False)
    assert settings_from(tmp_path, "", "-extended-funcs").extended_funcs is True


def test_unknown_function_set_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, 'funcs = "sprig"\n')
    assert str(caught.value) == (
        f"cannot load config file {tmp_path}/confd.toml: funcs must be \"confd\" or \"extended\", not 'sprig'"
    )


@pytest.mark.parametrize(
    ("toml", "args", "message"),
    [
        ("", ["-left-delimiter", "< <"], "-left-delimiter '< <' must not contain whitespace"),
        ('right_delimiter = ">\\t"\n', [], "right_delimiter in {config} '>\\t' must not contain whitespace"),
        ('left_delimiter = "%%"\n', ["-right-delimiter", "%%"],
         "left_delimiter in {config} and -right-delimiter are both '%%': the left and right delimiters must differ"),
        ("", ["-left-delimiter", "}}"],
         "-left-delimiter and the default right_delimiter are both '}}': the left and right delimiters must differ"),
    ],
)  # fmt: skip
def test_bad_global_delimiters_name_the_flag_or_key(tmp_path: Path, toml: str, args: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, toml, *args)
    assert str(caught.value) == message.replace("{config}", str(tmp_path / "confd.toml"))


# -- operating: log format, metrics -----------------------------------------------------


def test_operating_settings_from_confd_toml_and_flags(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, 'log-format = "json"\nmetrics_addr = "127.0.0.1:9180"\n')
    assert (settings.log_format, settings.metrics_addr, settings.unhealthy_after) == ("json", "127.0.0.1:9180", 0.0)
    settings = settings_from(
        tmp_path, 'log-format = "json"\n', "-log-format", "text", "-metrics-addr", ":9181", "-unhealthy-after", "40s"
    )
    assert (settings.log_format, settings.metrics_addr, settings.unhealthy_after) == ("text", ":9181", 40.0)
    assert Settings().log_format == "text" and Settings().metrics_addr == ""


def test_unknown_log_format_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r'^log-format must be text or json, got "JSON"$'):
        settings_from(tmp_path, 'log-format = "JSON"\n')


# -- unknown keys (confd ignores them; confpy warns) ---------------------------------------


def warnings_from(tmp_path: Path, toml: str) -> tuple[Settings, list[str]]:
    config = tmp_path / "confd.toml"
    config.write_text(toml)
    given, _ = build_flagset("confpy").parse(["-config-file", str(config)])
    warnings: list[str] = []
    return load_settings(given, {}, warn=warnings.append), warnings


def test_unknown_key_is_a_warning_with_its_line_and_the_closest_name(tmp_path: Path) -> None:
    settings, warnings = warnings_from(tmp_path, 'backend = "env"\nnodez = ["a:1"]\nloglevel = "debug"\nfrobnicate = 1\n')
    assert settings.backend == "env" and settings.nodes == ()
    config = tmp_path / "confd.toml"
    assert warnings == [
        f'{config}: line 2: unknown key "nodez" (did you mean "nodes"?)',
        f'{config}: line 3: unknown key "loglevel" (did you mean "log-level"?)',
        f'{config}: line 4: unknown key "frobnicate"',
    ]


def test_a_table_in_confd_toml_is_named(tmp_path: Path) -> None:
    _, warnings = warnings_from(tmp_path, '\n[confd]\nbackend = "env"\n')
    assert warnings == [f"{tmp_path / 'confd.toml'}: line 2: unknown table [confd]: confd.toml's keys are read outside any table"]


def test_known_keys_in_another_case_are_not_unknown(tmp_path: Path) -> None:
    settings, warnings = warnings_from(tmp_path, 'Backend = "env"\nNODES = ["a:1"]\nKeepStageFile = true\nLog-Level = "debug"\n')
    assert settings.backend == "env" and settings.keep_stage_file is True
    assert warnings == []


def test_known_keys_come_from_the_key_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from confpy import settings as settings_module

    monkeypatch.setattr(settings_module, "_TOML_KEYS", (*settings_module._TOML_KEYS, ("rollback", "noop", bool)))
    _, warnings = warnings_from(tmp_path, "rollback = true\nrolback = true\n")
    assert warnings == [f'{tmp_path / "confd.toml"}: line 2: unknown key "rolback" (did you mean "rollback"?)']


# -- safety: rollback, backup, command timeouts, diff ------------------------------------


def test_safety_settings_default_to_confd_behaviour(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "")
    assert (settings.rollback, settings.backup, settings.diff) == (False, False, False)
    assert (settings.check_timeout, settings.reload_timeout) == (0.0, 0.0)  # none


def test_safety_settings_from_the_config_file_and_flags(tmp_path: Path) -> None:
    toml = 'rollback = true\nbackup = true\ncheck_timeout = "30s"\nreload_timeout = "2m"\n'
    settings = settings_from(tmp_path, toml)
    assert (settings.rollback, settings.backup) == (True, True)
    assert (settings.check_timeout, settings.reload_timeout) == (30.0, 120.0)
    settings = settings_from(
        tmp_path, toml, "-rollback=false", "-backup=false", "-check-timeout", "500ms", "-reload-timeout=1m30s", "-diff"
    )
    assert (settings.rollback, settings.backup, settings.diff) == (False, False, True)
    assert (settings.check_timeout, settings.reload_timeout) == (0.5, 90.0)


@pytest.mark.parametrize(
    ("toml", "message"),
    [('check_timeout = "30"\n', "key 'check_timeout': time: missing unit in duration \"30\""),
     ('reload_timeout = "-1s"\n', "key 'reload_timeout': must not be negative"),
     ("check_timeout = 30\n", "key 'check_timeout' must be a string"),
     ('rollback = "yes"\n', "key 'rollback' must be a boolean")],
)  # fmt: skip
def test_bad_safety_keys_name_the_key(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, toml)
    assert str(caught.value) == f"cannot load config file {tmp_path}/confd.toml: {message}"


@pytest.mark.parametrize(
    ("flag", "value", "reason"),
    [("-check-timeout", "30", 'time: missing unit in duration "30"'),
     ("-reload-timeout", "-5s", "must not be negative")],
)  # fmt: skip
def test_bad_timeout_flags(flag: str, value: str, reason: str) -> None:
    with pytest.raises(FlagError) as caught:
        build_flagset("confpy").parse([flag, value])
    assert str(caught.value) == f'invalid value "{value}" for flag {flag}: {reason}'
