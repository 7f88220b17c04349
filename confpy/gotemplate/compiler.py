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
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from . import runtime
from .builtins import BUILTINS
from .errors import TemplateSyntaxError
from .gotypes import REFLECT_VALUE, FuncSignature, GoType, signature_of
from .nodes import (
    ActionNode,
    BoolNode,
    BreakNode,
    ChainNode,
    CommandNode,
    CommentNode,
    ContinueNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    IfNode,
    ListNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    RangeNode,
    StringNode,
    TemplateNode,
    TextNode,
    Tree,
    VariableNode,
    WithNode,
)
from .runtime import ConstError, Site, coerce_const, ideal_constant
from .values import MISSING

__all__ = ["CompiledModule", "LineInfo", "compile_trees"]

# Python refuses more than 20 statically nested blocks; each {{range}} is one.
MAX_RANGE_NESTING = 18

# Builtins whose result is never nil, so it needs no nil-to-missing unwrapping.
_NEVER_NIL = frozenset({"print", "printf", "println", "html", "js", "urlquery", "len", "not", "eq", "ne", "lt", "le", "gt", "ge"})
_BOOL_RESULT = frozenset({"not", "eq", "ne", "lt", "le", "gt", "ge"})
_STR_RESULT = frozenset({"print", "printf", "println", "html", "js", "urlquery"})
_CONSTANT_NODES = (BoolNode, NumberNode, StringNode, NilNode)


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


class _Value(NamedTuple):
    """A compiled expression: a local name or a literal, and what it may hold."""

    expr: str
    maybe_nil: bool = True  # may be None (a nil interface) that Go would unwrap
    kind: str = ""  # "str" or "bool" when known statically
    holder: str | None = None  # the container this value was read from, if any
    key: str | None = None  # ... and the field name it was read as


class _Scope:
    def __init__(self, parent: _Scope | None) -> None:
        self.parent = parent
        self.names: dict[str, str] = {}

    def lookup(self, name: str) -> str | None:
        scope: _Scope | None = self
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


class _Generator:
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
        self.scope = _Scope(None)
        # Locals holding elements read from a container (range elements): the
        # container, so errors can name the element's static type as Go does.
        self.origin: dict[str, str] = {}

    def local(self, name: str) -> _Value:
        return _Value(name, holder=self.origin.get(name))

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

    def emit_error(self, fmt: str, *args: Any, node: Node | None = None) -> None:
        """Emit code raising Go's exec error: Go reports these at execution, if reached."""
        parts = ", ".join([repr(fmt), *(self.literal(a) for a in args)])
        self.emit(f"raise {self.site(node)}.error({parts})")

    # -- templates and statements --------------------------------------------------------

    def compile_tree(self, tree: Tree) -> str:
        self.tree = tree
        self.exec_name = tree.name
        self.at = None
        self.scope = _Scope(None)
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
        self.scope = _Scope(outer)
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
        self.scope = _Scope(outer)
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
        self.scope = _Scope(outer)
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

    # -- pipelines and commands ---------------------------------------------------------

    def eval_pipeline(self, dot: str, pipe: PipeNode, *, unwrap: bool = True) -> _Value:
        """Evaluate a pipeline: each command's value is the next one's final argument."""
        self.at = pipe
        value: _Value | None = None
        for i, cmd in enumerate(pipe.cmds):
            value = self.eval_command(dot, cmd, value)
            last = i == len(pipe.cmds) - 1
            if value.maybe_nil and (unwrap or not last):
                # Go digs into interface{} values: a nil one becomes no value at all.
                unwrapped = self.tmp()
                self.emit(f"{unwrapped} = MISSING if {value.expr} is None else {value.expr}")
                value = _Value(unwrapped, maybe_nil=False, kind=value.kind)
        assert value is not None
        for variable in pipe.decl:
            name = variable.ident[0]
            if pipe.is_assign:
                target = self.scope.lookup(name)
                if target is None:
                    self.emit_error("undefined variable: %s", name)
                    continue
            else:
                target = self.tmp("v")
                self.scope.names[name] = target
            self.origin.pop(target, None)
            self.emit(f"{target} = {value.expr}")
        return value

    def eval_command(self, dot: str, cmd: CommandNode, final: _Value | None) -> _Value:
        first = cmd.args[0]
        if isinstance(first, FieldNode):
            return self.eval_field_node(dot, first, cmd.args, final)
        if isinstance(first, ChainNode):
            return self.eval_chain_node(dot, first, cmd.args, final)
        if isinstance(first, IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, VariableNode):
            return self.eval_variable_node(dot, first, cmd.args, final)
        self.at = first
        self.not_a_function(cmd.args, final)
        if isinstance(first, BoolNode):
            return _Value(repr(first.value), maybe_nil=False, kind="bool")
        if isinstance(first, DotNode):
            return self.local(dot)
        if isinstance(first, NilNode):
            self.emit_error("nil is not a command")
            return _Value("MISSING", maybe_nil=False)
        if isinstance(first, NumberNode):
            return _Value(self.ideal_constant(first), maybe_nil=False)
        if isinstance(first, StringNode):
            return _Value(repr(first.text), maybe_nil=False, kind="str")
        self.emit_error("can't evaluate command %q", str(first))
        return _Value("MISSING", maybe_nil=False)

    def ideal_constant(self, node: NumberNode) -> str:
        try:
            return self.literal(ideal_constant(node))
        except ConstError as exc:
            self.emit_error(exc.fmt, *exc.args_)
            return "MISSING"

    def not_a_function(self, args: list[Node], final: _Value | None) -> None:
        if len(args) > 1 or final is not None:
            self.emit_error("can't give argument to non-function %s", str(args[0]))

    def eval_field_node(
        self, dot: str, node: FieldNode, args: list[Node] | None, final: _Value | None
    ) -> _Value:
        self.at = node
        return self.eval_field_chain(dot, self.local(dot), node, node.ident, args, final)

    def eval_chain_node(
        self, dot: str, chain: ChainNode, args: list[Node] | None, final: _Value | None
    ) -> _Value:
        self.at = chain
        if isinstance(chain.node, NilNode):
            self.emit_error("indirection through explicit nil in %s", str(chain))
            return _Value("MISSING", maybe_nil=False)
        receiver = _Value(self.eval_arg(dot, None, chain.node))
        return self.eval_field_chain(dot, receiver, chain, chain.fields, args, final)

    def eval_variable_node(
        self, dot: str, node: VariableNode, args: list[Node] | None, final: _Value | None
    ) -> _Value:
        self.at = node
        name = node.ident[0]
        variable = self.scope.lookup(name)
        if variable is None:
            # The parser saw it declared on a path that this one did not take.
            self.emit_error("undefined variable: %s", name)
            variable = "MISSING"
        if len(node.ident) == 1:
            self.not_a_function(args or [], final)
            return self.local(variable)
        return self.eval_field_chain(dot, self.local(variable), node, node.ident[1:], args, final)

    def eval_field_chain(
        self,
        dot: str,
        receiver: _Value,
        node: Node,
        idents: list[str],
        args: list[Node] | None,
        final: _Value | None,
    ) -> _Value:
        for name in idents[:-1]:
            receiver = self.eval_field(dot, name, node, None, None, receiver)
        return self.eval_field(dot, idents[-1], node, args, final, receiver)

    def eval_field(
        self,
        dot: str,
        name: str,
        node: Node,
        args: list[Node] | None,
        final: _Value | None,
        receiver_value: _Value,
    ) -> _Value:
        receiver = receiver_value.expr
        if not receiver.isidentifier() or receiver in ("True", "False", "None"):
            literal, receiver = receiver, self.tmp()
            self.emit(f"{receiver} = {literal}")
        result = self.tmp()
        site = self.site()
        extra = f", {self.missingkey!r}"
        if receiver_value.holder is not None:
            extra += f", {receiver_value.holder}, {receiver_value.key!r}"
        has_args = (args is not None and len(args) > 1) or final is not None
        if not has_args:
            if self.missingkey == "default":
                self.emit(
                    f"{result} = {receiver}.get({name!r}, MISSING) if type({receiver}) is dict "
                    f"else field({receiver}, {name!r}, {site}{extra})"
                )
            else:
                self.emit(f"{result} = field({receiver}, {name!r}, {site}{extra})")
            return _Value(result, holder=receiver, key=name)
        # A method call: arguments are evaluated only if the receiver has the method.
        bound = self.tmp("m")
        self.emit(f"{bound} = method({receiver}, {name!r}, {site}{extra})")
        self.emit(f"if {bound} is MISSING:")
        self.indent += 1
        self.emit(f"{result} = MISSING")
        self.indent -= 1
        self.emit("else:")
        self.indent += 1
        parts = []
        for arg in (args or [])[1:]:
            if isinstance(arg, _CONSTANT_NODES):
                self.at = arg
                parts.append(f"(None, {self.constant(arg, 'N')}, {self.site(arg)})")
            else:
                value = self.eval_arg(dot, REFLECT_VALUE, arg)
                parts.append(f"({value}, None, {self.site()})")
        if final is not None:
            parts.append(f"({final.expr}, None, {self.site()})")
        self.emit(
            f"{result} = call_method({bound}, {name!r}, {self.site(node)}, [{', '.join(parts)}])"
        )
        self.indent -= 1
        return _Value(result)

    # -- functions ----------------------------------------------------------------------

    def eval_function(
        self, dot: str, node: IdentifierNode, cmd: Node, args: list[Node] | None, final: _Value | None
    ) -> _Value:
        self.at = node
        name = node.ident
        if name in self.funcs:
            fn, builtin = self.funcs[name], False
        elif name in BUILTINS:
            fn, builtin = BUILTINS[name], True
        else:
            self.emit_error("%q is not a defined function", name)
            return _Value("MISSING", maybe_nil=False)
        sig = self.signatures.get(name)
        if sig is None:
            sig = self.signatures[name] = signature_of(fn)
        return self.eval_call(dot, fn, sig, builtin, cmd, name, args, final)

    def eval_call(
        self,
        dot: str,
        fn: Callable[..., Any],
        sig: FuncSignature,
        builtin: bool,
        node: Node,
        name: str,
        args: list[Node] | None,
        final: _Value | None,
    ) -> _Value:
        call_args = (args or [])[1:]
        num_in = len(call_args) + (1 if final is not None else 0)
        fixed = len(sig.params) - sig.optional
        if sig.variadic is not None:
            if num_in < fixed:
                self.emit_error(
                    "wrong number of args for %s: want at least %d got %d", name, fixed, len(call_args)
                )
                return _Value("MISSING", maybe_nil=False)
        elif not fixed <= num_in <= len(sig.params):
            self.emit_error("wrong number of args for %s: want %d got %d", name, len(sig.params), num_in)
            return _Value("MISSING", maybe_nil=False)
        if builtin and name in ("and", "or"):
            return self.eval_and_or(dot, name, call_args, final)
        values = []
        for i, arg in enumerate(call_args):
            typ = sig.params[i] if i < len(sig.params) else sig.variadic
            values.append(self.eval_arg(dot, typ, arg))
        if final is not None:
            if sig.variadic is not None and num_in - 1 >= len(sig.params):
                typ = sig.variadic
            else:
                typ = sig.params[num_in - 1]
            values.append(self.check(final, typ))
        result = self.tmp()
        fn_name = self.constant(fn, "F")
        info = LineInfo(self.site_object(node), call=name)
        self.emit(f"{result} = {fn_name}({', '.join(values)})", info)
        if builtin:
            kind = "bool" if name in _BOOL_RESULT else "str" if name in _STR_RESULT else ""
            return _Value(result, maybe_nil=name not in _NEVER_NIL, kind=kind)
        return _Value(result)

    def eval_and_or(self, dot: str, name: str, args: list[Node], final: _Value | None) -> _Value:
        """and/or evaluate their arguments lazily and return the deciding one."""
        result, going = self.tmp(), self.tmp("g")
        negate = "not " if name == "or" else ""
        if not args:  # {{x | and}}: nothing to decide on but the piped value
            assert final is not None
            self.emit(f"{result} = {final.expr}")
            return _Value(result)
        for i, arg in enumerate(args):
            if i:
                self.emit(f"if {going}:")
                self.indent += 1
            value = self.eval_arg(dot, REFLECT_VALUE, arg)
            self.emit(f"{result} = {value}")
            if i < len(args) - 1 or final is not None:
                self.emit(f"{going} = {negate}truth({result})")
            if i:
                self.indent -= 1
        if final is not None:
            self.emit(f"if {going}: {result} = {final.expr}")
        return _Value(result)

    def eval_arg(self, dot: str, typ: GoType | None, node: Node) -> str:
        """An argument's value for a parameter of ``typ`` (None: take it as it is)."""
        self.at = node
        if isinstance(node, DotNode):
            return self.check(self.local(dot), typ)
        if isinstance(node, FieldNode):
            return self.check(self.eval_field_node(dot, node, [node], None), typ)
        if isinstance(node, VariableNode):
            return self.check(self.eval_variable_node(dot, node, None, None), typ)
        if isinstance(node, PipeNode):
            return self.check(self.eval_pipeline(dot, node), typ)
        if isinstance(node, IdentifierNode):
            return self.check(self.eval_function(dot, node, node, None, None), typ)
        if isinstance(node, ChainNode):
            return self.check(self.eval_chain_node(dot, node, None, None), typ)
        try:
            return self.literal(coerce_const(node, typ or REFLECT_VALUE, MISSING))
        except ConstError as exc:
            self.emit_error(exc.fmt, *exc.args_)
            return "MISSING"

    def check(self, value: _Value, typ: GoType | None) -> str:
        """Go's validateType on a computed value, at the node evaluated last."""
        if typ is None or typ.kind == "value":
            return value.expr
        v = value.expr
        if typ.kind == "interface":
            if v == "MISSING":
                return "None"
            if not v.isidentifier() or v in ("True", "False", "None"):
                return v  # a literal: never missing
            out = self.tmp()
            self.emit(f"{out} = None if {v} is MISSING else {v}")
            return out
        out = self.tmp()
        fast = {"int": "int", "string": "str", "float": "float", "bool": "bool"}.get(typ.kind)
        typ_name = self.constant(typ, "T")
        if fast is not None:
            self.emit(f"{out} = {v} if type({v}) is {fast} else check_arg({v}, {typ_name}, {self.site()})")
        else:
            self.emit(f"{out} = check_arg({v}, {typ_name}, {self.site()})")
        return out
