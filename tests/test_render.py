"""Rendering a resource's template over its store view, with confd's errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from confpy.errors import RenderError
from confpy.render import Renderer
from confpy.resources import TemplateResource
from confpy.store import KVStore


def resource_for(tmp_path: Path, template: str | bytes, name: str = "x.tmpl") -> TemplateResource:
    src = tmp_path / "templates" / name
    src.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(template, bytes):
        src.write_bytes(template)
    else:
        src.write_text(template)
    return TemplateResource(path=tmp_path / "x.toml", src=src, dest=str(tmp_path / "out"), prefix="/", keys=())


def render_error(tmp_path: Path, template: str | bytes) -> str:
    resource = resource_for(tmp_path, template)
    with pytest.raises(RenderError) as caught:
        Renderer().render(resource, KVStore())
    return str(caught.value)


def test_renders_store_values_byte_exact(tmp_path: Path) -> None:
    resource = resource_for(
        tmp_path,
        '{{range gets "/svc/*"}}{{base .Key}}={{.Value}}\n{{end}}'
        '{{getv "/name"}} <b>&{{if exists "/nope"}}x{{end}}',
    )
    store = KVStore({"/svc/b": "2", "/svc/a": "1", "/name": "n"})
    assert Renderer().render(resource, store) == b"a=1\nb=2\nn <b>&"


def test_nil_data_renders_no_value(tmp_path: Path) -> None:
    assert Renderer().render(resource_for(tmp_path, "[{{.}}]"), KVStore()) == b"[<no value>]"


def test_missing_template(tmp_path: Path) -> None:
    resource = TemplateResource(
        path=tmp_path / "x.toml", src=tmp_path / "templates" / "nope.tmpl", dest="/d", prefix="/", keys=()
    )
    with pytest.raises(RenderError) as caught:
        Renderer().render(resource, KVStore())
    assert str(caught.value) == f"Missing template: {tmp_path}/templates/nope.tmpl"


def test_syntax_error_names_template_line_and_column(tmp_path: Path) -> None:
    message = render_error(tmp_path, "line one\n  {{if}}\n{{end}}\n")
    assert message == (
        f"Unable to process template {tmp_path}/templates/x.tmpl, "
        "template: x.tmpl:2: missing value for if (line 2, column 7)"
    )


def test_the_column_counts_characters_from_1_as_editors_do(tmp_path: Path) -> None:
    # Go's own position (x.tmpl:1) stays as Go prints it; the column after it is 1-based,
    # in characters: "é" is two bytes but one column, so the "}}" Go finds at byte 7 is
    # in column 7.
    message = render_error(tmp_path, "é {{if}}\n")
    assert message.endswith("template: x.tmpl:1: missing value for if (line 1, column 7)")


@pytest.mark.parametrize(
    ("text", "where"),
    [("a\n{{if .x}}\nb\n", "(line 4, column 1; the {{if}} at line 2, column 1 has no {{end}})"),
     ("{{range .}}{{if .}}x{{end}}\n\n", "(line 3, column 1; the {{range}} at line 1, column 1 has no {{end}})"),
     ('{{define "x"}}\n  é {{with .}}\n', "(line 3, column 1; the {{with}} at line 2, column 5 has no {{end}})"),
     ("{{if .a}}\n{{else if .b}}\n", "(line 3, column 1; the {{if}} at line 1, column 1 has no {{end}})"),
     ('x\n  {{define "d"}}', "(line 2, column 17; the {{define}} at line 2, column 3 has no {{end}})"),
     ('{{block "b" .}}\n', "(line 2, column 1; the {{block}} at line 1, column 1 has no {{end}})")],
)  # fmt: skip
def test_an_unclosed_control_is_named_where_it_started(tmp_path: Path, text: str, where: str) -> None:
    message = render_error(tmp_path, text)
    assert message.startswith(f"Unable to process template {tmp_path}/templates/x.tmpl, template: x.tmpl:")
    assert ": unexpected EOF " in message  # Go's own words stay
    assert message.endswith(where)


def test_an_unclosed_control_with_other_delimiters(tmp_path: Path) -> None:
    import dataclasses

    resource = dataclasses.replace(resource_for(tmp_path, "a\n<<range .>>\n"), delims=("<<", ">>"))
    with pytest.raises(RenderError) as caught:
        Renderer().render(resource, KVStore())
    assert str(caught.value).endswith("(line 3, column 1; the <<range>> at line 2, column 1 has no <<end>>)")


def test_unknown_function_is_a_parse_error(tmp_path: Path) -> None:
    message = render_error(tmp_path, "{{ nosuch 1 }}")
    assert message.startswith(f"Unable to process template {tmp_path}/templates/x.tmpl, template: x.tmpl:1: ")
    assert 'function "nosuch" not defined' in message


def test_exec_error_is_go_text(tmp_path: Path) -> None:
    message = render_error(tmp_path, 'ok\n   {{getv "/missing"}}\n')
    assert message == (
        'template: x.tmpl:2:5: executing "x.tmpl" at <getv "/missing">: '
        "error calling getv: key does not exist: /missing (resource x.toml, which has no keys)"
    )
    message = render_error(tmp_path, 'a\n{{- $x := 1}}\n{{getv "/missing"}}')
    assert message.startswith("template: x.tmpl:3:2: executing")


def test_function_panics_become_errors(tmp_path: Path) -> None:
    message = render_error(tmp_path, "{{div 1 0}}")
    assert message == (
        'template: x.tmpl:1:2: executing "x.tmpl" at <div 1 0>: '
        "error calling div: runtime error: integer divide by zero"
    )


def test_non_utf8_template_is_a_clear_error(tmp_path: Path) -> None:
    message = render_error(tmp_path, b"ok\nab\xffc {{.}}\n")
    assert message.startswith(f"Unable to process template {tmp_path}/templates/x.tmpl, template: x.tmpl:2:")
    assert "UTF-8" in message
    assert "(line 2, column 3)" in message


def test_unreadable_template(tmp_path: Path) -> None:
    resource = resource_for(tmp_path, "x")
    resource.src.unlink()
    resource.src.mkdir()
    with pytest.raises(RenderError, match=r"^Cannot read template .*x\.tmpl: Is a directory$"):
        Renderer().render(resource, KVStore())


def test_getenv_reads_the_renderer_environment(tmp_path: Path) -> None:
    resource = resource_for(tmp_path, '{{getenv "CONFPY_T_A"}}|{{getenv "CONFPY_T_B" "dflt"}}')
    rendered = Renderer(environ={"CONFPY_T_A": "a", "CONFPY_T_B": ""}).render(resource, KVStore())
    assert rendered == b"a|dflt"


def test_compiled_template_is_reused_while_the_file_is_unchanged(tmp_path: Path) -> None:
    renderer = Renderer()
    resource = resource_for(tmp_path, "one {{getv \"/k\"}}")
    assert renderer.render(resource, KVStore({"/k": "1"})) == b"one 1"
    # Same size, same inode, same mtime: the cached compilation is used, so the
    # edited text is not seen (a change has to show in mtime, size or inode).
    stamp = resource.src.stat()
    with open(resource.src, "r+") as handle:
        handle.write("ONE")
    os.utime(resource.src, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert renderer.render(resource, KVStore({"/k": "2"})) == b"one 2"
    # A real edit changes the mtime: recompiled.
    os.utime(resource.src, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000))
    assert renderer.render(resource, KVStore({"/k": "3"})) == b"ONE 3"
    # A replaced file (new inode) too, even with the same size and mtime.
    replacement = tmp_path / "new.tmpl"
    replacement.write_text("two {{getv \"/k\"}}")
    os.utime(replacement, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000))
    replacement.replace(resource.src)
    assert renderer.render(resource, KVStore({"/k": "4"})) == b"two 4"


def test_cached_template_sees_each_render_store_only(tmp_path: Path) -> None:
    renderer = Renderer()
    resource = resource_for(tmp_path, '{{getv "/k" "none"}}')
    assert renderer.render(resource, KVStore({"/k": "first"})) == b"first"
    assert renderer.render(resource, KVStore()) == b"none"


def test_a_broken_edit_fails_and_a_fix_recovers(tmp_path: Path) -> None:
    renderer = Renderer()
    resource = resource_for(tmp_path, "ok")
    assert renderer.render(resource, KVStore()) == b"ok"
    resource.src.write_text("{{if}}")
    with pytest.raises(RenderError, match="missing value for if"):
        renderer.render(resource, KVStore())
    resource.src.write_text("fixed")
    assert renderer.render(resource, KVStore()) == b"fixed"


def test_define_and_template_within_one_file(tmp_path: Path) -> None:
    resource = resource_for(tmp_path, '{{define "t"}}[{{.}}]{{end}}{{template "t" "x"}}')
    assert Renderer().render(resource, KVStore()) == b"[x]"
    message = render_error(tmp_path, '{{template "other.tmpl"}}')
    assert 'template "other.tmpl" not defined' in message
