"""The command line as a user runs it: ``python -m confpy`` and the ``confpy`` script."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import CONSOLE_SCRIPT, make_confdir, run_confpy

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(params=[False, True], ids=["python-m", "console-script"])
def console_script(request: pytest.FixtureRequest) -> bool:
    if request.param:
        assert CONSOLE_SCRIPT.exists(), f"{CONSOLE_SCRIPT} missing: pip install -e ."
    return bool(request.param)


def test_unknown_flag_exits_2_with_usage(console_script: bool) -> None:
    run = run_confpy("-onetime", "-x", console_script=console_script)
    assert run.code == 2
    assert run.stdout == ""
    lines = run.lines
    assert lines[0] == "flag provided but not defined: -x"
    assert lines[1].startswith("Usage of ") and lines[1].endswith(":")
    assert "  -onetime" in lines


@pytest.mark.parametrize("arg", ["-h", "-help", "--help"])
def test_help_exits_0_with_usage(arg: str) -> None:
    run = run_confpy(arg)
    assert run.code == 0
    assert run.lines[0].startswith("Usage of ")
    assert "  -confdir string" in run.lines


def test_help_from_console_script_names_it() -> None:
    run = run_confpy("-h", console_script=True)
    assert run.code == 0
    assert run.lines[0] == f"Usage of {CONSOLE_SCRIPT}:"


def test_flag_errors_exit_2() -> None:
    run = run_confpy("-onetime", "-interval", "soon")
    assert run.code == 2
    assert run.lines[0] == 'invalid value "soon" for flag -interval: parse error'
    run = run_confpy("-onetime", "-confdir")
    assert run.code == 2
    assert run.lines[0] == "flag needs an argument: -confdir"


def test_a_duration_without_its_unit_is_a_flag_error() -> None:
    # Go's time.ParseDuration: "100" is not 100 seconds (nor 100 ms), it is an error.
    run = run_confpy("-watch", "-debounce", "100", "-backend", "env")
    assert run.code == 2
    assert run.lines[0] == 'invalid value "100" for flag -debounce: time: missing unit in duration "100"'
    run = run_confpy("-onetime", "-backend-timeout", "3")
    assert run.code == 2
    assert run.lines[0] == 'invalid value "3" for flag -backend-timeout: time: missing unit in duration "3"'


def test_version(console_script: bool) -> None:
    run = run_confpy("-version", "-backend", "nosuch", console_script=console_script)
    assert run.code == 0
    assert run.stdout.startswith("confpy ")
    assert run.stderr == ""


def test_invalid_log_level_is_fatal(tmp_path: Path) -> None:
    run = run_confpy("-onetime", "-log-level", "x", "-confdir", str(tmp_path))
    assert run.code == 1
    assert run.one_error() == 'not a valid level: "x"'
    assert [entry.level for entry in run.logs] == ["FATAL"]


def test_unknown_backend_is_one_fatal_line(tmp_path: Path) -> None:
    run = run_confpy("-onetime", "-backend", "nosuch", "-confdir", str(tmp_path))
    assert run.code == 1
    message = run.one_error()
    assert [entry.level for entry in run.logs].count("FATAL") == 1
    assert "nosuch" in message
    for name in ("etcd", "file", "env"):
        assert name in message


def test_log_level_applies(tmp_path: Path) -> None:
    confdir = make_confdir(tmp_path / "c", {"a.toml": '[template]\nsrc = "a"\ndest = "/dev/null"\n'})
    quiet = run_confpy("-onetime", "-backend", "env", "-confdir", str(confdir), "-log-level", "error")
    assert quiet.code == 1  # the template "a" is missing
    assert [entry.level for entry in quiet.logs] == ["ERROR", "FATAL"]
    loud = run_confpy("-onetime", "-backend", "env", "-confdir", str(confdir), "-log-level", "DEBUG")
    assert any(entry.level == "DEBUG" for entry in loud.logs)


def test_words_after_a_bool_are_ignored(tmp_path: Path) -> None:
    # `-onetime false -backend nosuch`: parsing stops at "false", so the bad backend is
    # never seen and confpy runs onetime with the env backend given before it.
    confdir = make_confdir(
        tmp_path / "c",
        {"a.toml": f'[template]\nsrc = "a.tmpl"\ndest = "{tmp_path}/out"\nkeys = ["/q"]\n'},
        {"a.tmpl": "{{getv \"/q\" \"none\"}}\n"},
    )
    run = run_confpy(
        "-backend", "env", "-confdir", str(confdir), "-onetime", "false", "-backend", "nosuch"
    )
    assert run.code == 0, run.stderr
    assert (tmp_path / "out").read_text() == "none\n"


def test_missing_confdir_is_an_error_in_onetime(tmp_path: Path) -> None:
    # confd warns and exits 0, so a cron job never notices: a deliberate divergence.
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(tmp_path / "nope"))
    assert run.code == 1
    assert run.one_error() == f"Cannot load template resources: confdir '{tmp_path / 'nope'}' does not exist"


def test_confdir_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(tmp_path / "file"))
    assert run.code == 1
    assert run.one_error() == f"Cannot load template resources: confdir '{tmp_path / 'file'}' is not a directory"


def test_empty_conf_d_is_an_error_in_onetime(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(tmp_path))
    assert run.code == 1
    assert run.one_error() == f"Found no templates in {tmp_path}/conf.d: nothing to render"


def test_confdir_without_conf_d_is_fatal(tmp_path: Path) -> None:
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(tmp_path))
    assert run.code == 1
    assert run.one_error() == f"stat {tmp_path}/conf.d: no such file or directory"


def test_startup_lines_in_confd_order(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    run = run_confpy("-onetime", "-backend", "file", "-file", "a.yaml", "-confdir", str(tmp_path))
    info = run.messages("INFO")
    assert info[:3] == ["Backend set to file", "Starting confd", "Backend source(s) set to a.yaml"]


def test_config_file_flag(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    config = tmp_path / "confd.toml"
    config.write_text('backend = "env"\nlog-level = "error"\n')
    run = run_confpy("-onetime", "-config-file", str(config), "-confdir", str(tmp_path))
    assert run.code == 1
    # error level: the INFO start-up lines are gone, the error stays.
    assert [entry.level for entry in run.logs] == ["FATAL"]


def test_a_config_file_given_but_missing_is_named_in_a_warning(tmp_path: Path) -> None:
    confdir = make_confdir(
        tmp_path / "c",
        {"a.toml": f'[template]\nsrc = "a.tmpl"\ndest = "{tmp_path}/out"\nkeys = ["/q"]\n'},
        {"a.tmpl": "x\n"},
    )
    missing = tmp_path / "typo" / "confd.toml"
    run = run_confpy("-onetime", "-backend", "env", "-config-file", str(missing), "-confdir", str(confdir))
    assert run.code == 0, run.stderr
    assert run.messages("WARNING") == [f"Config file {missing} does not exist: using the command line and defaults only"]
    # The default path missing stays silent, as in confd.
    quiet = run_confpy("-onetime", "-backend", "env", "-confdir", str(confdir))
    assert quiet.code == 0 and quiet.messages("WARNING") == []


def test_an_unknown_backend_is_refused_before_anything_is_logged_about_it(tmp_path: Path) -> None:
    run = run_confpy("-onetime", "-backend", "etcd3", "-confdir", str(tmp_path))
    assert run.code == 1
    assert [(entry.level, entry.message) for entry in run.logs] == [
        ("FATAL", "Invalid backend 'etcd3': valid backends are consul, env, etcd, etcdv3, file, redis, zookeeper")
    ]


def test_bad_config_file_is_fatal(tmp_path: Path) -> None:
    config = tmp_path / "confd.toml"
    config.write_text('backend = "env"\nnodes = "x"\n')
    run = run_confpy("-onetime", "-config-file", str(config), "-confdir", str(tmp_path))
    assert run.code == 1
    assert "nodes" in run.one_error()


def test_unknown_names_are_warnings_naming_file_line_and_the_closest_name(tmp_path: Path) -> None:
    confdir = make_confdir(
        tmp_path / "c",
        {"a.toml": f'[template]\nsrc = "a.tmpl"\ndest = "{tmp_path}/out"\nreload_comand = "true"\n'},
        {"a.tmpl": "x\n"},
    )
    config = tmp_path / "confd.toml"
    config.write_text('backend = "env"\nnodez = ["127.0.0.1:1"]\n')
    run = run_confpy("-onetime", "-config-file", str(config), "-confdir", str(confdir))
    assert run.code == 0, run.stderr  # ignored, as confd ignores them
    assert run.messages("WARNING") == [
        f'{config}: line 2: unknown key "nodez" (did you mean "nodes"?)',
        f'{confdir}/conf.d/a.toml: line 4: unknown field "reload_comand" in [template] (did you mean "reload_cmd"?)',
    ]
    assert (tmp_path / "out").read_text() == "x\n"


def test_warnings_about_confd_toml_follow_its_log_level(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    config = tmp_path / "confd.toml"
    config.write_text('backend = "env"\nlog-level = "error"\nnodez = []\n')
    run = run_confpy("-onetime", "-config-file", str(config), "-confdir", str(tmp_path))
    assert run.messages("WARNING") == []


@pytest.mark.parametrize(
    ("name", "template", "where"),
    [("a.tmpl", "x\n{{if .}}\ny\n", "template: a.tmpl:4: unexpected EOF (line 4, column 1; the {{if}} at line 2, column 1 has no {{end}})"),
     ("a.tmpl", "x\n  {{if}}\n", "template: a.tmpl:2: missing value for if (line 2, column 7)"),
     ("a.j2", "x\n{% for a in b %}\n", "template: a.j2:2: Unexpected end of template. Jinja was looking for the following tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'. (the {% for %} at line 2 has no {% endfor %})")],
)  # fmt: skip
def test_template_syntax_errors_say_where_as_an_editor_counts(tmp_path: Path, name: str, template: str, where: str) -> None:
    dest = tmp_path / "out"
    dest.write_text("old\n")
    confdir = make_confdir(
        tmp_path / "c", {"a.toml": f'[template]\nsrc = "{name}"\ndest = "{dest}"\n'}, {name: template}
    )
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(confdir))
    assert run.code == 1
    assert run.one_error() == f"Unable to process template {confdir}/templates/{name}, {where}"
    assert dest.read_text() == "old\n"


@pytest.mark.parametrize(
    ("name", "template", "go_text"),
    [("app.tmpl", '{{getv "/app/db"}}\n{{getv "/app/x"}}\n',
      'template: app.tmpl:2:2: executing "app.tmpl" at <getv "/app/x">: error calling getv: key does not exist: /app/x'),
     ("app.j2", '{{ getv("/app/db") }}\n{{ getv("/app/x") }}\n',
      "template: app.j2:2: error calling getv: key does not exist: /app/x")],
)  # fmt: skip
def test_a_missing_key_under_a_prefix_names_the_key_in_the_store_and_the_resource(
    tmp_path: Path, name: str, template: str, go_text: str
) -> None:
    dest = tmp_path / "out"
    confdir = make_confdir(
        tmp_path / "c",
        {"app.toml": f'[template]\nsrc = "{name}"\ndest = "{dest}"\nkeys = ["/app"]\n'},
        {name: template},
    )
    run = run_confpy("-onetime", "-backend", "env", "-prefix", "/prod", "-confdir", str(confdir),
                     env={"PROD_APP_DB": "db:5432"})  # fmt: skip
    assert run.code == 1
    # Go's (or Jinja2's) text first, as people grep for it; then what it means here.
    assert run.one_error() == f"{go_text} (key /prod/app/x in the store, resource app.toml)"
    assert not dest.exists()


def test_a_missing_key_outside_the_resource_keys_says_so(tmp_path: Path) -> None:
    confdir = make_confdir(
        tmp_path / "c",
        {"app.toml": f'[template]\nsrc = "a.tmpl"\ndest = "{tmp_path}/out"\nkeys = ["/app/db", "/app/port"]\n'},
        {"a.tmpl": '{{getv "/web/x"}}'},
    )
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(confdir))
    assert run.one_error().endswith(
        "key does not exist: /web/x (resource app.toml, whose keys (/app/db, /app/port) do not cover it)"
    )
