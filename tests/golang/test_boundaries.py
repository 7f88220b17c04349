"""The packages' boundaries: confpy.golang imports nothing of confpy outside itself, and
confpy.gotemplate nothing but itself and confpy.golang (so both can be published alone)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CONFPY = Path(__file__).resolve().parents[2] / "confpy"


def confpy_imports(module: Path) -> set[str]:
    """The confpy modules ``module`` imports, as dotted names relative to ``confpy``."""
    package = module.parent.relative_to(CONFPY.parent).parts  # ("confpy", "golang")
    found = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "confpy"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join((*base, node.module) if node.module else base)
            else:
                name = node.module or ""
            if name.split(".")[0] == "confpy":
                found.add(name)
    return found


@pytest.mark.parametrize(
    ("package", "allowed"),
    [("golang", ("confpy.golang",)), ("gotemplate", ("confpy.gotemplate", "confpy.golang"))],
)
def test_package_imports_stay_inside(package: str, allowed: tuple[str, ...]) -> None:
    modules = sorted((CONFPY / package).glob("*.py"))
    assert modules
    outside = {
        f"{module.name}: {name}"
        for module in modules
        for name in confpy_imports(module)
        if not any(name == a or name.startswith(a + ".") for a in allowed)
    }
    assert not outside


def test_the_check_sees_imports() -> None:
    assert "confpy.golang.strings" in confpy_imports(CONFPY / "golang" / "path.py")
    assert "confpy.golang.strconv" in confpy_imports(CONFPY / "gotemplate" / "lexer.py")
