"""The extended functions (opt-in): each checked against Go's standard library where it
is a thin layer over it (regexp, encoding/json, strings, net, crypto/sha256: cases
recorded by tests/extended_oracle/record.py), and against sprig's own tests and
documented examples where it is sprig's (default, ternary, indent, dict, list, ...), in
both engines; off unless asked for."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from render_helpers import resource_in

from confpy.errors import RenderError
from confpy.extfuncs import extended_funcs
from confpy.funcs import FuncError, GoPanic, json_value
from confpy.gojson import MarshalError, marshal
from confpy.golang.regexp import GoRegexpError, UnsupportedRegexp, compile_go
from confpy.golang.time import GoTime
from confpy.render import Renderer
from confpy.store import KVPair, KVStore

RECORDED = json.loads((Path(__file__).resolve().parent / "extended_oracle" / "recorded.json").read_text(encoding="utf-8"))
F = extended_funcs()


def by_fn(fn: str) -> list[dict[str, Any]]:
    return [case for case in RECORDED if case["fn"] == fn]


def case_id(case: dict[str, Any]) -> str:
    return case["name"]


# -- against Go's standard library ---------------------------------------------------------


@pytest.mark.parametrize("case", by_fn("regexMatch"), ids=case_id)
def test_regex_match_as_go(case: dict[str, Any]) -> None:
    pattern, text = case["args"]
    if case["error"] is not None:
        with pytest.raises(GoRegexpError) as caught:
            compile_go(pattern)
        assert str(caught.value) == case["error"]
        assert F["regexMatch"](pattern, text) is False  # sprig drops the error
    else:
        assert str(F["regexMatch"](pattern, text)).lower() == case["output"]


@pytest.mark.parametrize("case", by_fn("regexReplaceAll"), ids=case_id)
def test_regex_replace_all_as_go(case: dict[str, Any]) -> None:
    if case["error"] is not None:
        with pytest.raises(GoPanic) as caught:
            F["regexReplaceAll"](*case["args"])
        assert str(caught.value) == case["error"]
    else:
        assert F["regexReplaceAll"](*case["args"]) == case["output"]


@pytest.mark.parametrize("case", by_fn("toJson"), ids=case_id)
def test_to_json_as_go(case: dict[str, Any]) -> None:
    assert case["error"] is None
    assert F["toJson"](json_value(case["args"][0])) == case["output"]


@pytest.mark.parametrize("case", by_fn("fromJson"), ids=case_id)
def test_from_json_as_go(case: dict[str, Any]) -> None:
    value = F["fromJson"](case["args"][0])
    if case["error"] is not None:
        assert value is None  # sprig drops the error: nil
        with pytest.raises(FuncError) as caught:
            json_value(case["args"][0])
        assert str(caught.value) == case["error"]
    else:
        assert marshal(value) == case["output"]


@pytest.mark.parametrize("fn", ["trimSpace", "trimPrefix", "sha256sum"])
def test_string_functions_as_go(fn: str) -> None:
    cases = by_fn(fn)
    assert cases
    for case in cases:
        assert F[fn](*case["args"]) == case["output"], case


@pytest.mark.parametrize("case", by_fn("splitHostPort"), ids=case_id)
def test_split_host_port_as_go(case: dict[str, Any]) -> None:
    if case["error"] is not None:
        with pytest.raises(FuncError) as caught:
            F["splitHostPort"](*case["args"])
        assert str(caught.value) == case["error"]
    else:
        result = F["splitHostPort"](*case["args"])
        assert f"{result.Host}|{result.Port}" == case["output"]


def test_recorded_cases_cover_every_go_backed_function() -> None:
    fns = {case["fn"] for case in RECORDED}
    assert fns == {"regexMatch", "regexReplaceAll", "toJson", "fromJson", "trimSpace", "trimPrefix", "sha256sum", "splitHostPort"}
    assert sum(case["error"] is not None for case in by_fn("regexMatch")) >= 30


@pytest.mark.parametrize(
    "pattern",
    [r"\pL", r"\p{Greek}", r"[\PL]", r"(?U)a+", r"[\D\s]", r"[[:^alpha:]x]", "(" * 300 + "a" + ")" * 300],
)
def test_patterns_python_cannot_match_as_go_are_refused(pattern: str) -> None:
    with pytest.raises(UnsupportedRegexp):
        compile_go(pattern)
    with pytest.raises(UnsupportedRegexp):
        F["regexMatch"](pattern, "a")  # an error, not a silent false


def test_to_json_of_template_values() -> None:
    assert marshal(KVPair("/a", "1")) == '{"Key":"/a","Value":"1"}'
    assert marshal([KVPair("/a", "<")]) == '[{"Key":"/a","Value":"\\u003c"}]'
    assert marshal(GoTime.date(2024, 2, 29, 13, 4, 5, 120)) == '"2024-02-29T13:04:05.00000012Z"'
    assert marshal({"b": 1, "a": [1, 2.5, None]}) == '{"a":[1,2.5,null],"b":1}'
    assert marshal("\udcff") == '"\ufffd"'  # a byte that is not UTF-8
    assert F["toJson"](float("nan")) == ""  # sprig drops json.Marshal's error
    with pytest.raises(MarshalError, match="unsupported value: NaN"):
        marshal(float("nan"))
    with pytest.raises(MarshalError, match="unsupported type"):
        marshal({1: 2})


def test_hostname_is_the_kernel_host_name() -> None:
    assert F["hostname"]() == socket.gethostname()


# -- sprig's own tests and documented examples, in both engines --------------------------------

SPRIG_GO = [
    ('{{"" | default "foo"}}', "foo"),
    ('{{default "foo" 234}}', "234"),
    ('{{default "foo" 2.34}}', "2.34"),
    ('{{ .Nothing | default "123" }}', "123"),
    ('{{ default "123" }}', "123"),
    ('{{default "d" 0}}|{{default "d" false}}|{{default "d" (list)}}|{{default "d" (dict)}}|{{default "d" true}}', "d|d|d|d|true"),
    ('{{default "d" (get "/k")}}', "{/k v}"),  # a struct is never empty
    ('{{ternary "foo" "bar" true}}|{{true | ternary "foo" "bar"}}|{{ternary "foo" "bar" false}}|{{false | ternary "foo" "bar"}}', "foo|foo|bar|bar"),
    ('{{indent 4 "a\\nb\\nc"}}', "    a\n    b\n    c"),
    ('{{nindent 4 "a\\nb\\nc"}}', "\n    a\n    b\n    c"),
    ('{{trimPrefix "-" "-hello"}}|{{"-hello" | trimPrefix "-"}}', "hello|hello"),
    ('{{trimSpace "   hello    "}}', "hello"),
    ('{{$t := dict "I" "shot" "the" "albatross"}}{{$t.the}} {{$t.I}}', "albatross shot"),
    # sprig's test accepts any order; Go ranges over a map in key order, "5" has "".
    ('{{$d := dict 1 2 "three" "four" 5}}{{range $k, $v := $d}}{{$k}}{{$v}}{{end}}', "125threefour"),
    ('{{- $d := dict "one" 1 "two" 222222 -}}{{- if hasKey $d "one" -}}1{{- end -}}{{- if hasKey $d "x" -}}2{{- end -}}', "1"),
    ("{{list 1 2 3 4 5}}|{{len (list)}}|{{index (list \"a\" 1) 0}}", "[1 2 3 4 5]|0|a"),
    ('{{regexMatch "^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\\\.[A-Za-z]{2,}$" "test@acme.com"}}', "true"),
    ('{{regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W"}}', "-W-xxW-"),
    ('{{(fromJson "{\\"foo\\": 55}").foo}}|{{fromJson "{\\"foo\\": 55}"}}', "55|map[foo:55]"),
    ('{{toJson (dict "bool" true "string" "test" "number" 42)}}', '{"bool":true,"number":42,"string":"test"}'),
    ('{{sha256sum "Hello world!"}}', "c0535e4be2b79ffd93291305436bf889314e4a3faec05ecffcbb7df31ad9e51a"),
    ('{{with splitHostPort "10.0.0.1:80"}}{{.Host}} {{.Port}}{{end}}|{{splitHostPort "[::1]:53"}}', "10.0.0.1 80|{::1 53}"),
    ('{{range gets "/svc/*"}}{{$hp := splitHostPort .Value}}server {{$hp.Host}} port {{$hp.Port}};{{end}}', "server 10.0.0.1 port 80;server 10.0.0.2 port 81;"),
    ('{{fromJson "bad"}}', "<no value>"),
]  # fmt: skip

SPRIG_JINJA = [
    ('{{ default("foo", "") }}|{{ default("foo", 234) }}|{{ default("123") }}', "foo|234|123"),
    ('{{ default("d", 0) }}|{{ default("d", false) }}|{{ default("d", []) }}|{{ default("d", {}) }}|{{ default("d", get("/k")).Value }}', "d|d|d|d|v"),
    ('{{ ternary("foo", "bar", true) }}|{{ true | ternary("foo", "bar") }}|{{ false | ternary("foo", "bar") }}', "foo|foo|bar"),
    ('{{ indent(4, "a\\nb") }}|{{ nindent(2, "a") }}|{{ "a\\nb" | nindent(2) }}', "    a\n    b|\n  a|\n  a\n  b"),
    ('{{ trimPrefix("-", "-hello") }}|{{ "-hello" | trimPrefix("-") }}|{{ "  x " | trimSpace }}', "hello|hello|x"),
    ('{% set t = dict("I", "shot", "the", "albatross") %}{{ t.the }} {{ t.I }} {{ dict(a=1).a }} {{ dict("k") }}', "albatross shot 1 {'k': ''}"),
    ('{{ hasKey(dict("one", 1), "one") }}{{ dict("one", 1) | hasKey("two") }}', "TrueFalse"),
    ('{{ list(1, "a") }}', "[1, 'a']"),
    ('{{ regexMatch("^10\\\\.", "10.0.0.1") }} {{ "10.0.0.1" | regexMatch("^10\\\\.") }}', "True True"),
    ('{{ regexReplaceAll("a(x*)b", "-ab-axxb-", "${1}W") }} {{ "-ab-" | regexReplaceAll("a(x*)b", "W") }}', "-W-xxW- -W-"),
    ('{{ fromJson("{\\"foo\\": 55}").foo }} {{ "[1]" | fromJson | toJson }} {{ toJson(dict("a", "<")) }}', '55 [1] {"a":"\\u003c"}'),
    ('{{ sha256sum("Hello world!") }}', "c0535e4be2b79ffd93291305436bf889314e4a3faec05ecffcbb7df31ad9e51a"),
    ('{% for s in gets("/svc/*") %}{% set hp = s.Value | splitHostPort %}server {{ hp.Host }} port {{ hp.Port }};{% endfor %}', "server 10.0.0.1 port 80;server 10.0.0.2 port 81;"),
    ('{{ hostname() == "" }}', "False"),
]  # fmt: skip

STORE = KVStore({"/k": "v", "/svc/a": "10.0.0.1:80", "/svc/b": "10.0.0.2:81"})


def render(tmp_path: Path, template: str, *, engine: str, extended: bool = True) -> bytes:
    name = "x.j2" if engine == "jinja2" else "x.tmpl"
    resource = resource_in(tmp_path, name, {name: template}, engine=engine, extended_funcs=extended)
    return Renderer().render(resource, STORE)


@pytest.mark.parametrize(("template", "expected"), SPRIG_GO)
def test_sprig_examples_in_go_templates(tmp_path: Path, template: str, expected: str) -> None:
    assert render(tmp_path, template, engine="go").decode() == expected


@pytest.mark.parametrize(("template", "expected"), SPRIG_JINJA)
def test_sprig_examples_in_jinja_templates(tmp_path: Path, template: str, expected: str) -> None:
    assert render(tmp_path, template, engine="jinja2").decode() == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ('{{splitHostPort "host"}}', 'template: x.tmpl:1:2: executing "x.tmpl" at <splitHostPort "host">: error calling splitHostPort: address host: missing port in address'),
        ('{{regexReplaceAll "(" "a" "b"}}', 'template: x.tmpl:1:2: executing "x.tmpl" at <regexReplaceAll "(" "a" "b">: error calling regexReplaceAll: regexp: Compile(`(`): error parsing regexp: missing closing ): `(`'),
        ('{{indent -1 "a"}}', 'template: x.tmpl:1:2: executing "x.tmpl" at <indent -1 "a">: error calling indent: strings: negative Repeat count'),
        ('{{ternary 1 2 "yes"}}', 'template: x.tmpl:1:14: executing "x.tmpl" at <"yes">: expected bool; found "yes"'),
        ('{{hasKey (list) "a"}}', 'template: x.tmpl:1:10: executing "x.tmpl" at <list>: wrong type for value; expected map[string]interface {}; got []interface {}'),
    ],
)  # fmt: skip
def test_errors_read_as_go(tmp_path: Path, template: str, message: str) -> None:
    with pytest.raises(RenderError) as caught:
        render(tmp_path, template, engine="go")
    assert str(caught.value) == message


def test_off_unless_asked_for(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match='function "default" not defined'):
        render(tmp_path / "go", '{{default "x" ""}}', engine="go", extended=False)
    with pytest.raises(RenderError, match="'toJson' is undefined"):
        render(tmp_path / "j2", "{{ toJson(1) }}", engine="jinja2", extended=False)
    # Jinja2's own default filter is there either way.
    assert render(tmp_path / "j2b", '{{ "" | default("x", true) }}', engine="jinja2", extended=False) == b"x"


def test_extended_and_plain_resources_side_by_side(tmp_path: Path) -> None:
    renderer = Renderer()
    plain = resource_in(tmp_path, "p.tmpl", {"p.tmpl": '{{getv "/k"}}', "e.tmpl": '{{getv "/k" | toJson}}'})
    extended = resource_in(tmp_path, "e.tmpl", {}, extended_funcs=True)
    assert renderer.render(extended, STORE) == b'"v"'
    assert renderer.render(plain, STORE) == b"v"
    with pytest.raises(RenderError, match='function "toJson" not defined'):
        renderer.render(resource_in(tmp_path, "e.tmpl", {}), STORE)
