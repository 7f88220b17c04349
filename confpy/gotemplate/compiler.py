"""The compiler: parse trees to Python source, one function per template.

Parse once, execute many: each tree becomes ``def _tN(dot, _w)`` whose body is straight
Python (locals for variables and temporaries, ``if``/``for`` for control, adjacent text
merged), so executing a template runs bytecode instead of walking nodes.

The evaluation order and the node Go would blame for an error (its ``s.at(node)``) are
tracked statically in ``self.at`` while compiling, following exec.go step by step, and
passed to the runtime helpers as ``Site`` constants. Calls of template functions each sit
alone on a generated line; the line table maps such a line back to its call, so an
exception escaping a function becomes Go's ``error calling NAME: ...`` without any
per-call cost (see ``Template.execute``).

This module holds the statements (text, actions, if/with/range, template calls, scopes),
the emission primitives with the line table, and module assembly; pipelines and the
expressions in them are compiled by ``expressions.ExpressionCompiler``, mixed in here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from . import runtime
from .errors import TemplateSyntaxError
from .expressions import ExpressionCompiler
from .gotypes import FuncSignature
from .nodes import (
    ActionNode,
    BreakNode,
    CommentNode,
    ContinueNode,
    IfNode,
    ListNode,
    Node,
    RangeNode,
    TemplateNode,
    TextNode,
    Tree,
    WithNode,
)
from .runtime import Site
from .values import MISSING

__all__ = ["CompiledModule", "LineInfo", "compile_trees"]

# Python refuses more than 20 statically nested blocks; each {{range}} is one.
MAX_RANGE_NESTING = 18


class LineInfo(NamedTuple):
    """What a generated line does, for turning an exception on it into Go's error."""

    site: Site
    call: str | None = None  # the function called on this line, if any
    template_call: bool = False


class CompiledModule(NamedTuple):
    source: str
    filename: str
    functions: dict[str, Callable[..., None]]
    lines: dict[int, LineInfo]


class Scope:
    """The variables declared in one block, and the block it is nested in."""

    def __init__(self, parent: Scope | None) -> None:
        self.parent = parent
        self.names: dict[str, str] = {}

    def lookup(self, name: str) -> str | None:
        scope: Scope | None = self
        while scope is not None:
            found = scope.names.get(name)
            if found is not None:
                return found
            scope = scope.parent
        return None


_module_ids = itertools.count()


def compile_trees(
    trees: Mapping[str, Tree],
    funcs: Mapping[str, Callable[..., Any]],
    signatures: dict[str, FuncSignature],
    missingkey: str,
    template_table: dict[str, Callable[..., None]],
) -> CompiledModule:
    """Compile trees into one module whose functions call each other through
    ``template_table`` (looked up at execution, as Go does)."""
    gen = _Generator(funcs, signatures, missingkey)
    names = {}
    for name, tree in trees.items():
        names[name] = gen.compile_tree(tree)
    filename = f"<gotemplate {next(_module_ids)}>"
    source = "\n".join(gen.lines) + "\n"
    namespace: dict[str, Any] = dict(runtime.EXPORTED)
    namespace.update(gen.constants)
    namespace["_T"] = template_table
    code = compile(source, filename, "exec")
    exec(code, namespace)
    functions = {name: namespace[py] for name, py in names.items()}
    return CompiledModule(source, filename, functions, gen.line_info)


class _Generator(ExpressionCompiler):
    """Compiles templates and statements; expressions come from ``ExpressionCompiler``."""

    def __init__(
        self,
        funcs: Mapping[str, Callable[..., Any]],
        signatures: dict[str, FuncSignature],
        missingkey: str,
    ) -> None:
        self.funcs = funcs
        self.signatures = signatures
        self.missingkey = missingkey
        self.lines: list[str] = []
        self.line_info: dict[int, LineInfo] = {}
        self.constants: dict[str, Any] = {}
        self._constant_ids: dict[object, str] = {}
        self._counter = itertools.count()
        self.indent = 0
        self.range_depth = 0
        self.tree: Tree
        self.exec_name = ""
        self.at: Node | None = None
        self.scope = Scope(None)
        # Locals holding elements read from a container (range elements): the
        # container, so errors can name the element's static type as Go does.
        self.origin: dict[str, str] = {}

    # -- emission ----------------------------------------------------------------------

    def emit(self, code: str, info: LineInfo | None = None) -> None:
        self.lines.append("    " * self.indent + code)
        if info is None and self.at is not None:
            info = LineInfo(self.site_object())  # so even an internal error says where
        if info is not None:
            self.line_info[len(self.lines)] = info

    def tmp(self, prefix: str = "t") -> str:
        return f"{prefix}{next(self._counter)}"

    def constant(self, value: Any, prefix: str = "K") -> str:
        """A module-level name bound to ``value`` (one per object)."""
        key = id(value)
        name = self._constant_ids.get(key)
        if name is None:
            name = f"{prefix}{next(self._counter)}"
            self._constant_ids[key] = name
            self.constants[name] = value
        return name

    def literal(self, value: Any) -> str:
        if value is MISSING:
            return "MISSING"
        if isinstance(value, (str, bool, int)) or value is None:
            return repr(value)
        if isinstance(value, float) and value == value and value not in (float("inf"), float("-inf")):
            return repr(value)
        return self.constant(value)

    def site(self, node: Node | None = None) -> str:
        node = node if node is not None else self.at
        key = ("site", id(node), self.exec_name)
        name = self._constant_ids.get(key)
        if name is None:
            name = f"S{next(self._counter)}"
            self._constant_ids[key] = name
            self.constants[name] = Site(self.tree, node, self.exec_name)
        return name

    def site_object(self, node: Node | None = None) -> Site:
        return self.constants[self.site(node)]

    def emit_call(self, code: str, node: Node, name: str) -> None:
        """Emit a line calling template function ``name``: the line table maps an
        exception raised on it to Go's ``error calling NAME``."""
        self.emit(code, LineInfo(self.site_object(node), call=name))

    def emit_error(self, fmt: str, *args: Any, node: Node | None = None) -> None:
        """Emit code raising Go's exec error: Go reports these at execution, if reached."""
        parts = ", ".join([repr(fmt), *(self.literal(a) for a in args)])
        self.emit(f"raise {self.site(node)}.error({parts})")

    # -- templates and statements --------------------------------------------------------

    def compile_tree(self, tree: Tree) -> str:
        self.tree = tree
        self.exec_name = tree.name
        self.at = None
        self.scope = Scope(None)
        fn_name = f"_t{next(self._counter)}"
        self.emit(f"def {fn_name}(dot, _w):")
        self.indent += 1
        dollar = self.tmp("v")
        self.scope.names["$"] = dollar
        self.emit(f"{dollar} = dot")
        self.compile_list(tree.root, "dot")
        self.indent -= 1
        return fn_name

    def compile_list(self, nodes: ListNode | None, dot: str) -> None:
        start = len(self.lines)
        pending: list[str] = []
        for node in nodes.nodes if nodes is not None else ():
            if isinstance(node, TextNode):
                pending.append(node.text)
                continue
            if isinstance(node, CommentNode):
                continue
            if pending:
                self.emit(f"_w({''.join(pending)!r})")
                pending.clear()
            self.compile_node(node, dot)
        if pending:
            self.emit(f"_w({''.join(pending)!r})")
        if len(self.lines) == start:
            self.emit("pass")

    def compile_node(self, node: Node, dot: str) -> None:
        if isinstance(node, ActionNode):
            self.compile_action(node, dot)
        elif isinstance(node, IfNode | WithNode):
            self.compile_if_or_with(node, dot)
        elif isinstance(node, RangeNode):
            self.compile_range(node, dot)
        elif isinstance(node, TemplateNode):
            self.compile_template_call(node, dot)
        elif isinstance(node, BreakNode):
            self.emit("break")
        elif isinstance(node, ContinueNode):
            self.emit("continue")
        else:  # pragma: no cover - the parser produces no other statement nodes
            raise AssertionError(f"unknown node {node!r}")

    def compile_action(self, node: ActionNode, dot: str) -> None:
        # Variables declared here persist until the enclosing {{end}}.
        self.at = node
        value = self.eval_pipeline(dot, node.pipe, unwrap=bool(node.pipe.decl))
        if node.pipe.decl:
            return
        self.at = node
        if value.kind == "str":
            self.emit(f"_w({value.expr})")
        elif value.kind == "bool":
            self.emit(f"_w('true' if {value.expr} else 'false')")
        else:
            v = value.expr
            self.emit(f"_w({v} if type({v}) is str else to_text({v}, {self.site(node)}))")

    def compile_if_or_with(self, node: IfNode | WithNode, dot: str) -> None:
        outer = self.scope
        self.scope = Scope(outer)
        try:
            value = self.eval_pipeline(dot, node.pipe, unwrap=bool(node.pipe.decl))
            test = value.expr if value.kind == "bool" else f"truth({value.expr})"
            self.emit(f"if {test}:")
            self.indent += 1
            body_dot = dot
            if isinstance(node, WithNode):
                body_dot = self.tmp("d")
                self.emit(f"{body_dot} = {value.expr}")
            self.compile_scoped(node.list, body_dot)
            self.indent -= 1
            self.compile_else(node.else_list, dot)
        finally:
            self.scope = outer

    def compile_scoped(self, nodes: ListNode | None, dot: str) -> None:
        outer = self.scope
        self.scope = Scope(outer)
        try:
            self.compile_list(nodes, dot)
        finally:
            self.scope = outer

    def compile_range(self, node: RangeNode, dot: str) -> None:
        if self.range_depth >= MAX_RANGE_NESTING:
            line, column = self.tree.location(node.pos)
            raise TemplateSyntaxError(
                f"template: {self.tree.parse_name}:{line}: {{{{range}}}} nested more than "
                f"{MAX_RANGE_NESTING} levels deep",
                name=self.tree.parse_name,
                line=line,
                column=column,
            )
        outer = self.scope
        self.scope = Scope(outer)
        try:
            self.at = node
            value = self.eval_pipeline(dot, node.pipe, unwrap=True)
            items = self.tmp("it")
            self.emit(f"{items} = range_items({value.expr}, {self.site()})")
            self.emit(f"if {items} is not None:")
            self.indent += 1
            key, elem = self.tmp("k"), self.tmp("d")
            self.emit(f"for {key}, {elem} in {items}:")
            self.indent += 1
            decl = [self.scope.lookup(v.ident[0]) for v in node.pipe.decl]
            self.origin[elem] = value.expr
            if len(decl) >= 1 and decl[-1] is not None:
                self.origin[decl[-1]] = value.expr
                self.emit(f"{decl[-1]} = {elem}")
            if len(decl) >= 2 and decl[0] is not None:
                self.emit(f"{decl[0]} = {key}")
            self.range_depth += 1
            self.compile_scoped(node.list, elem)
            self.range_depth -= 1
            self.indent -= 2
            self.compile_else(node.else_list, dot)
        finally:
            self.scope = outer

    def compile_else(self, else_list: ListNode | None, dot: str) -> None:
        """The {{else}} branch of if, with or range, with the dot outside the branch."""
        if else_list is None:
            return
        self.emit("else:")
        self.indent += 1
        self.compile_scoped(else_list, dot)
        self.indent -= 1

    def compile_template_call(self, node: TemplateNode, dot: str) -> None:
        self.at = node
        fn = self.tmp("f")
        self.emit(f"{fn} = _T.get({node.name!r})")
        self.emit(f"if {fn} is None:")
        self.indent += 1
        self.emit_error("template %q not defined", node.name, node=node)
        self.indent -= 1
        if node.pipe is None:
            arg = "MISSING"  # {{template "x"}} runs x with nil data
        else:
            arg = self.eval_pipeline(dot, node.pipe, unwrap=True).expr
        self.emit(f"{fn}({arg}, _w)", LineInfo(self.site_object(node), template_call=True))
