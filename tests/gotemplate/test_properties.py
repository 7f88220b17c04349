"""Properties of the engine on generated input: it renders, or it raises a TemplateError
that says where (line and column); never another exception, never a RecursionError."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from confpy.gotemplate import Template, TemplateError, TemplateExecError, TemplateSyntaxError

FUNCS = {"upper": str.upper, "join": lambda sep, *parts: sep.join(map(str, parts))}

identifiers = st.sampled_from(["a", "b", "c", "name", "list", "map", "n", "x"])
variables = st.sampled_from(["$", "$x", "$y", "$i", "$v"])
literals = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["true", "false", "nil", "'a'", "'\\n'", "0x1F", "0o17", "1_000", "1e3", "2i", "0x1p-2"]),
    st.text(alphabet="ab \\\"%\n\tü", max_size=6).map(lambda s: '"' + s + '"'),
    st.text(alphabet="ab `%", max_size=6).map(lambda s: "`" + s.replace("`", "") + "`"),
)
fields = st.lists(identifiers, min_size=1, max_size=3).map(lambda parts: "." + ".".join(parts))
functions = st.sampled_from(
    ["print", "printf", "println", "len", "index", "slice", "eq", "ne", "lt", "ge", "and", "or",
     "not", "html", "js", "urlquery", "call", "upper", "join"]
)


def _command(args: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        fields,
        variables,
        literals,
        st.just("."),
        st.tuples(functions, st.lists(args, max_size=3)).map(lambda fa: " ".join([fa[0], *fa[1]])),
    )


operands = st.recursive(
    st.one_of(fields, variables, literals, st.just(".")),
    lambda inner: _command(inner).map(lambda c: f"({c})"),
    max_leaves=6,
)
pipelines = st.lists(_command(operands), min_size=1, max_size=3).map(" | ".join)
declarations = st.one_of(
    pipelines,
    pipelines.map(lambda p: "$x := " + p),
    pipelines.map(lambda p: "$y = " + p),
)


def _actions(body: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    trim_l = st.sampled_from(["{{", "{{- "])
    trim_r = st.sampled_from(["}}", " -}}"])
    simple = st.tuples(trim_l, declarations, trim_r).map("".join)
    return st.one_of(
        simple,
        st.tuples(st.sampled_from(["if", "with"]), pipelines, body, st.one_of(st.just(""), body)).map(
            lambda t: f"{{{{{t[0]} {t[1]}}}}}{t[2]}" + (f"{{{{else}}}}{t[3]}" if t[3] else "") + "{{end}}"
        ),
        st.tuples(st.sampled_from(["", "$v := ", "$i, $v := "]), pipelines, body).map(
            lambda t: f"{{{{range {t[0]}{t[1]}}}}}{t[2]}{{{{break}}}}{{{{continue}}}}{{{{end}}}}"
        ),
        st.tuples(body).map(lambda t: f'{{{{define "d"}}}}{t[0]}{{{{end}}}}{{{{template "d" .}}}}'),
        st.tuples(pipelines, body).map(lambda t: f'{{{{block "b" {t[0]}}}}}{t[1]}{{{{end}}}}'),
        st.just("{{/* comment */}}"),
        st.just('{{template "nope"}}'),
    )


texts = st.text(alphabet="ab {}\n\t-ü", max_size=8)
templates = st.recursive(texts, lambda inner: st.lists(st.one_of(texts, _actions(inner)), max_size=4).map("".join), max_leaves=12)

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(-10, 10), st.text(max_size=4)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(identifiers, inner, max_size=3)),
    max_leaves=10,
)


def _render(text: str | bytes, data: Any) -> None:
    try:
        template = Template("prop", funcs=FUNCS).parse(text)
        result = template.execute(data)
    except TemplateError as exc:
        assert exc.line >= 1, f"{type(exc).__name__} without a line: {exc}"
        assert exc.column >= 0
        assert str(exc).startswith("template: ")
    else:
        assert isinstance(result, str)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(templates, json_values)
def test_generated_templates_render_or_raise_template_error(text: str, data: Any) -> None:
    _render(text, data)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=64), json_values)
def test_random_bytes_render_or_raise_template_error(raw: bytes, data: Any) -> None:
    _render(raw, data)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="{}()|$.:= \"'`-/*abif0123\n", max_size=40), json_values)
def test_action_soup_renders_or_raises_template_error(text: str, data: Any) -> None:
    _render(text, data)


@pytest.mark.parametrize(
    "text",
    [
        "{{if 1}}" * 5000 + "x" + "{{end}}" * 5000,
        "{{" + "(" * 5000 + "1" + ")" * 5000 + "}}",
        "{{range .}}" * 200 + "{{end}}" * 200,
        "{{with .}}" * 80 + "x" + "{{end}}" * 80,
    ],
    ids=["deep-if", "deep-parens", "deep-range", "with-80"],
)
def test_deep_nesting_is_a_clear_error_or_renders(text: str) -> None:
    try:
        Template("deep").parse(text).execute([1])
    except TemplateSyntaxError as exc:
        assert "nested more than" in str(exc)
        assert exc.line >= 1


def test_infinite_template_recursion_is_go_s_depth_error() -> None:
    # Expected text recorded from Go 1.19 with gotmpl-oracle.
    template = Template("main").parse('{{define "r"}}x{{template "r" .}}{{end}}{{template "r" .}}')
    with pytest.raises(TemplateExecError) as caught:
        template.execute(None)
    assert str(caught.value) == (
        'template: main:1:26: executing "r" at <{{template "r" .}}>: '
        "exceeded maximum template depth (100000)"
    )
