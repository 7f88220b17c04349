"""Bad input as a user meets it, through the command line: each kind is one clear error
line (no traceback), exit 1, the dest untouched, and quick (issue 11)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import Run, make_confdir, run_confpy

pytestmark = pytest.mark.timeout(30)

TEMPLATE = '{{range gets "/*"}}{{.Key}}={{.Value}}\n{{end}}'
OLD = "old content\n"


def confdir(tmp_path: Path, resource_extra: str = "", template: str = TEMPLATE) -> tuple[Path, Path]:
    """A confdir with one resource over every key, and its dest holding OLD."""
    dest = tmp_path / "out.conf"
    dest.write_text(OLD)
    resource = f'[template]\nsrc = "a.tmpl"\ndest = "{dest}"\nkeys = ["/"]\n{resource_extra}'
    return make_confdir(tmp_path / "confdir", {"a.toml": resource}, {"a.tmpl": template}), dest


def assert_refused(run: Run, dest: Path | None = None) -> str:
    """Exit 1, no traceback, one error; the dest as it was. Returns the error."""
    assert run.code == 1, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    message = run.one_error()
    if dest is not None:
        assert dest.read_text() == OLD
        assert [p.name for p in dest.parent.iterdir() if p.name.startswith(".out.conf")] == []
    return message


# -- command line and confd.toml -------------------------------------------------------------


@pytest.mark.parametrize("level", ["trace", "TRACE", "verbose"])
def test_unknown_log_level_flag_is_refused_as_confd_refuses_it(tmp_path: Path, level: str) -> None:
    # confd 0.16.0's vendored logrus has no "trace" level (it came later).
    root, dest = confdir(tmp_path)
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(root), "-log-level", level)
    assert assert_refused(run, dest) == f'not a valid level: "{level}"'


def test_unknown_log_level_in_confd_toml_is_refused(tmp_path: Path) -> None:
    root, dest = confdir(tmp_path)
    config = tmp_path / "confd.toml"
    config.write_text('log-level = "trace"\n')
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(root), "-config-file", str(config))
    assert assert_refused(run, dest) == 'not a valid level: "trace"'


@pytest.mark.parametrize(
    ("name", "reason"), [("missing", "no such file or directory"), ("dir", "is a directory")]
)
def test_unreadable_secret_keyring_is_an_error(tmp_path: Path, name: str, reason: str) -> None:
    root, dest = confdir(tmp_path)
    (tmp_path / "dir").mkdir()
    keyring = tmp_path / name
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(root), "-secret-keyring", str(keyring))
    # confd: `FATAL open <path>: no such file or directory`, exit 1.
    assert assert_refused(run, dest) == f"open {keyring}: {reason} (the -secret-keyring file)"


def test_readable_secret_keyring_is_only_a_warning(tmp_path: Path) -> None:
    root, _ = confdir(tmp_path)
    keyring = tmp_path / "keyring.asc"
    keyring.write_text("-----BEGIN PGP PRIVATE KEY BLOCK-----\n")
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(root), "-secret-keyring", str(keyring))
    assert run.code == 0, run.stderr
    assert any("-secret-keyring is not supported" in m for m in run.messages("WARNING"))


def test_secret_keyring_fifo_does_not_hang(tmp_path: Path) -> None:
    import os

    root, _ = confdir(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(root), "-secret-keyring", str(fifo), timeout=10)
    assert run.code == 0, run.stderr


# -- conf.d TOML ------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["src", "dest"])
def test_nul_byte_in_src_or_dest(tmp_path: Path, field: str) -> None:
    dest = tmp_path / "out.conf"
    dest.write_text(OLD)
    values = {"src": "a.tmpl", "dest": str(dest)}
    values[field] = values[field] + "\\u0000x"
    resource = f'[template]\nsrc = "{values["src"]}"\ndest = "{values["dest"]}"\nkeys = ["/"]\n'
    root = make_confdir(tmp_path / "confdir", {"a.toml": resource}, {"a.tmpl": TEMPLATE})
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(root))
    message = assert_refused(run, dest)
    line = 2 if field == "src" else 3
    assert f"line {line}: field {field} contains a NUL byte" in message
    assert str(root / "conf.d" / "a.toml") in message


@pytest.mark.parametrize("field", ["check_cmd", "owner", "prefix"])
def test_nul_byte_in_other_fields(tmp_path: Path, field: str) -> None:
    root, dest = confdir(tmp_path, f'{field} = "x\\u0000y"\n')
    message = assert_refused(run_confpy("-onetime", "-backend", "env", "-confdir", str(root)), dest)
    assert f"line 5: field {field} contains a NUL byte" in message


def test_nul_byte_in_keys(tmp_path: Path) -> None:
    dest = tmp_path / "out.conf"
    dest.write_text(OLD)
    resource = f'[template]\nsrc = "a.tmpl"\ndest = "{dest}"\nkeys = ["/a\\u0000"]\n'
    root = make_confdir(tmp_path / "confdir", {"a.toml": resource}, {"a.tmpl": TEMPLATE})
    message = assert_refused(run_confpy("-onetime", "-backend", "env", "-confdir", str(root)), dest)
    assert "line 4: field keys contains a NUL byte" in message


@pytest.mark.parametrize(
    ("field", "value"),
    [("uid", "-2"), ("uid", "4294967295"), ("gid", "99999999999"), ("uid", "9223372036854775807"),
     ("gid", "-9223372036854775808")],
)  # fmt: skip
def test_uid_or_gid_out_of_range(tmp_path: Path, field: str, value: str) -> None:
    root, dest = confdir(tmp_path, f"{field} = {value}\n")
    message = assert_refused(run_confpy("-onetime", "-backend", "env", "-confdir", str(root)), dest)
    assert message.endswith(f"line 5: {field} {value} is out of range: use 0 to 4294967294, or -1 for the default")


@pytest.mark.parametrize("digits", [20, 50_000])
def test_integer_beyond_int64(tmp_path: Path, digits: int) -> None:
    # confd's TOML decoder: "Integer '...' is out of the range of 64-bit signed integers".
    root, dest = confdir(tmp_path, f"uid = {'9' * digits}\n")
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(root))
    message = assert_refused(run, dest)
    assert "is out of the range of 64-bit signed integers (at line 5, column 7)" in message
    assert len(message) < 300
    assert run.elapsed < 10


@pytest.mark.parametrize(("opening", "closing"), [("[", "]"), ("{a = ", "}")])
def test_nesting_thousands_deep(tmp_path: Path, opening: str, closing: str) -> None:
    root, dest = confdir(tmp_path, f"extra = {opening * 5000}{closing * 5000}\n")
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(root))
    message = assert_refused(run, dest)
    assert "arrays or inline tables nested more than 100 deep (at line 5, column" in message


def test_nesting_in_confd_toml(tmp_path: Path) -> None:
    root, dest = confdir(tmp_path)
    config = tmp_path / "confd.toml"
    config.write_text("nodes = " + "[" * 3000 + "]" * 3000 + "\n")
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(root), "-config-file", str(config))
    message = assert_refused(run, dest)
    assert message.startswith(f"cannot load config file {config}: arrays or inline tables nested more than 100 deep")


@pytest.mark.parametrize("mode", [" 0644", "0644 ", "06 44", "0644\\t"])
def test_mode_with_blanks(tmp_path: Path, mode: str) -> None:
    # confd's strconv.ParseUint refuses blanks too.
    root, dest = confdir(tmp_path, f'mode = "{mode}"\n')
    message = assert_refused(run_confpy("-onetime", "-backend", "env", "-confdir", str(root)), dest)
    assert "line 5: mode" in message and "is not a file mode" in message


# -- YAML (the file backend) -----------------------------------------------------------------


def run_file(tmp_path: Path, yaml_text: str) -> tuple[Run, Path, Path]:
    root, dest = confdir(tmp_path)
    data = tmp_path / "data.yaml"
    data.write_text(yaml_text)
    return run_confpy("-onetime", "-backend", "file", "-file", str(data), "-confdir", str(root)), dest, data


def test_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    run, dest, data = run_file(tmp_path, "\n".join(lines) + "\n")
    message = assert_refused(run, dest)
    assert message.startswith(f"cannot parse {data}: document contains excessive aliasing (")
    assert run.elapsed < 10  # a second here; expanded, it would be a billion nodes


def test_yaml_tag_that_does_not_fit_its_node(tmp_path: Path) -> None:
    run, dest, data = run_file(tmp_path, "a: 1\nb: !!map [1, 2]\n")
    message = assert_refused(run, dest)
    assert message == f"cannot parse {data} at line 2, column 4: a !!map tag on a sequence: remove the tag or fix the value"


def test_yaml_integer_of_tens_of_thousands_of_digits(tmp_path: Path) -> None:
    # As go-yaml: neither an int64, an uint64 nor a float64, so the text itself.
    run, _, _ = run_file(tmp_path, f"a: {'9' * 50_000}\n")
    assert run.code == 0, run.stderr
    assert (tmp_path / "out.conf").read_text() == f"/a={'9' * 50_000}\n"
    run, dest, data = run_file(tmp_path, f"a: !!int {'9' * 50_000}\n")
    (tmp_path / "out.conf").write_text(OLD)
    run = run_confpy("-onetime", "-backend", "file", "-file", str(data), "-confdir", str(tmp_path / "confdir"))
    message = assert_refused(run, dest)
    assert message == f"cannot parse {data} at line 1, column 4: cannot decode `{'9' * 30}... (50000 characters)` as a !!int"


def test_yaml_merge_of_a_scalar(tmp_path: Path) -> None:
    run, dest, data = run_file(tmp_path, "a: {<<: 1}\n")
    message = assert_refused(run, dest)
    assert message == f"cannot parse {data} at line 1, column 9: map merge requires map or sequence of maps as the value"


# -- templates ---------------------------------------------------------------------------------


def run_template(tmp_path: Path, name: str, template: str) -> Run:
    dest = tmp_path / "out.conf"
    dest.write_text(OLD)
    resource = f'[template]\nsrc = "{name}"\ndest = "{dest}"\nkeys = ["/"]\n'
    root = make_confdir(tmp_path / "confdir", {"a.toml": resource}, {name: template})
    return run_confpy("-onetime", "-backend", "env", "-confdir", str(root))


@pytest.mark.parametrize(
    ("template", "error"),
    [("{{ 10 ** 100000 }}", "template: a.j2:1: 10 ** 100000 is too large a number"),
     ("{{ 'ab' * 10000000000 }}", "template: a.j2:1: repeating 2 items 10000000000 times is too large"),
     ("{{ '%0999999999d' % 1 }}", "template: a.j2:1: a %-format width or precision of a million or more is too large"),
     ("{{ 10 ** 5000 }}", "template: a.j2:1: an integer of more than 4300 digits cannot be read or printed"),
     ("{{ " + "9" * 50_000 + " }}", "an integer of more than 4300 digits cannot be read or printed"),
     ("{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}", "template: a.j2: nested too deeply")],
)  # fmt: skip
def test_jinja2_results_too_big_to_make(tmp_path: Path, template: str, error: str) -> None:
    # The sandbox keeps templates from Python's internals; these bounds keep one from
    # spending the machine's memory and time on a single number or string.
    run = run_template(tmp_path, "a.j2", template)
    assert assert_refused(run, tmp_path / "out.conf").endswith(error)
    assert run.elapsed < 10


def test_jinja2_ordinary_arithmetic_still_works(tmp_path: Path) -> None:
    run = run_template(tmp_path, "a.j2", "{{ 2 ** 10 }} {{ 'ab' * 3 }} {{ '%05d' % 7 }} {{ [1] * 2 }} {{ 7 % 3 }}\n")
    assert run.code == 0, run.stderr
    assert (tmp_path / "out.conf").read_text() == "1024 ababab 00007 [1, 1] 1\n"


def test_go_template_nested_beyond_python_limits(tmp_path: Path) -> None:
    template = "{{if 1}}{{else}}{{with 1}}" * 50 + "x" + "{{end}}" * 100
    message = assert_refused(run_template(tmp_path, "a.tmpl", template), tmp_path / "out.conf")
    assert message.endswith(
        "template: a.tmpl: too deeply nested to compile (too many levels of indentation): nest fewer controls"
    )


@pytest.mark.parametrize("key", ["client_cakeys", "client_cert", "file", "confdir", "prefix", "state_file"])
def test_nul_byte_in_confd_toml(tmp_path: Path, key: str) -> None:
    # No path, name or URL can hold one: refused with the key, before any system call
    # (an ssl context, a stat) could raise its own ValueError.
    root, dest = confdir(tmp_path)
    config = tmp_path / "confd.toml"
    value = '["a\\u0000b"]' if key == "file" else '"a\\u0000b"'
    config.write_text(f'backend = "etcd"\nnodes = ["https://127.0.0.1:1"]\n{key} = {value}\n')
    run = run_confpy("-onetime", "-confdir", str(root), "-config-file", str(config))
    assert assert_refused(run, dest) == f"cannot load config file {config}: key '{key}' contains a NUL byte"
