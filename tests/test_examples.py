"""The examples: the Registrator/nginx template as Go, with `<<`/`>>` delimiters and as
Jinja2, run as the README runs them (file backend); all three write the same bytes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_helpers import run_confpy

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
VARIANTS = ["registrator-nginx", "registrator-nginx-delimiters", "registrator-nginx-jinja2"]
DATA = {
    "two": (EXAMPLES / "registrator-nginx" / "data.yaml").read_text(),
    "none": "nginx-80: {}\n",
    "odd": 'nginx-80:\n  "a b": "[::1]:80"\n  z9: "10.0.0.9:9"\n  "é": "x"\nother: "1"\n',
}


def render_example(tmp_path: Path, variant: str, data: str) -> bytes:
    """``confpy -onetime`` over a copy of the example (its dest is relative to the cwd)."""
    copy = tmp_path / "examples" / variant
    shutil.copytree(EXAMPLES / variant, copy, ignore=shutil.ignore_patterns("out"))
    (copy / "out").mkdir()
    (tmp_path / "data.yaml").write_text(data)
    run = run_confpy(
        "-onetime", "-backend", "file", "-file", "data.yaml", "-confdir", f"examples/{variant}", "-sync-only", cwd=tmp_path
    )  # fmt: skip
    assert run.code == 0, run.stderr
    return (copy / "out" / "nginx.conf").read_bytes()


@pytest.mark.parametrize("variant", VARIANTS)
def test_example_renders_the_expected_file(tmp_path: Path, variant: str) -> None:
    expected = (EXAMPLES / "registrator-nginx" / "expected" / "nginx.conf").read_bytes()
    assert render_example(tmp_path, variant, DATA["two"]) == expected


@pytest.mark.parametrize("data", sorted(DATA))
def test_go_delimiters_and_jinja2_write_the_same_bytes(tmp_path: Path, data: str) -> None:
    outputs = [render_example(tmp_path / variant, variant, DATA[data]) for variant in VARIANTS]
    assert outputs[0] == outputs[1] == outputs[2]
    assert (b"down;" in outputs[0]) == (data == "none")
