"""Template resources: discovery, ``[template]`` fields, mode, prefix and keys."""

from __future__ import annotations

import grp
import os
import pwd
from pathlib import Path

import pytest

from confpy.errors import ConfigError
from confpy.resources import (
    ConfdirMissing,
    TemplateResource,
    find_resource_files,
    load_resources,
    parse_mode,
)
from confpy.settings import Settings

MINIMAL = '[template]\nsrc = "a.tmpl"\ndest = "/tmp/a.conf"\n'


def confdir_with(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "confdir"
    (root / "conf.d").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / "conf.d" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def load_one(tmp_path: Path, text: str, **settings: str) -> TemplateResource:
    root = confdir_with(tmp_path, {"x.toml": text})
    [resource] = load_resources(Settings(confdir=str(root), **settings))  # type: ignore[arg-type]
    return resource


def load_error(tmp_path: Path, text: str) -> str:
    root = confdir_with(tmp_path, {"x.toml": text})
    with pytest.raises(ConfigError) as caught:
        load_resources(Settings(confdir=str(root)))
    return str(caught.value)


# -- discovery --------------------------------------------------------------------------


def test_recursive_lexical_depth_first(tmp_path: Path) -> None:
    names = ["b.toml", "a/z.toml", "a/b/c.toml", "a.toml", "c/a.toml", "A.toml", "a-b.toml", "a/a.toml"]
    root = confdir_with(tmp_path, dict.fromkeys(names, MINIMAL))
    found = [str(p.relative_to(root / "conf.d")) for p in find_resource_files(root / "conf.d")]
    # Go's filepath.Walk: entries sorted by name (bytes), each directory's contents
    # visited where the directory sorts.
    assert found == ["A.toml", "a/a.toml", "a/b/c.toml", "a/z.toml", "a-b.toml", "a.toml", "b.toml", "c/a.toml"]
    resources = load_resources(Settings(confdir=str(root)))
    assert [r.path for r in resources] == [root / "conf.d" / name for name in found]


def test_glob_is_star_toml_without_a_dot(tmp_path: Path) -> None:
    root = confdir_with(
        tmp_path,
        {"a.toml": MINIMAL, "footoml": MINIMAL, ".hidden.toml": MINIMAL, "b.tomlx": "junk",
         "c.toml.bak": "junk", "d.TOML": "junk", "e.yaml": "junk"},
    )  # fmt: skip
    (root / "conf.d" / "dir.toml").mkdir()  # a directory is walked, not loaded
    found = sorted(p.name for p in find_resource_files(root / "conf.d"))
    assert found == [".hidden.toml", "a.toml", "footoml"]


def test_symlinked_directory_not_followed_but_symlinked_file_included(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "inside.toml").write_text(MINIMAL)
    (elsewhere / "single.toml").write_text(MINIMAL)
    root = confdir_with(tmp_path, {"a.toml": MINIMAL})
    (root / "conf.d" / "linkdir").symlink_to(elsewhere, target_is_directory=True)
    (root / "conf.d" / "link.toml").symlink_to(elsewhere / "single.toml")
    found = [p.name for p in find_resource_files(root / "conf.d")]
    assert found == ["a.toml", "link.toml"]


def test_bad_toml_aborts_loading_naming_file_and_line(tmp_path: Path) -> None:
    root = confdir_with(
        tmp_path,
        {"a.toml": MINIMAL, "b.toml": '[template]\nsrc = "b.tmpl"\ndest = /x\n', "c.toml": MINIMAL},
    )
    with pytest.raises(ConfigError) as caught:
        load_resources(Settings(confdir=str(root)))
    message = str(caught.value)
    assert message.startswith(f"Cannot process template resource {root}/conf.d/b.toml - ")
    assert "line 3" in message


def test_non_utf8_resource_names_file_and_line(tmp_path: Path) -> None:
    root = confdir_with(tmp_path, {})
    (root / "conf.d" / "a.toml").write_bytes(b'[template]\nsrc = "a\xff"\n')
    with pytest.raises(ConfigError) as caught:
        load_resources(Settings(confdir=str(root)))
    assert str(caught.value) == f"Cannot process template resource {root}/conf.d/a.toml - line 2: not UTF-8 text"


def test_missing_template_table_is_empty_src(tmp_path: Path) -> None:
    message = load_error(tmp_path, 'backend = "etcd"\n')  # a confd.toml dropped into conf.d
    assert message == f"Cannot process template resource {tmp_path}/confdir/conf.d/x.toml - empty src template"


def test_empty_src_names_the_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[template]\ndest = "/x"\nsrc = ""\n')
    assert message.endswith("x.toml - line 3: empty src template")


def test_missing_confdir(tmp_path: Path) -> None:
    with pytest.raises(ConfdirMissing) as caught:
        load_resources(Settings(confdir=str(tmp_path / "nope")))
    assert str(caught.value) == f"Cannot load template resources: confdir '{tmp_path / 'nope'}' does not exist"


def test_confdir_without_conf_d(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_resources(Settings(confdir=str(tmp_path)))
    assert not isinstance(caught.value, ConfdirMissing)
    assert str(caught.value) == f"stat {tmp_path}/conf.d: no such file or directory"


def test_empty_conf_d_gives_no_resources(tmp_path: Path) -> None:
    root = confdir_with(tmp_path, {})
    assert load_resources(Settings(confdir=str(root))) == []


# -- fields -----------------------------------------------------------------------------


def test_every_field(tmp_path: Path) -> None:
    resource = load_one(
        tmp_path,
        '[template]\nsrc = "a.tmpl"\ndest = "/etc/a.conf"\nkeys = ["/db", "name"]\nprefix = "app"\n'
        'mode = "0640"\nuid = 12\ngid = 34\ncheck_cmd = "check {{.src}}"\nreload_cmd = "reload"\n',
    )
    assert resource.src == tmp_path / "confdir" / "templates" / "a.tmpl"
    assert resource.dest == "/etc/a.conf"
    assert resource.prefix == "/app"
    assert resource.keys == ("/app/db", "/app/name")
    assert resource.mode == 0o640
    assert (resource.uid, resource.gid) == (12, 34)
    assert resource.check_cmd == "check {{.src}}"
    assert resource.reload_cmd == "reload"
    assert resource.problem is None
    assert resource.template_name == "a.tmpl"


def test_defaults(tmp_path: Path) -> None:
    resource = load_one(tmp_path, MINIMAL)
    assert (resource.prefix, resource.keys) == ("/", ())
    assert (resource.mode, resource.uid, resource.gid) == (None, None, None)
    assert (resource.check_cmd, resource.reload_cmd, resource.problem) == ("", "", None)


def test_field_names_ignore_case(tmp_path: Path) -> None:
    resource = load_one(
        tmp_path,
        '[Template]\nSRC = "a.tmpl"\nDest = "/d"\nKEYS = ["/k"]\nPrefix = "/p"\nMODE = "0600"\n'
        'UID = 7\nGid = 8\nCHECK_CMD = "c"\nReload_Cmd = "r"\n',
    )
    assert resource.src.name == "a.tmpl"
    assert resource.dest == "/d"
    assert resource.keys == ("/p/k",)
    assert resource.mode == 0o600
    assert (resource.uid, resource.gid) == (7, 8)
    assert (resource.check_cmd, resource.reload_cmd) == ("c", "r")


def test_unknown_fields_are_ignored(tmp_path: Path) -> None:
    resource = load_one(tmp_path, MINIMAL + 'whatever = 1\nkeys_extra = ["x"]\n')
    assert resource.problem is None and resource.keys == ()


def test_mode_as_toml_integer_is_an_error_naming_field_and_line(tmp_path: Path) -> None:
    # `mode = 0644` is not even valid TOML (leading zero); say what to write instead.
    message = load_error(tmp_path, '[template]\nsrc = "a.tmpl"\ndest = "/d"\nmode = 0644\n')
    assert message.startswith(f"Cannot process template resource {tmp_path}/confdir/conf.d/x.toml - ")
    assert "line 4" in message
    assert "mode" in message
    assert 'mode = "0644"' in message


@pytest.mark.parametrize("value", ["644", "0o644", "420"])
def test_mode_as_valid_toml_integer_is_an_error(tmp_path: Path, value: str) -> None:
    message = load_error(tmp_path, f'[template]\nsrc = "a.tmpl"\ndest = "/d"\nmode = {value}\n')
    assert "line 4: field mode must be a string, not an integer" in message
    assert 'mode = "0644"' in message


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [("keys", '"/a"', "an array of strings"), ("keys", "[1]", "an array of strings"),
     ("uid", '"0"', "an integer"), ("dest", "1", "a string"), ("check_cmd", "true", "a string")],
)  # fmt: skip
def test_wrong_field_type_names_field_and_line(tmp_path: Path, field: str, value: str, expected: str) -> None:
    message = load_error(tmp_path, f'[template]\nsrc = "a.tmpl"\n{field} = {value}\n')
    assert f"line 3: field {field} must be {expected}" in message


@pytest.mark.parametrize(
    ("text", "mode"),
    [("0644", 0o644), ("644", 0o644), ("0o600", 0o600), ("0x1a4", 0o644), ("0b110100100", 0o644),
     ("04755", 0o755), ("01777", 0o777), ("0", 0), ("0_644", 0o644), ("0O640", 0o640)],
)  # fmt: skip
def test_parse_mode(text: str, mode: int) -> None:
    # "644" is octal here: a deliberate divergence (confd reads it as decimal 644).
    # setuid, setgid and sticky are dropped, as confd's os.FileMode conversion does.
    assert parse_mode(text) == mode


@pytest.mark.parametrize("text", ["abc", "0o9", "0b2", "-1", "0o", "8", "0x", "0x10000", "rw-r--r--"])
def test_parse_mode_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="0644"):
        parse_mode(text)


def test_bad_mode_is_a_problem_of_that_resource_only(tmp_path: Path) -> None:
    root = confdir_with(
        tmp_path,
        {"a.toml": '[template]\nsrc = "a.tmpl"\ndest = "/d"\n\nmode = "abc"\n', "b.toml": MINIMAL},
    )
    bad, good = load_resources(Settings(confdir=str(root)))
    assert good.problem is None
    assert bad.problem == (
        f'{root}/conf.d/a.toml: line 5: mode "abc" is not a file mode: use an octal string such as "0644"'
    )


def test_missing_dest_is_a_problem_of_that_resource(tmp_path: Path) -> None:
    resource = load_one(tmp_path, '[template]\nsrc = "a.tmpl"\n')
    assert resource.problem is not None
    assert resource.problem.startswith(f"{tmp_path}/confdir/conf.d/x.toml: ")
    assert "dest" in resource.problem
    resource = load_one(tmp_path, '[template]\nsrc = "a.tmpl"\n\ndest = ""\n')
    assert resource.problem is not None and "line 4: field dest" in resource.problem


def test_several_problems_are_reported_together(tmp_path: Path) -> None:
    resource = load_one(tmp_path, '[template]\nsrc = "a.tmpl"\nmode = "x"\nowner = "no-such-user-here"\n')
    assert resource.problem is not None
    assert "dest" in resource.problem and 'mode "x"' in resource.problem
    assert "no-such-user-here" in resource.problem


# -- src, prefix and keys ---------------------------------------------------------------


def test_src_joined_onto_templates_even_when_absolute(tmp_path: Path) -> None:
    root = tmp_path / "confdir"
    assert load_one(tmp_path, '[template]\nsrc = "/a/b.tmpl"\ndest = "/d"\n').src == root / "templates/a/b.tmpl"
    assert load_one(tmp_path, '[template]\nsrc = "sub/c.tmpl"\ndest = "/d"\n').src == root / "templates/sub/c.tmpl"
    # ".." escapes the directory, as in confd.
    assert load_one(tmp_path, '[template]\nsrc = "../x.tmpl"\ndest = "/d"\n').src == root / "x.tmpl"


@pytest.mark.parametrize(
    ("resource_prefix", "global_prefix", "prefix"),
    [("", "", "/"), ("app", "", "/app"), ("/app/", "", "/app/"), ("/app", "glob", "/glob"),
     ("", "/glob", "/glob"), ("/app", "/", "/")],
)  # fmt: skip
def test_effective_prefix(tmp_path: Path, resource_prefix: str, global_prefix: str, prefix: str) -> None:
    text = MINIMAL + f'prefix = "{resource_prefix}"\nkeys = ["k"]\n'
    resource = load_one(tmp_path, text, prefix=global_prefix)
    assert resource.prefix == prefix
    assert resource.keys == (("/k" if prefix == "/" else prefix.rstrip("/") + "/k"),)


def test_keys_joined_and_cleaned(tmp_path: Path) -> None:
    resource = load_one(
        tmp_path,
        MINIMAL + 'prefix = "/app/"\nkeys = ["/db/", "name", "//a//b", "x/../y", ".", "/", "../up", "name"]\n',
    )
    assert resource.keys == ("/app/db", "/app/name", "/app/a/b", "/app/y", "/app", "/app", "/up", "/app/name")


# -- ownership --------------------------------------------------------------------------


def test_owner_and_group_by_name(tmp_path: Path) -> None:
    user = pwd.getpwnam("nobody")
    group = grp.getgrgid(user.pw_gid)
    resource = load_one(tmp_path, MINIMAL + f'owner = "nobody"\ngroup = "{group.gr_name}"\n')
    assert (resource.uid, resource.gid) == (user.pw_uid, group.gr_gid)
    assert resource.problem is None


def test_explicit_uid_and_gid_win_over_names(tmp_path: Path) -> None:
    resource = load_one(tmp_path, MINIMAL + 'owner = "nobody"\ngroup = "root"\nuid = 4242\ngid = 4343\n')
    assert (resource.uid, resource.gid) == (4242, 4343)
    # -1 means "not set": then the name counts.
    resource = load_one(tmp_path, MINIMAL + 'owner = "nobody"\nuid = -1\ngid = -1\n')
    assert resource.uid == pwd.getpwnam("nobody").pw_uid
    assert resource.gid is None


def test_unknown_owner_or_group_is_a_problem(tmp_path: Path) -> None:
    resource = load_one(tmp_path, MINIMAL + '\nowner = "no-such-user-here"\n')
    assert resource.problem == (
        f"{tmp_path}/confdir/conf.d/x.toml: line 5: owner 'no-such-user-here': no such user"
    )
    resource = load_one(tmp_path, MINIMAL + 'group = "no-such-group-here"\n')
    assert resource.problem is not None and "group 'no-such-group-here': no such group" in resource.problem


def test_uid_below_minus_one_is_a_problem(tmp_path: Path) -> None:
    resource = load_one(tmp_path, MINIMAL + "uid = -2\n")
    assert resource.problem is not None and "uid -2" in resource.problem


def test_effective_ids_are_the_default(tmp_path: Path) -> None:
    # None here; the sync engine uses os.geteuid()/os.getegid() for it.
    resource = load_one(tmp_path, MINIMAL)
    assert resource.uid is None and resource.gid is None
    assert os.geteuid() >= 0


# -- engine and delimiters (confpy's own fields) --------------------------------------------


def test_engine_and_delimiters_default_to_go(tmp_path: Path) -> None:
    resource = load_one(tmp_path, MINIMAL)
    assert (resource.engine, resource.delims, resource.extended_funcs) == ("go", ("{{", "}}"), False)
    assert resource.template_dir == resource.templates_root == tmp_path / "confdir" / "templates"


@pytest.mark.parametrize("src", ["a.j2", "a.conf.jinja", "sub/a.jinja2"])
def test_jinja_suffix_selects_jinja2(tmp_path: Path, src: str) -> None:
    resource = load_one(tmp_path, f'[template]\nsrc = "{src}"\ndest = "/d"\n')
    assert resource.engine == "jinja2"
    assert resource.template_dir == tmp_path / "confdir" / "templates"


def test_engine_field_wins_over_the_suffix(tmp_path: Path) -> None:
    assert load_one(tmp_path, '[template]\nsrc = "a.j2"\ndest = "/d"\nengine = "go"\n').engine == "go"
    assert load_one(tmp_path, '[template]\nsrc = "a.tmpl"\ndest = "/d"\nEngine = "jinja2"\n').engine == "jinja2"


def test_unknown_engine_is_a_problem_naming_field_and_line(tmp_path: Path) -> None:
    resource = load_one(tmp_path, '[template]\nsrc = "a.tmpl"\ndest = "/d"\nengine = "mustache"\n')
    assert resource.problem == (
        f"{tmp_path}/confdir/conf.d/x.toml: line 4: engine 'mustache' is unknown: use \"go\" or \"jinja2\""
    )


def test_resource_delimiters_win_over_global_ones(tmp_path: Path) -> None:
    own = '[template]\nsrc = "a.tmpl"\ndest = "/d"\nleft_delimiter = "<<"\nright_delimiter = ">>"\n'
    resource = load_one(tmp_path, own, left_delimiter="[[", right_delimiter="]]")
    assert resource.delims == ("<<", ">>")
    assert load_one(tmp_path, MINIMAL, left_delimiter="[[", right_delimiter="]]").delims == ("[[", "]]")
    half = '[template]\nsrc = "a.tmpl"\ndest = "/d"\nleft_delimiter = "<%"\n'
    assert load_one(tmp_path, half, right_delimiter="]]").delims == ("<%", "]]")
    assert load_one(tmp_path, MINIMAL, extended_funcs=True).extended_funcs is True  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ('left_delimiter = ""', "line 4: field left_delimiter must not be empty (leave it out for the default)"),
        ('right_delimiter = "> >"', "line 4: field right_delimiter '> >' must not contain whitespace"),
        ('left_delimiter = "%%"\nright_delimiter = "%%"', "line 5: left and right delimiters are both '%%': they must differ"),
        ('left_delimiter = "}}"', "line 4: left and right delimiters are both '}}': they must differ"),
        ('engine = "jinja2"\nleft_delimiter = "{%"', "line 5: field left_delimiter '{%' is Jinja2's block start"),
        ('engine = "jinja2"\nright_delimiter = "#}"', "line 5: field right_delimiter '#}' is Jinja2's comment end"),
    ],
)  # fmt: skip
def test_bad_delimiters_are_a_problem_naming_field_and_line(tmp_path: Path, fields: str, problem: str) -> None:
    resource = load_one(tmp_path, f'[template]\nsrc = "a.tmpl"\ndest = "/d"\n{fields}\n')
    assert resource.problem == f"{tmp_path}/confdir/conf.d/x.toml: {problem}"


def test_wrong_type_of_delimiter_is_an_error_naming_the_field(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[template]\nsrc = "a.tmpl"\ndest = "/d"\nleft_delimiter = 1\n')
    assert message.endswith("line 4: field left_delimiter must be a string, not an integer")


# -- unknown fields (confd ignores them; confpy warns) ---------------------------------------


def load_warnings(tmp_path: Path, text: str) -> tuple[TemplateResource | None, list[str]]:
    root = confdir_with(tmp_path, {"x.toml": text})
    warnings: list[str] = []
    try:
        [resource] = load_resources(Settings(confdir=str(root)), warnings.append)
    except ConfigError:
        return None, warnings
    return resource, warnings


@pytest.mark.parametrize(
    ("line", "name", "hint"),
    [('reload_comand = "x"', "reload_comand", ' (did you mean "reload_cmd"?)'),
     ('key = ["/a"]', "key", ' (did you mean "keys"?)'),
     ('Check_Comand = "x"', "Check_Comand", ' (did you mean "check_cmd"?)'),
     ("whatever = 1", "whatever", "")],
)  # fmt: skip
def test_unknown_field_is_a_warning_with_its_line_and_the_closest_name(
    tmp_path: Path, line: str, name: str, hint: str
) -> None:
    resource, warnings = load_warnings(tmp_path, MINIMAL + line + "\n")
    assert resource is not None and resource.problem is None  # it still loads, as in confd
    path = tmp_path / "confdir" / "conf.d" / "x.toml"
    assert warnings == [f'{path}: line 4: unknown field "{name}" in [template]{hint}']


def test_misspelt_src_is_named_before_the_empty_src_error(tmp_path: Path) -> None:
    resource, warnings = load_warnings(tmp_path, '[template]\nscr = "a.tmpl"\ndest = "/d"\n')
    assert resource is None
    assert warnings == [f'{tmp_path}/confdir/conf.d/x.toml: line 2: unknown field "scr" in [template] (did you mean "src"?)']


def test_misspelt_template_table_is_named(tmp_path: Path) -> None:
    resource, warnings = load_warnings(tmp_path, '# app\n[templat]\nsrc = "a.tmpl"\ndest = "/d"\n')
    assert resource is None  # no [template]: empty src, fatal as in confd
    assert warnings == [
        f"{tmp_path}/confdir/conf.d/x.toml: line 2: unknown table [templat]: confd reads only [template]"
        ' (did you mean "template"?)'
    ]


def test_known_fields_in_another_case_are_not_unknown(tmp_path: Path) -> None:
    # confd's decoder matches a field's name exactly, then ignoring case.
    resource, warnings = load_warnings(
        tmp_path, '[Template]\nSRC = "a.tmpl"\nDest = "/d"\nReload_Cmd = "r"\nKEYS = ["/k"]\n'
    )
    assert resource is not None and resource.reload_cmd == "r"
    assert warnings == []


def test_known_names_come_from_the_field_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A field added to resources._FIELDS (the safety branch adds rollback, backup...) is
    # known without anything else to change.
    from confpy import resources

    monkeypatch.setitem(resources._FIELDS, "rollback", ("rollback", bool))
    resource, warnings = load_warnings(tmp_path, MINIMAL + "rollback = true\nrolback = true\n")
    assert resource is not None
    assert warnings == [f'{tmp_path}/confdir/conf.d/x.toml: line 5: unknown field "rolback" in [template] (did you mean "rollback"?)']


def test_unknown_field_is_logged_once_per_load_by_default(tmp_path: Path) -> None:
    from cli_helpers import capture_logs

    root = confdir_with(tmp_path, {"x.toml": MINIMAL + 'reload_comand = "x"\n'})
    with capture_logs() as logs:
        load_resources(Settings(confdir=str(root)))
    assert [m for m in logs.messages() if "reload_comand" in m] == [
        f'{root}/conf.d/x.toml: line 4: unknown field "reload_comand" in [template] (did you mean "reload_cmd"?)'
    ]


# -- safety: rollback, backup, command timeouts -----------------------------------------


def test_safety_fields_default_to_the_global_settings(tmp_path: Path) -> None:
    resource = load_one(tmp_path, MINIMAL)
    assert (resource.rollback, resource.backup) == (False, False)
    assert (resource.check_timeout, resource.reload_timeout) == (None, None)  # no bound, as confd
    root = confdir_with(tmp_path, {"x.toml": MINIMAL})
    settings = Settings(confdir=str(root), rollback=True, backup=True, check_timeout=30.0, reload_timeout=60.0)
    [resource] = load_resources(settings)
    assert (resource.rollback, resource.backup) == (True, True)
    assert (resource.check_timeout, resource.reload_timeout) == (30.0, 60.0)


def test_safety_fields_of_a_resource_win(tmp_path: Path) -> None:
    text = MINIMAL + 'rollback = false\nBackup = true\ncheck_timeout = "1m30s"\nreload_timeout = "0s"\n'
    root = confdir_with(tmp_path, {"x.toml": text})
    settings = Settings(confdir=str(root), rollback=True, check_timeout=5.0, reload_timeout=60.0)
    [resource] = load_resources(settings)
    assert (resource.rollback, resource.backup) == (False, True)
    assert (resource.check_timeout, resource.reload_timeout) == (90.0, None)  # 0s: none


def test_a_bad_timeout_is_a_problem_naming_field_and_line(tmp_path: Path) -> None:
    resource = load_one(tmp_path, MINIMAL + '\ncheck_timeout = "30"\nreload_timeout = "-2s"\n')
    assert resource.problem == (
        f'{tmp_path}/confdir/conf.d/x.toml: line 5: field check_timeout "30": time: missing unit in duration "30"'
        ' (a duration with its unit, e.g. "30s"); line 6: field reload_timeout "-2s": must not be negative'
        ' (a duration with its unit, e.g. "30s")'
    )
    message = load_error(tmp_path, MINIMAL + "check_timeout = 30\n")
    assert message.endswith('line 4: field check_timeout must be a string, not an integer (a duration with its unit, e.g. "30s")')
    message = load_error(tmp_path, MINIMAL + 'rollback = "yes"\n')
    assert message.endswith("line 4: field rollback must be a boolean, not a string")
