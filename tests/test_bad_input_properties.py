"""Hostile and malformed input, generated: YAML data, conf.d and confd.toml TOML, Go and
Jinja2 templates, command lines. Whatever comes in: no traceback, no hang, no damage.

Each example runs confpy in this process (``cli.main`` or the renderer), under an alarm:
an example still running after ``EXAMPLE_SECONDS`` is a hang and fails the test. "No
damage": the dest holds its old content or a whole render, never a part; no stage file
is left behind; nothing is written outside the test's directory (the working directory
is the test's own, for relative dests).

Left out on purpose: values that make confpy talk to the network (``-node``, ``-backend``,
SRV records: the stores have their own tests), shell commands of random text (they would
run), and valid but enormous work a template asks for in so many words (``{{range seq 1
1000000000}}``: Go would spend the same time on it).
"""

from __future__ import annotations

import contextlib
import itertools
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from confpy.cli import main
from confpy.errors import RenderError
from confpy.render import Renderer
from confpy.resources import TemplateResource
from confpy.store import KVStore

pytestmark = pytest.mark.timeout(120)

EXAMPLE_SECONDS = 5.0
OLD = "old content\n"
SETTINGS = settings(
    max_examples=800,
    deadline=None,  # the alarm bounds each example; hypothesis's deadline only reports after
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)


class Hang(BaseException):
    """An example ran past EXAMPLE_SECONDS (a BaseException: no ``except Exception``
    inside confpy may swallow it)."""


@contextlib.contextmanager
def bounded(seconds: float = EXAMPLE_SECONDS) -> Iterator[None]:
    """Raise Hang in the block after ``seconds``. pytest-timeout's own alarm (SIGALRM
    too) is put back afterwards with the time it had left."""

    def expire(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds} s")

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 0.001))


class Site:
    """A confdir with one resource, its dest holding OLD, in a directory of its own."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dest = root / "out.conf"
        (root / "conf.d").mkdir(parents=True, exist_ok=True)
        (root / "templates").mkdir(exist_ok=True)

    def reset(self, resource: str | None = None, template: str | bytes = '{{getv "/x" "dflt"}}\n') -> None:
        for path in (self.root / "conf.d").iterdir():
            path.unlink()
        if resource is None:
            resource = f'[template]\nsrc = "t.tmpl"\ndest = "{self.dest}"\nkeys = ["/"]\n'
        (self.root / "conf.d" / "r.toml").write_text(resource)
        path = self.root / "templates" / "t.tmpl"
        path.write_bytes(template if isinstance(template, bytes) else template.encode("utf-8", "surrogateescape"))
        self.dest.write_text(OLD)
        for stray in self.root.glob(".out.conf*"):
            stray.unlink()

    def run(self, *args: str) -> int:
        with bounded():
            code = main(["-onetime", "-confdir", str(self.root), "-state-file", str(self.root / "state.json"), *args])
        assert code in (0, 1, 2), code
        return code

    def assert_no_damage(self, code: int, renders: tuple[str, ...], stage_files_kept: bool = False) -> None:
        # Whatever the exit code (a failed reload_cmd leaves the new file in place, as in
        # confd), the dest is the old file or a whole render.
        content = self.dest.read_text() if self.dest.exists() else None
        assert content == OLD or content in renders, (code, content)
        if not stage_files_kept:
            assert not list(self.root.glob(".out.conf*")), list(self.root.glob(".out.conf*"))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    monkeypatch.chdir(tmp_path)  # a relative dest, or a stray path, lands here
    return Site(tmp_path / "site")


# -- YAML data (the file backend) ------------------------------------------------------------

YAML_TOKENS = [
    "a", "b", "k", "x", "-", " ", "  ", "\n", "\n  ", "\n    ", ": ", ":", ", ", "[", "]", "{", "}",
    "&a ", "&b ", "*a", "*b", "<<: ", "<<", "? ", "!!map ", "!!seq ", "!!str ", "!!int ", "!!float ",
    "!!bool ", "!!null ", "!!binary ", "!!set ", "!!omap ", "!!pairs ", "!!timestamp ", "!foo ",
    "!!merge ", '"', "'", "|", ">", "#", "---", "...", "%YAML 1.1\n", "~", "yes", "no", "0x1F",
    "0777", "1e400", "-.inf", ".nan", "9" * 40, "9" * 5000, "1_000", "2001-12-14", "\t", "\\",
    "é", "\x00", "\ufeff", "@", "`",
]  # fmt: skip


@st.composite
def yaml_bomb(draw: st.DrawFn) -> str:
    """Nested anchors and aliases, some of them exponential."""
    width = draw(st.integers(1, 12))
    levels = draw(st.integers(1, 12))
    merge = draw(st.booleans())
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]" if not merge else "a0: &a0 {k: x}"]
    for i in range(1, levels + 1):
        if merge:
            lines.append(f"a{i}: &a{i} {{<<: [{', '.join([f'*a{i - 1}'] * width)}], k{i}: y}}")
        else:
            lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


YAML = st.one_of(
    st.lists(st.sampled_from(YAML_TOKENS), max_size=60).map("".join),
    yaml_bomb(),
    st.text(max_size=200),
)


@SETTINGS
@given(text=YAML)
def test_any_yaml_data(site: Site, text: str) -> None:
    site.reset(template='{{range gets "/*"}}{{.Key}}={{.Value}}\n{{end}}')
    data = site.root / "data.yaml"
    data.write_bytes(text.encode("utf-8", "surrogateescape"))
    code = site.run("-backend", "file", "-file", str(data))
    content = site.dest.read_text()
    assert code == 0 or content == OLD
    assert not list(site.root.glob(".out.conf*"))


# -- conf.d and confd.toml (TOML) -------------------------------------------------------------

SAFE_COMMANDS = ['"true"', '"false"', '"exit 3"', '""', '"echo {{.src}}"', '"test -s {{.src}}"', '"{{.src"']
FIELD_VALUES = {
    "src": ['"t.tmpl"', '"nope.tmpl"', '""', '"../t.tmpl"', '"t.tmpl\\u0000"', "1", '["t.tmpl"]'],
    "dest": ['"DEST"', '""', '"DEST\\u0000"', "true", '"/proc/nope/x"', '"relative.conf"'],
    "keys": ['["/"]', '["/x"]', "[]", '"/x"', '["/\\u0000"]', "[1]", '["' + "a" * 300 + '"]'],
    "prefix": ['"/"', '"x"', '""', '"/a/../.."', "[]"],
    "mode": ['"0644"', '"644"', '" 0644"', '"0o777"', '"0x1ff"', '"99999"', "0644", "420", '"-1"', '""'],
    "uid": ["-1", "0", "-2", "4294967295", "9" * 25, '"0"', "1.5"],
    "gid": ["-1", "0", "-9223372036854775808", "9223372036854775807"],
    "owner": ['"root"', '"no-such-user"', '""', '"ro\\u0000ot"', "0"],
    "group": ['"root"', '"no-such-group"', '"0"'],
    "check_cmd": SAFE_COMMANDS,
    "reload_cmd": SAFE_COMMANDS,
    "engine": ['"go"', '"jinja2"', '"mustache"', '""'],
    "left_delimiter": ['"<<"', '""', '"{{"', '" "', '"{%"'],
    "right_delimiter": ['">>"', '"}}"', '"%}"', '"\\n"'],
    "reload_comand": ['"true"'],  # a typo: warned about
}
TOML_JUNK = [
    "[template]", "[templat]", "[[template]]", "[template.sub]", "x = " + "[" * 300 + "]" * 300,
    "y = {a = " * 200 + "1" + "}" * 200, "z = 1" + "0" * 5000, "= 1", '"q" = """', "a.b.c = 1", "\x00",
    "# comment", "", "mode = 'x'", "\ufeff", "k = 1979-05-27", "k = inf",
]  # fmt: skip


@st.composite
def conf_d_text(draw: st.DrawFn) -> str:
    """A working resource, some of its fields given other values, names and junk."""
    fields = {"src": '"t.tmpl"', "dest": '"DEST"', "keys": '["/"]'}
    for _ in range(draw(st.integers(0, 3))):
        field = draw(st.sampled_from(sorted(FIELD_VALUES)))
        fields[field] = draw(st.sampled_from(FIELD_VALUES[field]))
    lines = [draw(st.sampled_from(["[template]", "[template]", "[Template]", "[templat]"]))]
    for field, value in fields.items():
        name = draw(st.sampled_from([field, field, field.upper()]))
        lines.append(f"{name} = {value}")
    if draw(st.integers(0, 3)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(TOML_JUNK)))
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"]))


CONFD_TOML_KEYS = {
    "log-level": ['"debug"', '"trace"', '"ERROR"', "1"],
    "prefix": ['"/"', '"/p"', "[]"],
    "funcs": ['"extended"', '"confd"', '"all"'],
    "left_delimiter": ['"<<"', '""', '" "'],
    "right_delimiter": ['">>"', '"<<"'],
    "interval": ["-1", "5", '"5"'],
    "noop": ["true", '"yes"'],
    "sync-only": ["true", "false"],
    "nodez": ['["127.0.0.1:1"]'],
    "log-format": ['"json"', '"xml"'],
    "secret_keyring": ['"/nonexistent"', '"/dev/null"', '"a\\u0000b"'],
    "client_cert": ['"/nonexistent"', '"c\\u0000"'],
    "file": ['["x\\u0000"]', "[]"],
}


@st.composite
def confd_toml_text(draw: st.DrawFn) -> str:
    lines: list[str] = []
    for _ in range(draw(st.sampled_from([0, 0, 1, 2, 3]))):
        if draw(st.integers(0, 5)) == 0:
            lines.append(draw(st.sampled_from(TOML_JUNK)))
            continue
        key = draw(st.sampled_from(sorted(CONFD_TOML_KEYS)))
        lines.append(f"{key} = {draw(st.sampled_from(CONFD_TOML_KEYS[key]))}")
    return "\n".join(lines) + "\n"


@SETTINGS
@given(resource=conf_d_text(), config=confd_toml_text())
def test_any_conf_d_and_confd_toml(site: Site, resource: str, config: str) -> None:
    site.reset(resource.replace("DEST", str(site.dest)))
    config_file = site.root / "confd.toml"
    config_file.write_text(config)
    code = site.run("-backend", "env", "-config-file", str(config_file))
    site.assert_no_damage(code, renders=("dflt\n", '{{getv "/x" "dflt"}}\n'))
    # -validate on the same tree: a verdict, never a traceback (a run can still fail
    # where -validate cannot look: a command, a key missing from the store).
    with bounded():
        checked = main(["-validate", "-confdir", str(site.root), "-config-file", str(config_file)])
    assert checked in (0, 1)


# -- templates, through the renderer ----------------------------------------------------------

GO_TOKENS = [
    "{{", "}}", "{{- ", " -}}", "{{/* c */}}", "if ", "else ", "else if ", "end", "range ", "with ",
    'define "d"', 'template "d"', 'template "d" .', 'block "b" .', "break", "continue", 'include "p.tmpl"',
    'include "t.tmpl"', 'include "../x"', ".", "$", "$x := ", "$x", "$x = ", "|", "(", ")", " ",
    'getv "/a"', 'getv "/nope"', 'gets "/*"', 'getvs "["', 'ls "/"', 'exists "/a"', 'printf "%d" ',
    'printf "%0999999999d" 1', "printf ", "print ", "len ", "index ", "slice ", "eq ", "lt ", "and ",
    "or ", "not ", "1", "0", "-1", "9" * 30, "1e999", "0x", "'a'", "1i", '"s"', '"\\x"', "`r`", "nil",
    "true", "seq 1 3", "add ", "div 1 0", "atoi ", "split ", "join ", "json ", "jsonArray ", "base64Decode ",
    "datetime", "toUpper ", "map ", "call ", "html ", "js ", "urlquery ", "\n", "text", "é", "\x00", "\udcff",
]  # fmt: skip
JINJA_TOKENS = [
    "{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-%}", "for x in ", "endfor", "if ", "elif ", "else",
    "endif", "set y = ", "set z", "endset", "macro m() ", "endmacro", "m()", "call m() ", "endcall",
    "block b ", "endblock", 'include "p.j2" ', 'import "p.j2" as q', 'extends "t.tmpl"', "raw", "endraw",
    "with ", "endwith", "filter upper", "endfilter", " ", "x", "y", "loop.index", "(", ")", "[", "]", ",",
    "|", "upper", "join", "length", "default", "int", "**", "*", "%", "+", "~", "1", "9" * 30, "10", "'s'",
    '"%0999999999d"', "range(3)", "range(100001)", 'getv("/a")', 'getv("/nope")', 'gets("/*")', "lookupIP",
    "''.__class__", "x.__globals__", "dict(a=1)", "namespace()", "\n", "text", "é", "\x00",
]  # fmt: skip


def template_resource(root: Path, name: str, engine: str) -> TemplateResource:
    return TemplateResource(
        path=root / "r.toml", src=root / name, dest=str(root / "out"), prefix="/", keys=("/",), engine=engine
    )


@pytest.mark.parametrize(("engine", "tokens"), [("go", GO_TOKENS), ("jinja2", JINJA_TOKENS)])
def test_any_template(tmp_path: Path, engine: str, tokens: list[str]) -> None:
    suffix = ".tmpl" if engine == "go" else ".j2"
    (tmp_path / "p.tmpl").write_text('{{getv "/a"}}')
    (tmp_path / "p.j2").write_text("{{ getv('/a') }}{% macro n() %}1{% endmacro %}")
    renderer = Renderer(environ={})  # one for all, as a daemon keeps one
    store = KVStore({"/a": "1", "/b/c": "2"})
    names = itertools.count()

    @SETTINGS
    @given(text=st.lists(st.sampled_from(tokens), max_size=50).map("".join))
    def render(text: str) -> None:
        # A file of its own each time: the renderer's cache knows a file by its stamp.
        resource = template_resource(tmp_path, f"t{next(names)}{suffix}", engine)
        resource.src.write_text(text, encoding="utf-8", errors="surrogateescape")
        with bounded():
            try:
                out = renderer.render(resource, store)
            except RenderError as exc:
                assert str(exc), text
                assert "Traceback" not in str(exc)
            else:
                assert isinstance(out, bytes)

    render()


# -- command lines ---------------------------------------------------------------------------

# Flags that do nothing but read a value here: no network, no daemon, no place to write to.
FLAGS = [
    "log-level", "prefix", "noop", "sync-only", "keep-stage-file", "left-delimiter", "right-delimiter",
    "extended-funcs", "debounce", "backend-timeout", "filter", "table", "separator", "secret-keyring",
    "scheme", "username", "password", "basic-auth", "client-insecure", "validate", "log-format",
    "unhealthy-after", "watch-confdir", "version", "h", "nosuch",
]  # fmt: skip
VALUES = [
    "", "x", "true", "false", "0", "1", "-1", "10s", "100", "100ms:2s", "2s:1s", "1h", "9" * 30, "debug",
    "trace", "json", "<<", ">>", "{{", "}}", "/", "/x", "/dev/null", "/nonexistent", "é", "\x7f", "-", "--",
    "=",
]  # fmt: skip


@st.composite
def command_line(draw: st.DrawFn) -> list[str]:
    args: list[str] = []
    for _ in range(draw(st.integers(0, 8))):
        flag = draw(st.sampled_from(FLAGS))
        dashes = draw(st.sampled_from(["-", "--"]))
        form = draw(st.integers(0, 3))
        value = draw(st.sampled_from(VALUES))
        if form == 0:
            args.append(f"{dashes}{flag}")
        elif form == 1:
            args.append(f"{dashes}{flag}={value}")
        else:
            args.extend([f"{dashes}{flag}", value])
    return args


@SETTINGS
@given(args=command_line())
def test_any_command_line(site: Site, args: list[str]) -> None:
    site.reset()
    code = site.run("-backend", "env", *args)
    keep = any("keep-stage-file" in a for a in args)
    site.assert_no_damage(code, renders=("dflt\n", '{{getv "/x" "dflt"}}\n'), stage_files_kept=keep)


def test_the_alarm_catches_a_hang() -> None:
    # What makes "no hang" hold: an example past its time fails, it does not wait.
    started = time.monotonic()
    with pytest.raises(Hang), bounded(0.2):
        while True:
            pass
    assert time.monotonic() - started < 2
