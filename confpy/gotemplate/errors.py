"""Errors of the Go template engine, worded as Go words them.

::

    TemplateError              any failure of this package; str() is Go's error text
    ├── TemplateSyntaxError    from parse(): ``template: NAME:LINE: msg``
    └── TemplateExecError      from execute(): ``template: NAME:LINE:COL: executing ...``

Both carry ``name``, ``line`` and ``column`` (1-based line, 0-based byte column as Go
counts it; the column of a syntax error is where the offending token starts). A syntax
error at the end of the text also carries ``opened``: the innermost ``if``, ``range``,
``with``, ``define`` or ``block`` left without its ``end``, as (keyword, line, column).
"""

from __future__ import annotations

__all__ = ["TemplateError", "TemplateExecError", "TemplateSyntaxError"]


class TemplateError(Exception):
    """A template failed to parse or execute. ``str(err)`` is Go's exact message."""

    def __init__(self, message: str, *, name: str = "", line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return self.message


class TemplateSyntaxError(TemplateError):
    """The template text is not a valid Go template."""

    def __init__(
        self, message: str, *, name: str = "", line: int = 0, column: int = 0, opened: tuple[str, int, int] | None = None
    ) -> None:
        super().__init__(message, name=name, line=line, column=column)
        self.opened = opened


class TemplateExecError(TemplateError):
    """Executing a parsed template failed."""
