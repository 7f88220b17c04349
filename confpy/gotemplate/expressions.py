"""Expression compilation: pipelines, commands, fields, variables and function calls.

``ExpressionCompiler`` is mixed into the statement compiler (``compiler._Generator``),
which owns the output: it provides the emission primitives and the state declared at the
top of the class. Each ``eval_*`` method emits the lines computing one expression and
returns a ``_Value`` naming the result. Like the statements, it keeps ``self.at`` on the
node Go would blame for an error, following exec.go step by step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from .builtins import BUILTINS
from .gotypes import REFLECT_VALUE, FuncSignature, GoType, signature_of
from .nodes import (
    BoolNode,
    ChainNode,
    CommandNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    StringNode,
    VariableNode,
)
from .runtime import ConstError, coerce_const, ideal_constant
from .values import MISSING

if TYPE_CHECKING:  # compiler imports this module: the scope type is for annotations only
    from .compiler import Scope

__all__ = ["ExpressionCompiler"]

# Builtins whose result is never nil, so it needs no nil-to-missing unwrapping.
_NEVER_NIL = frozenset({"print", "printf", "println", "html", "js", "urlquery", "len", "not", "eq", "ne", "lt", "le", "gt", "ge"})
_BOOL_RESULT = frozenset({"not", "eq", "ne", "lt", "le", "gt", "ge"})
_STR_RESULT = frozenset({"print", "printf", "println", "html", "js", "urlquery"})
_CONSTANT_NODES = (BoolNode, NumberNode, StringNode, NilNode)


class _Value(NamedTuple):
    """A compiled expression: a local name or a literal, and what it may hold."""

    expr: str
    maybe_nil: bool = True  # may be None (a nil interface) that Go would unwrap
    kind: str = ""  # "str" or "bool" when known statically
    holder: str | None = None  # the container this value was read from, if any
    key: str | None = None  # ... and the field name it was read as


class ExpressionCompiler:
    """The ``eval_*`` half of the compiler; the statement compiler supplies the rest."""

    # State owned by the statement compiler.
    funcs: Mapping[str, Callable[..., Any]]
    signatures: dict[str, FuncSignature]
    missingkey: str
    indent: int
    at: Node | None
    scope: Scope
    origin: dict[str, str]  # range-element local -> its container, for type names in errors

    if TYPE_CHECKING:  # emission primitives: the statement compiler defines them

        def emit(self, code: str) -> None: ...

        def emit_call(self, code: str, node: Node, name: str) -> None: ...

        def emit_error(self, fmt: str, *args: Any, node: Node | None = None) -> None: ...

        def tmp(self, prefix: str = "t") -> str: ...

        def constant(self, value: Any, prefix: str = "K") -> str: ...

        def literal(self, value: Any) -> str: ...

        def site(self, node: Node | None = None) -> str: ...

    # -- values ------------------------------------------------------------------------

    def local(self, name: str) -> _Value:
        return _Value(name, holder=self.origin.get(name))

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
        self.emit_call(f"{result} = {fn_name}({', '.join(values)})", node, name)
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
