"""``Template``: Go's ``template.New(name).Funcs(f).Delims(l, r).Parse(text)`` in Python."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from typing import Any

from ..golang.strconv import quote
from .builtins import BUILTINS
from .compiler import CompiledModule, LineInfo, compile_trees
from .errors import TemplateError, TemplateExecError, TemplateSyntaxError
from .gotypes import FuncSignature
from .nodes import Tree, is_empty_tree
from .parser import parse
from .runtime import go_error_text
from .values import MISSING

__all__ = ["MAX_EXEC_DEPTH", "Template"]

MAX_EXEC_DEPTH = 100000  # Go's limit, named in the error when templates recurse too deep
_MISSINGKEY_MODES = {"default": "default", "invalid": "default", "zero": "zero", "error": "error"}


def _good_name(name: str) -> bool:
    """Go's goodName: a function name must be an identifier."""
    if not name:
        return False
    for i, ch in enumerate(name):
        if ch == "_":
            continue
        if i == 0 and not ch.isalpha():
            return False
        if not (ch.isalpha() or ch.isdecimal()):
            return False
    return True


class Template:
    """A set of associated Go templates sharing one namespace, executed by name.

    >>> Template("greet").parse("hi {{.who}}").execute({"who": "bob"})
    'hi bob'

    ``funcs`` are plain callables (see ``gotypes`` for how annotations give them Go
    parameter types; an exception raised is the function's error). ``missingkey`` is
    Go's option: ``default`` prints ``<no value>``, ``zero`` the zero value, ``error``
    fails. Parsing compiles the templates to Python once; ``execute`` may then run many
    times and from several threads.
    """

    def __init__(
        self,
        name: str,
        funcs: Mapping[str, Callable[..., Any]] | None = None,
        delims: tuple[str, str] = ("{{", "}}"),
        missingkey: str = "default",
    ) -> None:
        if missingkey not in _MISSINGKEY_MODES:
            raise ValueError(f"unrecognized missingkey option {missingkey!r}: use default, zero or error")
        self.name = name
        self.delims = (delims[0] or "{{", delims[1] or "}}")
        self.missingkey = _MISSINGKEY_MODES[missingkey]
        self.funcs: dict[str, Callable[..., Any]] = {}
        self._signatures: dict[str, FuncSignature] = {}
        self._trees: dict[str, Tree] = {}
        self._table: dict[str, Callable[..., None]] = {}
        self._modules: dict[str, CompiledModule] = {}
        if funcs:
            self.add_funcs(funcs)

    def add_funcs(self, funcs: Mapping[str, Callable[..., Any]]) -> Template:
        """Register functions (Go's Funcs); they must be known before the text using them is parsed."""
        for name, fn in funcs.items():
            if not _good_name(name):
                raise ValueError(f"function name {name!r} is not a valid identifier")
            if not callable(fn):
                raise ValueError(f"value for {name} not a function")
            self.funcs[name] = fn
            self._signatures.pop(name, None)  # read from the annotations when first called
        return self

    def parse(self, text: str | bytes) -> Template:
        """Parse (and compile) ``text``; ``define``d templates join the namespace.

        Raises TemplateSyntaxError. Parsing again adds or redefines templates, as in Go.
        """
        if isinstance(text, (bytes, bytearray)):
            text = _decode(self.name, bytes(text))
        names = set(self.funcs) | set(BUILTINS)
        trees = parse(self.name, text, names, self.delims)
        changed = {
            name: tree
            for name, tree in trees.items()
            if name not in self._trees or not is_empty_tree(tree.root)
        }
        try:
            module = compile_trees(changed, self.funcs, self._signatures, self.missingkey, self._table)
        except (SyntaxError, RecursionError, MemoryError) as exc:
            # Python's own limits (100 levels of indentation, 20 nested loops, its stack),
            # which controls nested a few dozen deep can reach before MAX_NESTING does.
            reason = exc.msg if isinstance(exc, SyntaxError) else type(exc).__name__
            raise TemplateSyntaxError(
                f"template: {self.name}: too deeply nested to compile ({reason}): nest fewer controls",
                name=self.name,
            ) from None
        self._modules[module.filename] = module
        self._trees.update(changed)
        self._table.update(module.functions)
        return self

    def templates(self) -> list[str]:
        """Names of the templates defined so far."""
        return sorted(self._trees)

    def trees(self) -> dict[str, Tree]:
        """The parse trees of the templates defined so far, by name (for tools that read
        templates without executing them)."""
        return dict(self._trees)

    def source(self) -> str:
        """The generated Python of every compiled module (for debugging)."""
        return "\n".join(m.source for m in self._modules.values())

    def execute(self, data: Any = None) -> str:
        """Run this template on ``data`` (``.``); returns the output. Raises TemplateExecError."""
        return self.execute_template(self.name, data, _top=True)

    def execute_template(self, name: str, data: Any = None, *, _top: bool = False) -> str:
        """Run the associated template ``name`` (Go's ExecuteTemplate)."""
        fn = self._table.get(name)
        if fn is None:
            if _top:
                raise TemplateExecError(
                    f"template: {name}: {quote(name)} is an incomplete or empty template", name=name
                )
            raise TemplateExecError(
                f"template: no template {quote(name)} associated with template {quote(self.name)}",
                name=name,
            )
        out: list[str] = []
        try:
            fn(MISSING if data is None else data, out.append)
        except Exception as exc:
            raise self._translate(exc) from exc
        return "".join(out)

    def _translate(self, exc: Exception) -> TemplateError:
        """Turn an exception escaping generated code into Go's error for it."""
        own: list[LineInfo | None] = []
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            module = self._modules.get(frame.f_code.co_filename)
            if module is not None:
                own.append(module.lines.get(lineno))
        if isinstance(exc, RecursionError):
            for info in reversed(own):
                if info is not None and info.template_call:
                    return info.site.error("exceeded maximum template depth (%v)", MAX_EXEC_DEPTH)
        deepest = own[-1] if own else None
        if deepest is not None and deepest.call is not None:
            return deepest.site.error("error calling %s: %s", deepest.call, go_error_text(exc))
        if isinstance(exc, TemplateError):
            return exc
        detail = f"internal error: {type(exc).__name__}: {exc}"
        if deepest is not None:
            return deepest.site.error("%s", detail)
        return TemplateExecError(f"template: {self.name}: {detail}", name=self.name)


def _decode(name: str, data: bytes) -> str:
    """Template text must be UTF-8: say where it is not, as a syntax error."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1)
        raise TemplateSyntaxError(
            f"template: {name}:{line}:{column}: invalid UTF-8 byte 0x{data[exc.start]:02x}: "
            "template text must be UTF-8",
            name=name,
            line=line,
            column=column,
        ) from None
