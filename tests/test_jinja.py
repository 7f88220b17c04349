"""Jinja2 resources: confd's whole function map over the store view (each function checked
against the Go engine's output for the same call), filters, the failure contract,
delimiters, and the sandbox."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_helpers import Run, make_confdir, run_confpy, stage_files
from render_helpers import resource_in

from confpy.errors import RenderError
from confpy.funcs import confd_funcs
from confpy.render import Renderer
from confpy.store import KVStore

STORE = KVStore(
    {
        "/app/db/user": "admin",
        "/app/db/pass": "secret",
        "/app/name": "web",
        "/app/json": '{"port": 8080, "tags": ["a", "b"]}',
        "/app/list": '["x", "y"]',
        "/svc/b": "10.0.0.2:80",
        "/svc/a": "10.0.0.1:80",
        "/svc/long": "1.2.3.4:5",
    }
)
ENVIRON = {"HOME": "/home/u", "EMPTY": "", "TZ": "UTC"}


def render_jinja(tmp_path: Path, text: str, files: dict[str, str] | None = None, **options: object) -> bytes:
    resource = resource_in(tmp_path, "x.j2", {"x.j2": text, **(files or {})}, engine="jinja2", **options)  # type: ignore[arg-type]
    return Renderer(environ=ENVIRON).render(resource, STORE)


def render_go(tmp_path: Path, text: str) -> bytes:
    resource = resource_in(tmp_path, "x.tmpl", {"x.tmpl": text})
    return Renderer(environ=ENVIRON).render(resource, STORE)


def jinja_error(tmp_path: Path, text: str, files: dict[str, str] | None = None) -> str:
    with pytest.raises(RenderError) as caught:
        render_jinja(tmp_path, text, files)
    return str(caught.value)


# Each confd function: a Jinja2 template, the Go template meaning the same, and what both print.
FUNCTIONS = {
    "get": ('{{ get("/app/name").Value }}', '{{(get "/app/name").Value}}', "web"),
    "gets": ('{% for p in gets("/svc/*") %}{{ p.Key }}={{ p.Value }};{% endfor %}',
             '{{range gets "/svc/*"}}{{.Key}}={{.Value}};{{end}}',
             "/svc/a=10.0.0.1:80;/svc/b=10.0.0.2:80;/svc/long=1.2.3.4:5;"),
    "getv": ('{{ getv("/app/name") }} {{ getv("/nope", "dflt") }}', '{{getv "/app/name"}} {{getv "/nope" "dflt"}}', "web dflt"),
    "getvs": ('{{ getvs("/app/db/*") | join(",") }}', '{{join (getvs "/app/db/*") ","}}', "admin,secret"),
    "exists": ('{{ exists("/app/name") }}{{ exists("/app") }}', '{{exists "/app/name"}}{{exists "/app"}}', "truefalse"),
    "ls": ('{{ ls("/app") | join(",") }}', '{{join (ls "/app") ","}}', "db,json,list,name"),
    "lsdir": ('{{ lsdir("/app") | join(",") }}', '{{join (lsdir "/app") ","}}', "db"),
    "base": ('{{ base("/a/b/") }}', '{{base "/a/b/"}}', "b"),
    "dir": ('{{ dir("/a/b") }}', '{{dir "/a/b"}}', "/a"),
    "split": ('{{ split("a:b", ":") | join("|") }}', '{{join (split "a:b" ":") "|"}}', "a|b"),
    "join": ('{{ join(split("a:b", ":"), "-") }}', '{{join (split "a:b" ":") "-"}}', "a-b"),
    "replace": ('{{ replace("aaa", "a", "b", 2) }}', '{{replace "aaa" "a" "b" 2}}', "bba"),
    "contains": ('{{ contains("abc", "b") }}', '{{contains "abc" "b"}}', "true"),
    "trimSuffix": ('{{ trimSuffix("a.conf", ".conf") }}', '{{trimSuffix "a.conf" ".conf"}}', "a"),
    "toUpper": ('{{ toUpper("ß-ab") }}', '{{toUpper "ß-ab"}}', "ß-AB"),
    "toLower": ('{{ toLower("AB") }}', '{{toLower "AB"}}', "ab"),
    "json": ('{{ json(getv("/app/json")).port }}', '{{(json (getv "/app/json")).port}}', "8080"),
    "jsonArray": ('{{ jsonArray(getv("/app/list"))[1] }}', '{{index (jsonArray (getv "/app/list")) 1}}', "y"),
    "map": ('{{ map("k", "v").k }}', '{{(map "k" "v").k}}', "v"),
    "base64Encode": ('{{ base64Encode("hi") }}', '{{base64Encode "hi"}}', "aGk="),
    "base64Decode": ('{{ base64Decode("aGk=") }}', '{{base64Decode "aGk="}}', "hi"),
    "parseBool": ('{{ parseBool("T") }}', '{{parseBool "T"}}', "true"),
    "atoi": ('{{ atoi("-12") + 1 }}', '{{add (atoi "-12") 1}}', "-11"),
    "add": ('{{ add(2, 3) }}', "{{add 2 3}}", "5"),
    "sub": ('{{ sub(2, 3) }}', "{{sub 2 3}}", "-1"),
    "mul": ('{{ mul(2, 3) }}', "{{mul 2 3}}", "6"),
    "div": ('{{ div(-7, 2) }}', "{{div -7 2}}", "-3"),
    "mod": ('{{ mod(-7, 3) }}', "{{mod -7 3}}", "-1"),
    "seq": ('{% for i in seq(1, 3) %}{{ i }}{% endfor %}', "{{range seq 1 3}}{{.}}{{end}}", "123"),
    "reverse": ('{{ reverse(ls("/app")) | join(",") }}', '{{join (reverse (ls "/app")) ","}}', "name,list,json,db"),
    "sortByLength": ('{{ sortByLength(split("ccc,a,bb", ",")) | join(",") }}',
                     '{{join (sortByLength (split "ccc,a,bb" ",")) ","}}', "a,bb,ccc"),
    "sortKVByLength": ('{% for p in sortKVByLength(gets("/svc/*")) %}{{ p.Key }} {% endfor %}',
                       '{{range sortKVByLength (gets "/svc/*")}}{{.Key}} {{end}}', "/svc/a /svc/b /svc/long "),
    "getenv": ('{{ getenv("HOME") }} {{ getenv("EMPTY", "d") }}', '{{getenv "HOME"}} {{getenv "EMPTY" "d"}}', "/home/u d"),
    "datetime": ('{{ datetime().Format("MST") }} {{ datetime().Year() > 2000 }}', '{{datetime.Format "MST"}} {{gt datetime.Year 2000}}', "UTC true"),
    "fileExists": ('{{ fileExists("/") }}{{ fileExists("/no/such") }}', '{{fileExists "/"}}{{fileExists "/no/such"}}', "truefalse"),
    "lookupIP": ('{{ lookupIP("10.0.0.1") | join(",") }}', '{{join (lookupIP "10.0.0.1") ","}}', "10.0.0.1"),
    "lookupIPV4": ('{{ lookupIPV4("::1") | length }}', '{{len (lookupIPV4 "::1")}}', "0"),
    "lookupIPV6": ('{{ lookupIPV6("::1") | join(",") }}', '{{join (lookupIPV6 "::1") ","}}', "::1"),
    "lookupSRV": ('{{ lookupSRV("x", "tcp", "bad name!") | length }}', '{{len (lookupSRV "x" "tcp" "bad name!")}}', "0"),
}  # fmt: skip


def test_every_confd_function_is_covered() -> None:
    assert set(FUNCTIONS) == set(confd_funcs(KVStore()))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_confd_function_in_jinja_as_in_go(tmp_path: Path, name: str) -> None:
    jinja, go, expected = FUNCTIONS[name]
    assert render_go(tmp_path / "go", go) == expected.encode()
    rendered = render_jinja(tmp_path / "j2", jinja)
    # Jinja2 prints a bool as True/False; the function's value is the same.
    assert rendered.replace(b"True", b"true").replace(b"False", b"false") == expected.encode()


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('{{ "/a/b" | base }} {{ "/a/b" | dir }}', "b /a"),
        ('{{ "a,b" | split(",") | join("+") }}', "a+b"),
        ('{{ "abc" | contains("bc") }}', "True"),
        ('{{ "a.conf" | trimSuffix(".conf") }}', "a"),
        ('{{ "ab" | toUpper }}{{ "CD" | toLower }}', "ABcd"),
        ('{{ "hi" | base64Encode }} {{ "aGk=" | base64Decode }}', "aGk= hi"),
        ('{{ (getv("/app/json") | json).tags[0] }} {{ getv("/app/list") | jsonArray | length }}', "a 2"),
        ('{{ "true" | parseBool }} {{ "7" | atoi + 1 }}', "True 8"),
        ('{{ split("ccc,a,bb", ",") | sortByLength | join(",") }}', "a,bb,ccc"),
        ('{% for p in gets("/svc/*") | sortKVByLength %}{{ p.Value }} {% endfor %}', "10.0.0.1:80 10.0.0.2:80 1.2.3.4:5 "),
        # Jinja2's own filters keep their meaning.
        ('{{ "a-b" | replace("-", "+") }} {{ ["x", "y"] | join(",") }} {{ "ab" | reverse }}', "a+b x,y ba"),
    ],
)  # fmt: skip
def test_string_helpers_are_filters(tmp_path: Path, template: str, expected: str) -> None:
    assert render_jinja(tmp_path, template) == expected.encode()


def test_go_values_print_as_go_prints_them(tmp_path: Path) -> None:
    assert render_jinja(tmp_path, "{{ datetime().Format('2006') | length }}") == b"4"
    # A whole float as an integer: JSON's numbers are float64, as in Go.
    template = '{{ json(getv("/app/json")).port }} {{ 1.5 }} {{ 10 / 4 }} {{ 10 / 5 }} {{ 1e300 }} {{ -0.0 }}'
    assert render_jinja(tmp_path, template) == b"8080 1.5 2.5 2 1e+300 0"
    month = render_jinja(tmp_path, "{{ datetime().Month() }}").decode()
    assert month in {"January", "February", "March", "April", "May", "June", "July", "August",
                     "September", "October", "November", "December"}  # fmt: skip


def test_nothing_escaped_bytes_as_written(tmp_path: Path) -> None:
    text = '<b>&{{ "<&>\'\\"" }}</b>\n\n  {{- "x" }}\n'
    assert render_jinja(tmp_path, text) == b"<b>&<&>'\"</b>x\n"


def test_global_and_resource_delimiters_apply_to_variables(tmp_path: Path) -> None:
    text = 'The address is << getv("/svc/a") >>; {{ literal }} {% if true %}block{% endif %}{# c #}\n'
    rendered = render_jinja(tmp_path, text, delims=("<<", ">>"))
    assert rendered == b"The address is 10.0.0.1:80; {{ literal }} block\n"


# -- the failure contract -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ('ok\n{{ getv("/missing") }}', "template: x.j2:2: error calling getv: key does not exist: /missing (resource x.toml, which has no keys)"),
        ('ok\n\n{{ nosuch }}', "template: x.j2:3: 'nosuch' is undefined"),
        ("{{ nosuch() }}", "template: x.j2:1: 'nosuch' is undefined"),
        ('{{ get("/app/name").Nope }}', "template: x.j2:1: 'confpy.store.KVPair object' has no attribute 'Nope'"),
        ('{% for x in [1] %}\n{{ atoi("x") }}{% endfor %}', 'template: x.j2:2: error calling atoi: strconv.Atoi: parsing "x": invalid syntax'),
        ("{{ div(1, 0) }}", "template: x.j2:1: error calling div: runtime error: integer divide by zero"),
        ('{{ "x" | atoi }}', 'template: x.j2:1: error calling atoi: strconv.Atoi: parsing "x": invalid syntax'),
        ("{{ getv() }}", "template: x.j2:1: StoreSlot.getv() missing 1 required positional argument: 'key'"),
        ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "template: x.j2:1: maximum recursion depth exceeded"),
    ],
)  # fmt: skip
def test_errors_name_the_template_line(tmp_path: Path, template: str, message: str) -> None:
    assert jinja_error(tmp_path, template) == message


@pytest.mark.parametrize(
    ("template", "detail"),
    [
        ("ok\n{% if %}", "x.j2:2: Expected an expression, got 'end of statement block'"),
        ("{{ 1 + }}", "x.j2:1: unexpected 'end of print statement'"),
        ("a\nb\n{% for x in y %}", "x.j2:3: Unexpected end of template. Jinja was looking for the following tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'. (the {% for %} at line 3 has no {% endfor %})"),
        ("{% nosuch %}", "x.j2:1: Encountered unknown tag 'nosuch'."),
    ],
)  # fmt: skip
def test_syntax_errors_name_the_file_and_line(tmp_path: Path, template: str, detail: str) -> None:
    assert jinja_error(tmp_path, template) == f"Unable to process template {tmp_path}/templates/x.j2, template: {detail}"


@pytest.mark.parametrize(
    ("template", "where"),
    [("{% if a %}\n{% for x in y %}\n{% endfor %}\nb\n", "(the {% if %} at line 1 has no {% endif %})"),
     ("{% for a in b %}\n{% set x = 1 %}\n{% set y %}\n{% endset %}\n", "(the {% for %} at line 1 has no {% endfor %})"),
     ("{% macro m() %}\n{% if a %}\n{% endmacro %}\n", "(the {% if %} at line 2 has no {% endif %})"),
     ("{% block b %}\n\n{%- with a = 1 %}{% endblock %}\n", "(the {% with %} at line 3 has no {% endwith %})")],
)  # fmt: skip
def test_an_unclosed_block_is_named_where_it_started(tmp_path: Path, template: str, where: str) -> None:
    message = jinja_error(tmp_path, template)
    assert "The innermost block that needs to be closed is" in message  # Jinja2's own words stay
    assert message.endswith(where)


def test_template_that_is_not_utf8(tmp_path: Path) -> None:
    resource = resource_in(tmp_path, "x.j2", {"x.j2": b"ok\nab\xffc"}, engine="jinja2")
    with pytest.raises(RenderError) as caught:
        Renderer().render(resource, STORE)
    assert str(caught.value) == (
        f"Unable to process template {tmp_path}/templates/x.j2, template: x.j2:2:2: "
        "invalid UTF-8 byte 0xff: template text must be UTF-8"
    )


def test_missing_template(tmp_path: Path) -> None:
    resource = resource_in(tmp_path, "nope.j2", {}, engine="jinja2")
    with pytest.raises(RenderError, match=r"^Missing template: .*/templates/nope\.j2$"):
        Renderer().render(resource, STORE)


def test_cached_template_is_reused_and_edits_are_seen(tmp_path: Path) -> None:
    resource = resource_in(tmp_path, "x.j2", {"x.j2": 'one {{ getv("/k") }}'}, engine="jinja2")
    renderer = Renderer()
    assert renderer.render(resource, KVStore({"/k": "1"})) == b"one 1"
    assert renderer.render(resource, KVStore({"/k": "2"})) == b"one 2"
    stamp = resource.src.stat()
    resource.src.write_text('two {{ getv("/k") }}')
    os.utime(resource.src, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000))
    assert renderer.render(resource, KVStore({"/k": "3"})) == b"two 3"


# -- the sandbox ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ getv.__globals__ }}",
        "{{ getv.__self__.store }}",
        "{{ gets('/svc/*')[0].__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ self.__init__.__globals__ }}",
        "{{ datetime().__class__.__init__.__globals__ }}",
        "{{ json.__code__ }}",
        "{{ (1).__class__.__base__.__subclasses__() }}",
        "{{ ''.format.__globals__ }}",
        "{{ '{0.__class__}'.format(1) }}",
        "{% set f = getenv.__func__ %}{{ f }}",
    ],
)
def test_sandbox_keeps_templates_from_python_internals(tmp_path: Path, template: str) -> None:
    message = jinja_error(tmp_path, template)
    assert message.startswith("template: x.j2:1: access to attribute '__")
    assert message.endswith("object is unsafe.")


def test_sandbox_still_allows_what_templates_do(tmp_path: Path) -> None:
    template = (
        "{% set ns = namespace(n=0) %}{% for p in gets('/svc/*') %}{% set ns.n = ns.n + 1 %}{% endfor %}"
        "{{ ns.n }} {{ '%s:%d' % ('a', 1) }} {{ '{}-{}'.format('x', 'y') }} {{ getvs('/svc/*')[1].split(':')[1] }}"
        "{% set l = [] %}{{ l.append(1) or l }}"
    )
    assert render_jinja(tmp_path, template) == b"3 a:1 x-y 80[1]"


# -- the failure contract through the command line (file backend) ----------------------------


def jinja_site(tmp_path: Path, template: str, **fields: str) -> tuple[Path, Path, Path]:
    """A confdir with one Jinja2 resource over a YAML file; returns (confdir, data, dest)."""
    dest = tmp_path / "out" / "app.conf"
    dest.parent.mkdir(parents=True)
    extra = "".join(f'{key} = "{value}"\n' for key, value in fields.items())
    resource = f'[template]\nsrc = "app.conf.j2"\ndest = "{dest}"\nkeys = ["/app"]\n{extra}'
    confdir = make_confdir(tmp_path / "confdir", {"app.toml": resource}, {"app.conf.j2": template})
    data = tmp_path / "data.yaml"
    data.write_text("app:\n  name: web\n  port: 8080\n")
    return confdir, data, dest


def onetime(confdir: Path, data: Path) -> Run:
    return run_confpy("-onetime", "-backend", "file", "-file", str(data), "-confdir", str(confdir), "-log-level", "info")


def test_cli_renders_a_jinja_resource(tmp_path: Path) -> None:
    confdir, data, dest = jinja_site(tmp_path, 'name={{ getv("/app/name") }} port={{ getv("/app/port") }}\n')
    run = onetime(confdir, data)
    assert run.code == 0, run.stderr
    assert dest.read_text() == "name=web port=8080\n"


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ('{{ getv("/app/name") }}\n{{ getv("/app/missing") }}\n', "template: app.conf.j2:2: error calling getv: key does not exist: /app/missing (resource app.toml)"),
        ("{{ getv('/app/name') }}\n{{ nosuch }}\n", "template: app.conf.j2:2: 'nosuch' is undefined"),
        ("{{ getv('/app/name') }}\n{% for %}\n", "Unable to process template {confdir}/templates/app.conf.j2, template: app.conf.j2:2: Expected an expression, got 'end of statement block'"),
    ],
)  # fmt: skip
def test_cli_failure_leaves_the_dest_untouched(tmp_path: Path, template: str, error: str) -> None:
    confdir, data, dest = jinja_site(tmp_path, template)
    dest.write_text("previous\n")
    run = onetime(confdir, data)
    assert run.code == 1
    assert run.one_error() == error.replace("{confdir}", str(confdir))
    assert dest.read_text() == "previous\n"
    assert stage_files(str(dest)) == []


def test_cli_failed_check_removes_the_stage_file(tmp_path: Path) -> None:
    # check_cmd's {{.src}} is its own Go template, whatever the engine and delimiters.
    confdir, data, dest = jinja_site(
        tmp_path, '<< getv("/app/name") >>\n', check_cmd="grep -q nomatch {{.src}}", left_delimiter="<<", right_delimiter=">>"
    )
    dest.write_text("previous\n")
    run = onetime(confdir, data)
    assert run.code == 1
    assert run.errors[-1].startswith("Config check failed: exit status 1 (resource app.toml,")
    assert dest.read_text() == "previous\n"
    assert stage_files(str(dest)) == []
