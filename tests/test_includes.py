"""Includes: Go's ``{{include "x" .}}`` against the equivalent ``{{template}}`` of a parsed
file set in the real Go (tests/render_oracle), paths kept inside the templates directory,
cycles named, and an edited partial seen by the next render of every template using it."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from render_helpers import recorded, resource_in, templates

from confpy.errors import RenderError
from confpy.render import Renderer
from confpy.resources import TemplateResource
from confpy.store import KVStore

CASES = recorded("includes")


def render(resource: TemplateResource, store: KVStore | None = None, renderer: Renderer | None = None) -> bytes:
    return (renderer or Renderer()).render(resource, store or KVStore())


def render_error(resource: TemplateResource, store: KVStore | None = None) -> str:
    with pytest.raises(RenderError) as caught:
        render(resource, store)
    return str(caught.value)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_go_include_renders_as_go_template_of_the_file_set(tmp_path: Path, case: dict[str, Any]) -> None:
    delims = (case.get("left", "{{"), case.get("right", "}}"))
    resource = resource_in(tmp_path, "x.tmpl", {"x.tmpl": case["template"], **case["files"]}, delims=delims)
    if case["error"] is None:
        assert render(resource) == case["output"].encode()
        return
    # The positions differ (Go's file set is one text); what failed and why do not.
    assert render_error(resource).endswith(case["error"].split(": executing ", 1)[1])


def test_partial_reads_the_same_store_view(tmp_path: Path) -> None:
    files = {
        "nginx.tmpl": 'upstream {\n{{range gets "/svc/*"}}{{include "partials/server.tmpl" .}}{{end}}}\n',
        "partials/server.tmpl": '  server {{.Value}}; # {{base .Key}} of {{getv "/name"}}\n',
    }
    resource = resource_in(tmp_path, "nginx.tmpl", files)
    store = KVStore({"/svc/a": "10.0.0.1:80", "/svc/b": "10.0.0.2:80", "/name": "web"})
    assert render(resource, store) == (
        b"upstream {\n  server 10.0.0.1:80; # a of web\n  server 10.0.0.2:80; # b of web\n}\n"
    )


def test_missing_key_in_a_partial_is_its_error(tmp_path: Path) -> None:
    resource = resource_in(tmp_path, "x.tmpl", {"x.tmpl": 'a\n{{include "p.tmpl"}}', "p.tmpl": 'ok\n {{getv "/x"}}'})
    assert render_error(resource) == (
        'template: p.tmpl:2:3: executing "p.tmpl" at <getv "/x">: error calling getv: key does not exist: /x (resource x.toml, which has no keys)'
    )


def test_syntax_error_in_a_partial_names_its_file_and_line(tmp_path: Path) -> None:
    resource = resource_in(tmp_path, "x.tmpl", {"x.tmpl": '{{include "sub/p.tmpl"}}', "sub/p.tmpl": "ok\n{{if}}"})
    assert render_error(resource) == (
        f"Unable to process template {tmp_path}/templates/sub/p.tmpl, "
        "template: sub/p.tmpl:2: missing value for if (line 2, column 5)"
    )


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../secret.tmpl", "'..' leads out of the templates directory {dir}"),
        ("sub/../../secret.tmpl", "'..' leads out of the templates directory {dir}"),
        ("{root}/secret.tmpl", "an absolute path; name a file under {dir}"),
        ("link.tmpl", "a symlink leads out of the templates directory {dir}"),
        ("linkdir/secret.tmpl", "a symlink leads out of the templates directory {dir}"),
        ("nope.tmpl", "no such template in {dir}"),
        ("sub", "not a file in {dir}"),
        ("", ""),
    ],
)
def test_include_outside_the_templates_directory_is_refused(tmp_path: Path, name: str, why: str) -> None:
    (tmp_path / "secret.tmpl").write_text("SECRET")
    name = name.replace("{root}", str(tmp_path))
    resource = resource_in(tmp_path, "x.tmpl", {"x.tmpl": f'a{{{{include "{name}"}}}}b', "sub/in.tmpl": "in"})
    os.symlink(tmp_path / "secret.tmpl", tmp_path / "templates" / "link.tmpl")
    os.symlink(tmp_path, tmp_path / "templates" / "linkdir")
    message = render_error(resource)
    site = f'template: x.tmpl:1:3: executing "x.tmpl" at <include "{name}">: error calling include: '
    if not name:
        assert message == site + "include of an empty template name"
    else:
        assert message == site + f'include "{name}": ' + why.replace("{dir}", f"{tmp_path}/templates")
    assert "SECRET" not in message


def test_symlink_inside_the_directory_is_followed(tmp_path: Path) -> None:
    resource = resource_in(tmp_path, "x.tmpl", {"x.tmpl": '{{include "alias.tmpl"}}', "real/p.tmpl": "P"})
    os.symlink("real/p.tmpl", tmp_path / "templates" / "alias.tmpl")
    assert render(resource) == b"P"


@pytest.mark.parametrize(
    ("files", "chain", "site"),
    [
        ({"x.tmpl": '{{include "x.tmpl"}}'}, "x.tmpl -> x.tmpl", "x.tmpl:1:2"),
        (
            {"x.tmpl": 'a{{include "a.tmpl"}}', "a.tmpl": '{{include "b.tmpl"}}', "b.tmpl": '\n {{include "a.tmpl" .}}'},
            "x.tmpl -> a.tmpl -> b.tmpl -> a.tmpl",
            "b.tmpl:2:3",
        ),
        ({"x.tmpl": '{{include "p/a.tmpl"}}', "p/a.tmpl": '{{include "x.tmpl"}}'}, "x.tmpl -> p/a.tmpl -> x.tmpl", "p/a.tmpl:1:2"),
    ],
)
def test_include_cycle_is_an_error_naming_the_chain(tmp_path: Path, files: dict[str, str], chain: str, site: str) -> None:
    message = render_error(resource_in(tmp_path, "x.tmpl", files))
    assert message.startswith(f"template: {site}: executing ")
    assert message.endswith(f"error calling include: include cycle: {chain}")


def test_include_takes_one_data_argument_at_most(tmp_path: Path) -> None:
    message = render_error(resource_in(tmp_path, "x.tmpl", {"x.tmpl": '{{include "p.tmpl" 1 2}}', "p.tmpl": ""}))
    assert message.endswith('error calling include: include "p.tmpl": one data argument at most, got 2')


def test_include_is_not_a_go_builtin_clash(tmp_path: Path) -> None:
    # define/template within one file keep working beside include.
    files = {"x.tmpl": '{{define "t"}}<{{.}}>{{end}}{{template "t" "a"}}{{include "p.tmpl" "b"}}', "p.tmpl": "[{{.}}]"}
    assert render(resource_in(tmp_path, "x.tmpl", files)) == b"<a>[b]"


# -- the cache: an edited partial re-renders every template using it ---------------------


def bump(path: Path, text: str) -> None:
    """Rewrite ``path`` with a new mtime, as an editor would."""
    stamp = path.stat()
    path.write_text(text)
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000))


def test_edited_partial_is_seen_by_every_template_using_it(tmp_path: Path) -> None:
    files = {
        "a.tmpl": 'A {{include "partials/up.tmpl" "a"}}',
        "b.tmpl": 'B {{include "partials/up.tmpl" "b"}}',
        "partials/up.tmpl": "old {{.}}",
    }
    a = resource_in(tmp_path, "a.tmpl", files)
    b = resource_in(tmp_path, "b.tmpl", {})
    renderer = Renderer()
    assert (render(a, renderer=renderer), render(b, renderer=renderer)) == (b"A old a", b"B old b")
    bump(tmp_path / "templates" / "partials" / "up.tmpl", "new {{.}}")
    assert (render(a, renderer=renderer), render(b, renderer=renderer)) == (b"A new a", b"B new b")
    # A partial replaced by a symlink elsewhere inside the directory, then removed.
    (tmp_path / "templates" / "partials" / "up.tmpl").unlink()
    (tmp_path / "templates" / "other.tmpl").write_text("other {{.}}")
    os.symlink("../other.tmpl", tmp_path / "templates" / "partials" / "up.tmpl")
    assert render(a, renderer=renderer) == b"A other a"
    (tmp_path / "templates" / "partials" / "up.tmpl").unlink()
    with pytest.raises(RenderError, match=re.escape('include "partials/up.tmpl": no such template')):
        render(b, renderer=renderer)


def test_unchanged_partial_is_compiled_once(tmp_path: Path) -> None:
    files = {"x.tmpl": '{{range split "a,b,c" ","}}{{include "p.tmpl" .}}{{end}}', "p.tmpl": "<{{.}}>"}
    resource = resource_in(tmp_path, "x.tmpl", files)
    renderer = Renderer()
    assert render(resource, renderer=renderer) == b"<a><b><c>"
    partial = tmp_path / "templates" / "p.tmpl"
    # Same size, inode and mtime: the cached compilation is used, so this edit is not seen.
    stamp = partial.stat()
    partial.write_text("[{{.}}]")
    os.utime(partial, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert render(resource, renderer=renderer) == b"<a><b><c>"
    os.utime(partial, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1))
    assert render(resource, renderer=renderer) == b"[a][b][c]"


def test_a_broken_partial_fails_and_a_fix_recovers(tmp_path: Path) -> None:
    resource = resource_in(tmp_path, "x.tmpl", {"x.tmpl": '{{include "p.tmpl"}}', "p.tmpl": "ok"})
    renderer = Renderer()
    assert render(resource, renderer=renderer) == b"ok"
    bump(tmp_path / "templates" / "p.tmpl", "{{end}}")
    with pytest.raises(RenderError, match=re.escape("unexpected {{end}}")):
        render(resource, renderer=renderer)
    bump(tmp_path / "templates" / "p.tmpl", "fixed")
    assert render(resource, renderer=renderer) == b"fixed"


def test_partials_follow_the_resource_delimiters(tmp_path: Path) -> None:
    templates(tmp_path, {"p.tmpl": "<<.>> {{.}}"})
    angle = resource_in(tmp_path, "a.tmpl", {"a.tmpl": '<<include "p.tmpl" "x">>'}, delims=("<<", ">>"))
    braces = resource_in(tmp_path, "b.tmpl", {"b.tmpl": '{{include "p.tmpl" "y"}}'})
    renderer = Renderer()
    assert render(angle, renderer=renderer) == b"x {{.}}"
    assert render(braces, renderer=renderer) == b"<<.>> y"


# -- Jinja2: {% include %}, {% import %}, {% extends %} from the same directory -------------


def jinja(tmp_path: Path, files: dict[str, str], src: str = "x.j2", **options: Any) -> TemplateResource:
    return resource_in(tmp_path, src, files, engine="jinja2", **options)


def test_jinja_include_import_and_extends(tmp_path: Path) -> None:
    files = {
        "base.j2": "# {% block title %}base{% endblock %}\n{% block body %}{% endblock %}",
        "x.j2": (
            '{% extends "base.j2" %}{% import "partials/macros.j2" as m %}'
            "{% block title %}site {{ getv('/name') }}{% endblock %}"
            '{% block body %}{% for s in gets("/svc/*") %}{{ m.server(s) }}{% endfor %}'
            '{% include "partials/footer.j2" %}{% endblock %}'
        ),
        "partials/macros.j2": "{% macro server(s) %}server {{ s.Value }}; # {{ s.Key | base }}\n{% endmacro %}",
        "partials/footer.j2": "# {{ getv('/name') }} ends\n",
    }
    store = KVStore({"/svc/a": "10.0.0.1:80", "/svc/b": "10.0.0.2:80", "/name": "web"})
    assert render(jinja(tmp_path, files), store) == (
        b"# site web\nserver 10.0.0.1:80; # a\nserver 10.0.0.2:80; # b\n# web ends\n"
    )


def test_jinja_modules_are_not_kept_across_renders(tmp_path: Path) -> None:
    # Jinja2 keeps an imported module, or an include "without context", for good; here
    # each render reads its own store.
    files = {
        "x.j2": '{% import "vars.j2" as v %}{{ v.name }} {% include "p.j2" without context %}',
        "vars.j2": "{% set name = getv('/name') %}",
        "p.j2": "[{{ getv('/name') }}]",
    }
    resource = jinja(tmp_path, files)
    renderer = Renderer()
    assert render(resource, KVStore({"/name": "one"}), renderer) == b"one [one]"
    assert render(resource, KVStore({"/name": "two"}), renderer) == b"two [two]"


def test_jinja_ignore_missing_skips_only_a_missing_file(tmp_path: Path) -> None:
    resource = jinja(tmp_path, {"x.j2": 'a{% include "nope.j2" ignore missing %}b'})
    assert render(resource) == b"ab"
    resource = jinja(tmp_path, {"x.j2": 'a{% include "../x.j2" ignore missing %}b'})
    assert render_error(resource).startswith("template: x.j2:1: include \"../x.j2\": '..' leads out of")


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../secret.j2", "'..' leads out of the templates directory {dir}"),
        ("{root}/secret.j2", "an absolute path; name a file under {dir}"),
        ("link.j2", "a symlink leads out of the templates directory {dir}"),
        ("nope.j2", "no such template in {dir}"),
    ],
)
@pytest.mark.parametrize("tag", ['{% include "NAME" %}', '{% import "NAME" as m %}', '{% extends "NAME" %}', '{% from "NAME" import x %}'])
def test_jinja_load_outside_the_templates_directory_is_refused(tmp_path: Path, tag: str, name: str, why: str) -> None:
    (tmp_path / "secret.j2").write_text("SECRET{% macro x() %}{% endmacro %}")
    name = name.replace("{root}", str(tmp_path))
    resource = jinja(tmp_path, {"x.j2": "ok\n" + tag.replace("NAME", name)})
    os.symlink(tmp_path / "secret.j2", tmp_path / "templates" / "link.j2")
    message = render_error(resource)
    assert message == f'template: x.j2:2: include "{name}": ' + why.replace("{dir}", f"{tmp_path}/templates")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"x.j2": '{% include "x.j2" %}'}, "template: x.j2:1: include cycle: x.j2 -> x.j2"),
        (
            {"x.j2": '{% include "a.j2" %}', "a.j2": '\n{% include "b.j2" %}', "b.j2": '{% include "a.j2" %}'},
            "template: b.j2:1: include cycle: x.j2 -> a.j2 -> b.j2 -> a.j2",
        ),
        ({"x.j2": '{% extends "a.j2" %}', "a.j2": '{% extends "x.j2" %}'}, "template: a.j2:1: include cycle: x.j2 -> a.j2 -> x.j2"),
        ({"x.j2": '{% import "a.j2" as a %}', "a.j2": '{% import "a.j2" as a %}'}, "template: a.j2:1: include cycle: x.j2 -> a.j2 -> a.j2"),
    ],
)
def test_jinja_cycle_is_an_error_naming_the_chain(tmp_path: Path, files: dict[str, str], message: str) -> None:
    assert render_error(jinja(tmp_path, files)) == message


def test_jinja_errors_in_a_partial_name_it(tmp_path: Path) -> None:
    resource = jinja(tmp_path, {"x.j2": 'a\n{% include "p/q.j2" %}', "p/q.j2": "ok\n{{ getv('/x') }}"})
    assert render_error(resource) == "template: p/q.j2:2: error calling getv: key does not exist: /x (resource x.toml, which has no keys)"
    resource = jinja(tmp_path, {"x.j2": 'a\n{% include "p/q.j2" %}', "p/q.j2": "ok\n\n{% if %}"})
    assert render_error(resource) == (
        f"Unable to process template {tmp_path}/templates/p/q.j2, "
        "template: p/q.j2:3: Expected an expression, got 'end of statement block'"
    )


def test_jinja_edited_partial_is_seen_by_every_template_using_it(tmp_path: Path) -> None:
    files = {"a.j2": 'A {% include "partials/up.j2" %}', "b.j2": 'B {% import "partials/up.j2" as up %}{{ up.v }}',
             "partials/up.j2": "{% set v = 'old' %}old"}  # fmt: skip
    a, b = jinja(tmp_path, files, src="a.j2"), jinja(tmp_path, {}, src="b.j2")
    renderer = Renderer()
    assert (render(a, renderer=renderer), render(b, renderer=renderer)) == (b"A old", b"B old")
    bump(tmp_path / "templates" / "partials" / "up.j2", "{% set v = 'new' %}new")
    assert (render(a, renderer=renderer), render(b, renderer=renderer)) == (b"A new", b"B new")
    (tmp_path / "templates" / "partials" / "up.j2").unlink()
    assert render_error(b).startswith('template: b.j2:1: include "partials/up.j2": no such template')


def test_jinja_partials_follow_the_resource_delimiters(tmp_path: Path) -> None:
    files = {"x.j2": '<< "a" >>{% include "p.j2" %}', "p.j2": '<< getv("/k") >> {{ literal }}'}
    assert render(jinja(tmp_path, files, delims=("<<", ">>")), KVStore({"/k": "v"})) == b"av {{ literal }}"
