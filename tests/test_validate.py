"""``-validate``: every problem of confd.toml, conf.d and the templates, one line each
(``file:line:col: error|warning: message``) on stdout, a summary on stderr, exit 1 on
any error; nothing fetched, written or run."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from cli_helpers import Run, make_confdir, run_confpy

pytestmark = pytest.mark.timeout(30)


def validate(root: Path, *args: str, cwd: Path | None = None) -> Run:
    return run_confpy("-validate", "-confdir", str(root), *args, cwd=cwd)


def resource(src: str, dest: str = "/nonexistent/out.conf", extra: str = "", keys: str = '["/app"]') -> str:
    return f'[template]\nsrc = "{src}"\ndest = "{dest}"\nkeys = {keys}\n{extra}'


def findings(run: Run) -> list[str]:
    return run.stdout.splitlines()


# -- the whole picture ------------------------------------------------------------------------


def planted(tmp_path: Path) -> Path:
    """A confdir with a planted problem of every kind, and a confd.toml with two."""
    touched = tmp_path / "touched"
    root = make_confdir(
        tmp_path / "site",
        {
            "app.toml": resource(
                "app.tmpl", str(tmp_path / "app.conf"),
                f'reload_comand = "touch {touched}"\nmode = "06 44"\ncheck_cmd = "touch {touched} {{{{.src"\n',
            ),
            "bad.toml": '[template]\nsrc = "x.tmpl"\ndest = \n',
            "typo.toml": '[templat]\nsrc = "x.tmpl"\n',
            "web.toml": resource("web.j2", str(tmp_path / "web.conf"), "uid = -5\n", keys='["/web"]'),
            "broken.toml": resource("broken.tmpl"),
        },
        {
            "app.tmpl": 'a\n{{getv "/app/name"}}\n{{getv "/db/host"}}\n{{include "partials/up.tmpl" .}}\n'
                        '{{template "nope"}}{{include "../x"}}\n',
            "partials/up.tmpl": '{{range gets "/svc/*"}}{{.Key}}{{end}}{{include "partials/up.tmpl"}}',
            "web.j2": '{{ getv("/web/x") }}\n{{ nosuch }}\n{% include "missing.j2" %}\n',
            "broken.tmpl": "x\n{{if .}}\ny\n",
        },
    )  # fmt: skip
    (tmp_path / "confd.toml").write_text('backend = "etcd"\nnodez = ["127.0.0.1:2379"]\ninterval = "60"\n')
    return root


def test_every_planted_problem_is_reported_with_file_line_and_column(tmp_path: Path) -> None:
    planted(tmp_path)
    with socket.socket() as server:  # a store that would see any connection
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.setblocking(False)
        node = f"127.0.0.1:{server.getsockname()[1]}"
        run = validate(Path("site"), "-config-file", "confd.toml", "-node", node, cwd=tmp_path)
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody called
    assert run.code == 1, run.stderr
    assert findings(run) == [
        'confd.toml:2:1: error: unknown key "nodez" (did you mean "nodes"?)',
        "confd.toml:3:1: error: key 'interval' must be an integer",
        'site/conf.d/app.toml:5:1: error: unknown field "reload_comand" in [template] (did you mean "reload_cmd"?)',
        'site/conf.d/app.toml:6:1: error: mode "06 44" is not a file mode: use an octal string such as "0644"',
        "site/conf.d/app.toml:7:1: error: check_cmd: template: checkcmd:1: unclosed action",
        "site/conf.d/bad.toml:3:8: error: Invalid value",
        'site/conf.d/typo.toml:1:2: error: unknown table [templat]: confd reads only [template] (did you mean "template"?)',
        "site/conf.d/typo.toml: error: empty src template",
        "site/conf.d/web.toml:5:1: error: uid -5 is out of range: use 0 to 4294967294, or -1 for the default",
        'site/templates/app.tmpl:3:8: warning: getv "/db/host": no key of resource app.toml covers it (its keys: /app), so the template never sees it',
        'site/templates/app.tmpl:5:12: warning: {{template "nope"}}: no template of that name is defined in this file',
        "site/templates/app.tmpl:5:30: error: include \"../x\": '..' leads out of the templates directory site/templates",
        'site/templates/partials/up.tmpl:1:14: warning: gets "/svc/*": no key of resource app.toml covers it (its keys: /app), so the template never sees it',
        "site/templates/partials/up.tmpl:1:49: error: include cycle: app.tmpl -> partials/up.tmpl -> partials/up.tmpl",
        "site/templates/broken.tmpl:4:1: error: unexpected EOF (the {{if}} at line 2, column 1 has no {{end}})",
        "site/templates/web.j2:2:1: warning: 'nosuch' is not defined: rendering fails where it is used",
        'site/templates/web.j2:3:1: error: include "missing.j2": no such template in site/templates',
    ]
    # The summary on stderr, in confd's log format; nothing written, nothing run.
    assert run.messages("FATAL") == ["Validation failed: 13 errors and 4 warnings (5 resources and 4 templates in site)"]
    assert [entry.level for entry in run.logs] == ["FATAL"]
    assert not (tmp_path / "touched").exists()
    assert not (tmp_path / "app.conf").exists() and not (tmp_path / "web.conf").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["confd.toml", "site"]


def test_a_clean_tree_passes_quietly(tmp_path: Path) -> None:
    root = make_confdir(
        tmp_path / "site",
        {"app.toml": resource("app.tmpl", extra='check_cmd = "app -t {{.src}}"\n', keys='["/app", "/svc"]'),
         "web.toml": resource("web.j2", keys='["/web"]', extra='engine = "jinja2"\n'),
         "sub/delims.toml": resource("d.tmpl", extra='left_delimiter = "<<"\nright_delimiter = ">>"\n')},
        {"app.tmpl": '{{getv "/app/name"}}{{range gets "/svc/*"}}{{.Key}}{{end}}{{"/app/x" | getv}}'
                     '{{include "p.tmpl" .}}{{define "t"}}x{{end}}{{template "t"}}{{ls "/app"}}\n',
         "p.tmpl": '{{getv "/app/port" "80"}}',
         "web.j2": '{% set x = getv("/web/a") %}{{ x }}{% for s in gets("/web/*") %}{{ s.Key }}{% endfor %}'
                   '{% include "inc.j2" %}\n',
         "inc.j2": "{{ x }}",  # the includer's variable: fine
         "d.tmpl": '{{ literal }} <<getv "/app/name">>\n'},
    )  # fmt: skip
    run = validate(root, "-node", "10.255.255.1:1")  # a dead node does not matter
    assert run.code == 0, run.stdout + run.stderr
    assert run.stdout == ""
    assert run.messages("INFO") == [f"Validated 3 resources and 5 templates in {root}: no problems"]


def test_warnings_alone_do_not_fail(tmp_path: Path) -> None:
    root = make_confdir(tmp_path / "site", {"a.toml": resource("a.tmpl")}, {"a.tmpl": '{{getv "/other"}}'})
    run = validate(root)
    assert run.code == 0
    assert findings(run) == [
        f'{root}/templates/a.tmpl:1:8: warning: getv "/other": no key of resource a.toml covers it '
        "(its keys: /app), so the template never sees it"
    ]
    assert run.messages("WARNING") == [f"Validated 1 resource and 1 template in {root}: 1 warning"]


# -- settings and the command line -------------------------------------------------------------


def test_flags_are_named_as_the_place_of_their_problem(tmp_path: Path) -> None:
    root = make_confdir(tmp_path / "site", {"a.toml": resource("a.tmpl")}, {"a.tmpl": "x"})
    run = validate(root, "-log-level", "trace", "-backend", "nosuch", "-left-delimiter", "<<", "-right-delimiter", "<<")
    assert run.code == 1
    assert findings(run) == [
        "-backend: error: Invalid backend 'nosuch': valid backends are consul, env, etcd, etcdv3, file, redis, zookeeper",
        "-left-delimiter: error: -left-delimiter and -right-delimiter are both '<<': the left and right delimiters must differ",
        '-log-level: error: not a valid level: "trace"',
    ]


def test_confd_toml_syntax_error(tmp_path: Path) -> None:
    root = make_confdir(tmp_path / "site", {"a.toml": resource("a.tmpl", keys='["/"]')}, {"a.tmpl": "x"})
    config = tmp_path / "confd.toml"
    config.write_text('backend = "env"\nprefix = /x\n')
    run = validate(root, "-config-file", str(config))
    assert findings(run) == [f"{config}:2:10: error: Invalid value"]


def test_missing_confdir_and_empty_conf_d(tmp_path: Path) -> None:
    run = validate(tmp_path / "nope")
    assert (run.code, findings(run)) == (1, [f"{tmp_path}/nope: error: confdir does not exist"])
    (tmp_path / "site" / "conf.d").mkdir(parents=True)
    run = validate(tmp_path / "site")
    assert findings(run) == [f"{tmp_path}/site/conf.d: error: no resource (*.toml) found: nothing would be rendered"]
    run = validate(tmp_path)
    assert findings(run) == [f"{tmp_path}/conf.d: error: no such directory: the resources (*.toml) go there"]


# -- conf.d ----------------------------------------------------------------------------------


def test_every_problem_of_one_resource(tmp_path: Path) -> None:
    root = make_confdir(
        tmp_path / "site",
        {"a.toml": '[template]\nsrc = "a.tmpl"\nkeys = 1\nmode = 644\nowner = "no-such-user-x"\nsrc2 = "b"\n'},
        {"a.tmpl": "x"},
    )
    run = validate(root)
    # Both wrong types (a normal run stops at the first), and the unknown field.
    assert findings(run) == [
        f"{root}/conf.d/a.toml:3:1: error: field keys must be an array of strings, not an integer",
        f'{root}/conf.d/a.toml:4:1: error: field mode must be a string, not an integer (write it as a string, e.g. mode = "0644")',
        f'{root}/conf.d/a.toml:6:1: error: unknown field "src2" in [template] (did you mean "src"?)',
    ]


def test_resource_problems_each_on_its_line(tmp_path: Path) -> None:
    root = make_confdir(
        tmp_path / "site",
        {"a.toml": '[template]\nsrc = "a.tmpl"\nmode = "abc"\nowner = "no-such-user-x"\nengine = "mustache"\n'},
        {"a.tmpl": "x"},
    )
    run = validate(root)
    assert findings(run) == [
        f"{root}/conf.d/a.toml:1:2: error: field dest is missing or empty: set the file to write",
        f'{root}/conf.d/a.toml:3:1: error: mode "abc" is not a file mode: use an octal string such as "0644"',
        f"{root}/conf.d/a.toml:4:1: error: owner 'no-such-user-x': no such user",
        f"{root}/conf.d/a.toml:5:1: error: engine 'mustache' is unknown: use \"go\" or \"jinja2\"",
    ]


def test_missing_template_is_named_at_the_src_line(tmp_path: Path) -> None:
    root = make_confdir(tmp_path / "site", {"a.toml": "# x\n" + resource("nope.tmpl")})
    run = validate(root)
    assert findings(run) == [f"{root}/conf.d/a.toml:3:1: error: template {root}/templates/nope.tmpl does not exist"]


# -- templates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "finding"),
    [("a.tmpl", "ok\n  é {{if}}\n", "2:9: error: missing value for if"),
     ("a.tmpl", '{{define "x"}}\n{{range .}}\n', "3:1: error: unexpected EOF (the {{range}} at line 2, column 1 has no {{end}})"),
     ("a.tmpl", "{{nosuch 1}}", '1:3: error: function "nosuch" not defined'),
     ("a.tmpl", b"ok\nab\xffc", "2:3: error: invalid UTF-8 byte 0xff: template text must be UTF-8"),
     ("a.j2", "x\n{% for a in b %}\n", "2:1: error: Unexpected end of template. Jinja was looking for the following tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'. (the {% for %} at line 2 has no {% endfor %})"),
     ("a.j2", "{{ 1 + }}", "1:1: error: unexpected 'end of print statement'")],
)  # fmt: skip
def test_template_syntax_errors(tmp_path: Path, name: str, text: str | bytes, finding: str) -> None:
    root = make_confdir(tmp_path / "site", {"a.toml": resource(name)}, {name: text})
    run = validate(root)
    assert run.code == 1
    assert findings(run) == [f"{root}/templates/{name}:{finding}"]


def test_a_template_shared_by_resources_is_reported_once(tmp_path: Path) -> None:
    root = make_confdir(
        tmp_path / "site", {"a.toml": resource("t.tmpl"), "b.toml": resource("t.tmpl")}, {"t.tmpl": "{{if}}"}
    )
    assert findings(validate(root)) == [f"{root}/templates/t.tmpl:1:5: error: missing value for if"]


def test_each_resource_compiles_with_its_own_delimiters_and_functions(tmp_path: Path) -> None:
    root = make_confdir(
        tmp_path / "site",
        {"go.toml": resource("t.tmpl"), "angle.toml": resource("t.tmpl", extra='left_delimiter = "<<"\nright_delimiter = ">>"\n'),
         "ext.toml": resource("e.tmpl")},
        {"t.tmpl": "<<if>>{{ok}}", "e.tmpl": '{{toJson "x"}}'},
    )  # fmt: skip
    run = validate(root)
    # t.tmpl twice (an error for each pair of delimiters), e.tmpl without the extended set.
    assert findings(run) == [
        f"{root}/templates/t.tmpl:1:5: error: missing value for if",
        f'{root}/templates/t.tmpl:1:9: error: function "ok" not defined',
        f'{root}/templates/e.tmpl:1:3: error: function "toJson" not defined',
    ]
    run = validate(root, "-extended-funcs")
    assert findings(run) == findings(validate(root))[:2]


def test_jinja2_includes_imports_and_extends_are_followed(tmp_path: Path) -> None:
    root = make_confdir(
        tmp_path / "site",
        {"a.toml": resource("a.j2")},
        {"a.j2": '{% extends "base.j2" %}{% import "m.j2" as m %}{% from "m.j2" import f %}'
                 '{% include ["nope.j2", "inc.j2"] %}{% include "gone.j2" ignore missing %}{% include name %}',
         "base.j2": "{% block b %}{% endblock %}{{ getv('/other') }}",
         "m.j2": "{% macro f() %}{{ 1 + }}{% endmacro %}",
         "inc.j2": "{% include 'a.j2' %}"},
    )  # fmt: skip
    run = validate(root)
    assert findings(run) == [
        f"{root}/templates/a.j2:1:1: warning: 'name' is not defined: rendering fails where it is used",
        f'{root}/templates/base.j2:1:1: warning: getv "/other": no key of resource a.toml covers it (its keys: /app), so the template never sees it',
        f"{root}/templates/m.j2:1:1: error: unexpected 'end of print statement'",
        f"{root}/templates/inc.j2:1:1: error: include cycle: a.j2 -> inc.j2 -> a.j2",
    ]


# -- the keys a template reads -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "template", "uncovered"),
    [('["/app"]', '{{getv "/app/x"}}{{getv "/app"}}{{exists "/app/y/z"}}{{get "/app/q"}}', []),
     ('["/app"]', '{{getv "/ap"}}{{exists "/b"}}{{get "/"}}', ['getv "/ap"', 'exists "/b"', 'get "/"']),
     ('["/app/db"]', '{{gets "/app/*"}}{{getvs "/app/d?"}}{{ls "/app"}}{{lsdir "/"}}', []),
     ('["/app/db"]', '{{gets "/web/*"}}{{ls "/web"}}', ['gets "/web/*"', 'ls "/web"']),
     ('["/"]', '{{getv "/anything"}}{{gets "/x/*"}}', []),
     ("[]", '{{getv "/a"}}', ['getv "/a"']),
     ('["/app"]', '{{"/web" | getv}}{{$k := "/web"}}{{getv $k}}{{getv (print "/we" "b")}}', ['getv "/web"'])],
)  # fmt: skip
def test_constant_keys_outside_the_resource_keys_are_warned_about(
    tmp_path: Path, keys: str, template: str, uncovered: list[str]
) -> None:
    root = make_confdir(tmp_path / "site", {"a.toml": resource("a.tmpl", keys=keys)}, {"a.tmpl": template})
    run = validate(root)
    assert run.code == 0
    warned = [line.split(": warning: ")[1].split(": no key")[0] for line in findings(run)]
    assert warned == uncovered


def test_keys_are_relative_to_the_prefix(tmp_path: Path) -> None:
    # The template sees keys without the prefix, however the prefix is given.
    root = make_confdir(
        tmp_path / "site",
        {"a.toml": resource("a.tmpl", extra='prefix = "/prod"\n'), "b.toml": resource("a.tmpl")},
        {"a.tmpl": '{{getv "/app/x"}}{{getv "/prod/app/x"}}'},
    )
    run = validate(root, "-prefix", "/staging")
    assert [line.split(": warning: ")[1].split(":")[0] for line in findings(run)] == ['getv "/prod/app/x"'] * 2
