"""Helpers for the renderer's tests: a templates directory with a resource over it, and
the Go cases recorded by tests/render_oracle/record.py."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from confpy.resources import TemplateResource

RECORDED = Path(__file__).resolve().parent / "render_oracle" / "recorded"


def recorded(topic: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((RECORDED / f"{topic}.json").read_text(encoding="utf-8"))
    return cases


def templates(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """``root/templates`` holding ``files`` (name: text); returns that directory."""
    directory = root / "templates"
    directory.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body, encoding="utf-8")
    return directory


def resource_in(
    root: Path,
    src: str,
    files: Mapping[str, str | bytes],
    *,
    delims: tuple[str, str] = ("{{", "}}"),
    engine: str = "go",
    extended_funcs: bool = False,
) -> TemplateResource:
    """A resource rendering ``src`` from the templates directory under ``root``."""
    directory = templates(root, files)
    return TemplateResource(
        path=root / "x.toml",
        src=directory / src,
        dest=str(root / "out"),
        prefix="/",
        keys=(),
        engine=engine,
        delims=delims,
        extended_funcs=extended_funcs,
        template_dir=directory,
    )
