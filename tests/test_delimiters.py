"""Custom delimiters through the renderer: the Go engine against Go's Delims (cases
recorded from the real Go by tests/render_oracle/record.py), the seed's `<<`/`>>`
template, and check_cmd's ``{{.src}}`` untouched by them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from render_helpers import recorded, resource_in

from confpy.errors import RenderError
from confpy.render import Renderer
from confpy.store import KVStore

CASES = recorded("delimiters")


def render_go(tmp_path: Path, case: dict[str, Any], store: KVStore | None = None) -> bytes:
    files = {"x.tmpl": case["template"], **case.get("files", {})}
    delims = (case.get("left", "{{"), case.get("right", "}}"))
    resource = resource_in(tmp_path, "x.tmpl", files, delims=delims)
    return Renderer().render(resource, store or KVStore())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_go_delimiters_as_go(tmp_path: Path, case: dict[str, Any]) -> None:
    if case["error"] is None:
        assert render_go(tmp_path, case) == case["output"].encode()
        return
    with pytest.raises(RenderError) as caught:
        render_go(tmp_path, case)
    message = str(caught.value)
    if "executing" in case["error"]:
        assert message == case["error"]
    else:  # a parse error: confd's prefix, Go's text, then the line and column
        assert message.startswith(f"Unable to process template {tmp_path}/templates/x.tmpl, {case['error']} (line ")


def test_recorded_cases_cover_passing_and_failing_templates() -> None:
    assert sum(c["error"] is None for c in CASES) >= 15
    assert sum(c["error"] is not None for c in CASES) >= 5


def test_seed_template_with_angle_delimiters(tmp_path: Path) -> None:
    case = {"template": 'The address is <<getv "/nginx/nginx">>; {{ literal }}\n', "left": "<<", "right": ">>"}
    store = KVStore({"/nginx/nginx": "10.0.0.1:80"})
    assert render_go(tmp_path, case, store) == b"The address is 10.0.0.1:80; {{ literal }}\n"
