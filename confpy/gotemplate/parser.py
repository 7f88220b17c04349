"""The parser: tokens to trees, by recursive descent as Go's text/template/parse does it.

One ``_TreeParser`` per tree (the top-level text, each ``define`` and each ``block``),
sharing the lexer and the set of trees, each with its own three-token lookahead, variable
list and range depth, as in Go; that sharing decides which line Go's errors name, so it is
kept. Unknown functions and undefined variables fail here, at parse time; ``else if`` is
rewritten into a nested ``if``.
"""

from __future__ import annotations

from collections.abc import Callable, Container

from ..golang.strconv import (
    InvalidSyntax,
    NumError,
    parse_float,
    parse_int,
    parse_uint,
    quote,
    unquote,
    unquote_char,
)
from .errors import TemplateSyntaxError
from .lexer import Lexer, Token, TokenKind
from .nodes import (
    ActionNode,
    BoolNode,
    BranchNode,
    BreakNode,
    ChainNode,
    CommandNode,
    CommentNode,
    ContinueNode,
    DotNode,
    ElseNode,
    EndNode,
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
    is_empty_tree,
)

__all__ = ["MAX_NESTING", "parse"]

# Go has no limit; Python's stack does. Deeper templates get a clear error instead.
MAX_NESTING = 100

K = TokenKind
_OPERAND_START = frozenset(
    {
        K.BOOL,
        K.CHAR_CONSTANT,
        K.COMPLEX,
        K.DOT,
        K.FIELD,
        K.IDENTIFIER,
        K.NUMBER,
        K.NIL,
        K.RAW_STRING,
        K.STRING,
        K.VARIABLE,
        K.LEFT_PAREN,
    }
)


def parse(
    name: str,
    text: str,
    funcs: Container[str],
    delims: tuple[str, str] = ("{{", "}}"),
    trees: dict[str, Tree] | None = None,
) -> dict[str, Tree]:
    """Parse ``text`` as template ``name``; return every tree it defines, by name.

    ``funcs`` holds the names of all callable functions (builtins included). ``trees``
    are the templates already defined, for Go's redefinition rule.
    """
    tree_set: dict[str, Tree] = dict(trees or {})
    lexer = Lexer(
        text,
        delims[0],
        delims[1],
        break_ok="break" not in funcs,
        continue_ok="continue" not in funcs,
    )
    shared = _Shared(lexer=lexer, funcs=funcs, tree_set=tree_set, text=text, parse_name=name)
    _TreeParser(shared, name).parse_top()
    return tree_set


class _Shared:
    """What all the trees of one parse share."""

    def __init__(
        self, *, lexer: Lexer, funcs: Container[str], tree_set: dict[str, Tree], text: str, parse_name: str
    ) -> None:
        self.lexer = lexer
        self.funcs = funcs
        self.tree_set = tree_set
        self.text = text
        self.parse_name = parse_name
        self.depth = 0


class _TreeParser:
    def __init__(self, shared: _Shared, name: str) -> None:
        self.shared = shared
        self.name = name
        self.token: list[Token] = [Token(K.EOF, 0, "", 0)] * 3
        self.peek_count = 0
        self.vars: list[str] = ["$"]
        self.action_line = 0
        self.range_depth = 0
        self.root = ListNode(0)

    # -- token buffer (Go's three-token lookahead) ---------------------------------------

    def next(self) -> Token:
        if self.peek_count > 0:
            self.peek_count -= 1
        else:
            self.token[0] = self.shared.lexer.next_token()
        return self.token[self.peek_count]

    def backup(self) -> None:
        self.peek_count += 1

    def backup2(self, t1: Token) -> None:
        self.token[1] = t1
        self.peek_count = 2

    def backup3(self, t2: Token, t1: Token) -> None:
        self.token[1] = t1
        self.token[2] = t2
        self.peek_count = 3

    def peek(self) -> Token:
        if self.peek_count > 0:
            return self.token[self.peek_count - 1]
        self.peek_count = 1
        self.token[0] = self.shared.lexer.next_token()
        return self.token[0]

    def next_non_space(self) -> Token:
        while True:
            token = self.next()
            if token.kind != K.SPACE:
                return token

    def peek_non_space(self) -> Token:
        token = self.next_non_space()
        self.backup()
        return token

    # -- errors ----------------------------------------------------------------------

    def errorf(self, message: str) -> TemplateSyntaxError:
        """Raise Go's parse error; the line is that of the last token read."""
        line = self.token[0].line
        name = self.shared.parse_name
        raise TemplateSyntaxError(
            f"template: {name}:{line}: {message}",
            name=name,
            line=line,
            column=self._column(self.token[0].pos),
        )

    def _column(self, pos: int) -> int:
        text = self.shared.text[:pos]
        return len(text[text.rfind("\n") + 1 :].encode("utf-8", "surrogateescape"))

    def expect(self, expected: TokenKind, context: str) -> Token:
        token = self.next_non_space()
        if token.kind != expected:
            self.unexpected(token, context)
        return token

    def expect_one_of(self, first: TokenKind, second: TokenKind, context: str) -> Token:
        token = self.next_non_space()
        if token.kind not in (first, second):
            self.unexpected(token, context)
        return token

    def unexpected(self, token: Token, context: str) -> None:
        if token.kind == K.ERROR:
            extra = ""
            if self.action_line != 0 and self.action_line != token.line:
                extra = f" in action started at {self.shared.parse_name}:{self.action_line}"
                if token.val.endswith(" action"):
                    extra = extra[len(" in action") :]  # avoid "action in action"
            self.errorf(f"{token}{extra}")
        self.errorf(f"unexpected {token} in {context}")

    def nest(self) -> None:
        self.shared.depth += 1
        if self.shared.depth > MAX_NESTING:
            self.errorf(f"template nested more than {MAX_NESTING} levels deep")

    def unnest(self) -> None:
        self.shared.depth -= 1

    # -- trees -----------------------------------------------------------------------

    def add(self) -> None:
        """Record this tree in the set, under Go's redefinition rule."""
        tree_set = self.shared.tree_set
        existing = tree_set.get(self.name)
        if existing is None or is_empty_tree(existing.root):
            tree_set[self.name] = Tree(self.name, self.shared.parse_name, self.shared.text, self.root)
            return
        if not is_empty_tree(self.root):
            self.errorf(f"template: multiple definition of template {quote(self.name)}")

    # parse_top:
    #   (text | action | {{define}})* EOF
    def parse_top(self) -> None:
        self.root = ListNode(self.peek().pos)
        while self.peek().kind != K.EOF:
            if self.peek().kind == K.LEFT_DELIM:
                delim = self.next()
                if self.next_non_space().kind == K.DEFINE:
                    definition = _TreeParser(self.shared, "definition")
                    definition.parse_definition()
                    continue
                self.backup2(delim)
            node = self.text_or_action()
            if isinstance(node, (EndNode, ElseNode)):
                self.errorf(f"unexpected {node}")
            self.root.nodes.append(node)
        self.add()

    # parse_definition:
    #   {{define "name"}} itemList {{end}}   (the define keyword is already consumed)
    def parse_definition(self) -> None:
        context = "define clause"
        name = self.expect_one_of(K.STRING, K.RAW_STRING, context)
        try:
            self.name = unquote(name.val)
        except InvalidSyntax as exc:
            self.errorf(str(exc))
        self.expect(K.RIGHT_DELIM, context)
        self.nest()
        self.root, end = self.item_list()
        self.unnest()
        if not isinstance(end, EndNode):
            self.errorf(f"unexpected {end} in {context}")
        self.add()

    # item_list:
    #   textOrAction* until {{end}} or {{else}}
    def item_list(self) -> tuple[ListNode, Node]:
        items = ListNode(self.peek_non_space().pos)
        while self.peek_non_space().kind != K.EOF:
            node = self.text_or_action()
            if isinstance(node, (EndNode, ElseNode)):
                return items, node
            items.nodes.append(node)
        self.errorf("unexpected EOF")
        raise AssertionError("unreachable")

    # text_or_action:
    #   text | comment | action
    def text_or_action(self) -> Node:
        token = self.next_non_space()
        if token.kind == K.TEXT:
            return TextNode(token.pos, token.val)
        if token.kind == K.LEFT_DELIM:
            self.action_line = token.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        if token.kind == K.COMMENT:
            return CommentNode(token.pos, token.val)
        self.unexpected(token, "input")
        raise AssertionError("unreachable")

    # action:
    #   control | command ("|" command)*
    def action(self) -> Node:
        token = self.next_non_space()
        kind = token.kind
        if kind == K.BLOCK:
            return self.block_control()
        if kind == K.BREAK:
            return self.break_control(token, "{{break}}", BreakNode)
        if kind == K.CONTINUE:
            return self.break_control(token, "{{continue}}", ContinueNode)
        if kind == K.ELSE:
            return self.else_control()
        if kind == K.END:
            return EndNode(self.expect(K.RIGHT_DELIM, "end").pos)
        if kind == K.IF:
            return self.parse_control(IfNode, True, "if")
        if kind == K.RANGE:
            return self.parse_control(RangeNode, False, "range")
        if kind == K.TEMPLATE:
            return self.template_control()
        if kind == K.WITH:
            return self.parse_control(WithNode, False, "with")
        self.backup()
        token = self.peek()
        return ActionNode(token.pos, token.line, self.pipeline("command", K.RIGHT_DELIM))

    def break_control(self, keyword: Token, context: str, node_type: Callable[[int, int], Node]) -> Node:
        token = self.next_non_space()
        if token.kind != K.RIGHT_DELIM:
            self.unexpected(token, context)
        if self.range_depth == 0:
            self.errorf(f"{context} outside {{{{range}}}}")
        return node_type(keyword.pos, keyword.line)

    # pipeline:
    #   declarations? command ('|' command)*
    def pipeline(self, context: str, end: TokenKind) -> PipeNode:
        token = self.peek_non_space()
        pipe = PipeNode(token.pos, line=token.line)
        self._declarations(pipe, context)
        while True:
            token = self.next_non_space()
            if token.kind == end:
                self.check_pipeline(pipe, context)
                return pipe
            if token.kind in _OPERAND_START:
                self.backup()
                pipe.cmds.append(self.command())
            else:
                self.unexpected(token, context)

    def _declarations(self, pipe: PipeNode, context: str) -> None:
        while True:
            v = self.peek_non_space()
            if v.kind != K.VARIABLE:
                return
            self.next()
            after_variable = self.peek()
            following = self.peek_non_space()
            if following.kind in (K.ASSIGN, K.DECLARE):
                pipe.is_assign = following.kind == K.ASSIGN
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, v.val.split(".")))
                self.vars.append(v.val)
                return
            if following.kind == K.CHAR and following.val == ",":
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, v.val.split(".")))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().kind in (K.VARIABLE, K.RIGHT_DELIM, K.RIGHT_PAREN):
                        continue
                    self.errorf("range can only initialize variables")
                self.errorf(f"too many declarations in {context}")
            if after_variable.kind == K.SPACE:
                self.backup3(v, after_variable)
            else:
                self.backup2(v)
            return

    def check_pipeline(self, pipe: PipeNode, context: str) -> None:
        if not pipe.cmds:
            self.errorf(f"missing value for {context}")
        for i, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(cmd.args[0], (BoolNode, DotNode, NilNode, NumberNode, StringNode)):
                self.errorf(f"non executable command in pipeline stage {i + 2}")

    # control:
    #   {{if|range|with pipeline}} itemList ({{else}} itemList | {{else if ...}})? {{end}}
    def parse_control(self, node_type: type[BranchNode], allow_else_if: bool, context: str) -> Node:
        mark = len(self.vars)
        self.nest()
        try:
            pipe = self.pipeline(context, K.RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            body, nxt = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list: ListNode | None = None
            if isinstance(nxt, ElseNode):
                if allow_else_if and self.peek().kind == K.IF:
                    # {{else if x}} is {{else}}{{if x}}...{{end}}{{end}} with one {{end}}.
                    self.next()
                    else_list = ListNode(nxt.pos)
                    else_list.nodes.append(self.parse_control(IfNode, True, "if"))
                else:
                    else_list, nxt = self.item_list()
                    if not isinstance(nxt, EndNode):
                        self.errorf(f"expected end; found {nxt}")
            return node_type(pipe.pos, pipe.line, pipe, body, else_list)
        finally:
            self.unnest()
            del self.vars[mark:]

    def else_control(self) -> Node:
        peeked = self.peek_non_space()
        if peeked.kind == K.IF:
            return ElseNode(peeked.pos, peeked.line)  # the if is parsed by parse_control
        token = self.expect(K.RIGHT_DELIM, "else")
        return ElseNode(token.pos, token.line)

    # block:
    #   {{block "name" pipeline}} itemList {{end}}: define "name" and execute it here
    def block_control(self) -> Node:
        context = "block clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe = self.pipeline(context, K.RIGHT_DELIM)
        block = _TreeParser(self.shared, name)
        self.nest()
        block.root, end = block.item_list()
        self.unnest()
        if not isinstance(end, EndNode):
            self.errorf(f"unexpected {end} in {context}")
        block.add()
        return TemplateNode(token.pos, token.line, name, pipe)

    # template:
    #   {{template "name" pipeline?}}
    def template_control(self) -> Node:
        context = "template clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe = None
        if self.next_non_space().kind != K.RIGHT_DELIM:
            self.backup()
            pipe = self.pipeline(context, K.RIGHT_DELIM)
        return TemplateNode(token.pos, token.line, name, pipe)

    def template_name(self, token: Token, context: str) -> str:
        if token.kind in (K.STRING, K.RAW_STRING):
            try:
                return unquote(token.val)
            except InvalidSyntax as exc:
                self.errorf(str(exc))
        self.unexpected(token, context)
        raise AssertionError("unreachable")

    # command:
    #   operand (space operand)*
    def command(self) -> CommandNode:
        cmd = CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()  # skip leading spaces
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            token = self.next()
            if token.kind == K.SPACE:
                continue
            if token.kind in (K.RIGHT_DELIM, K.RIGHT_PAREN):
                self.backup()
            elif token.kind != K.PIPE:
                self.unexpected(token, "operand")
            break
        if not cmd.args:
            self.errorf("empty command")
        return cmd

    # operand:
    #   term .Field*
    def operand(self) -> Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().kind == K.FIELD:
            chain = ChainNode(self.peek().pos, node)
            while self.peek().kind == K.FIELD:
                chain.fields.append(self.next().val[1:])
            if isinstance(node, FieldNode):
                return FieldNode(chain.pos, [*node.ident, *chain.fields])
            if isinstance(node, VariableNode):
                return VariableNode(chain.pos, [*node.ident, *chain.fields])
            if isinstance(node, (BoolNode, StringNode, NumberNode, NilNode, DotNode)):
                self.errorf(f"unexpected . after term {quote(str(node))}")
            return chain
        return node

    # term:
    #   literal | function | . | nil | $var | .Field | '(' pipeline ')'
    def term(self) -> Node | None:
        token = self.next_non_space()
        kind = token.kind
        if kind == K.IDENTIFIER:
            if token.val not in self.shared.funcs:
                self.errorf(f"function {quote(token.val)} not defined")
            return IdentifierNode(token.pos, token.val)
        if kind == K.DOT:
            return DotNode(token.pos)
        if kind == K.NIL:
            return NilNode(token.pos)
        if kind == K.VARIABLE:
            return self.use_var(token)
        if kind == K.FIELD:
            return FieldNode(token.pos, token.val[1:].split("."))
        if kind == K.BOOL:
            return BoolNode(token.pos, token.val == "true")
        if kind in (K.CHAR_CONSTANT, K.COMPLEX, K.NUMBER):
            return self.number(token)
        if kind == K.LEFT_PAREN:
            self.nest()
            pipe = self.pipeline("parenthesized pipeline", K.RIGHT_PAREN)
            self.unnest()
            return pipe
        if kind in (K.STRING, K.RAW_STRING):
            try:
                return StringNode(token.pos, token.val, unquote(token.val))
            except InvalidSyntax as exc:
                self.errorf(str(exc))
        self.backup()
        return None

    def use_var(self, token: Token) -> Node:
        node = VariableNode(token.pos, token.val.split("."))
        if node.ident[0] not in self.vars:
            self.errorf(f"undefined variable {quote(node.ident[0])}")
        return node

    def number(self, token: Token) -> NumberNode:
        try:
            return make_number(token.pos, token.val, token.kind)
        except (BadNumber, InvalidSyntax, NumError) as exc:
            self.errorf(str(exc))
            raise AssertionError("unreachable") from exc


class BadNumber(ValueError):
    """A number literal Go's newNumber refuses with its own words (not strconv's)."""


def make_number(pos: int, text: str, kind: TokenKind) -> NumberNode:
    """A NumberNode with every Go type the literal can stand for (Go's newNumber)."""
    node = NumberNode(pos, text)
    if kind == K.CHAR_CONSTANT:
        char, tail = unquote_char(text[1:], text[0])
        if tail != "'":
            raise BadNumber(f"malformed character constant: {text}")
        code = ord(char) if not "\udc80" <= char <= "\udcff" else ord(char) - 0xDC00
        node.is_int = node.is_uint = node.is_float = True
        node.int64 = node.uint64 = code
        node.float64 = float(code)
        return node
    if kind == K.COMPLEX:
        node.is_complex = True
        node.complex128 = _parse_complex(text)
        _simplify_complex(node)
        return node
    if text.endswith("i"):
        try:
            imag = parse_float(text[:-1])
        except NumError:
            pass
        else:
            node.is_complex = True
            node.complex128 = complex(0, imag)
            _simplify_complex(node)
            return node
    unsigned: int | None = None
    try:
        unsigned = parse_uint(text)
        node.is_uint, node.uint64 = True, unsigned
    except NumError:
        pass
    try:
        signed = parse_int(text)
        node.is_int, node.int64 = True, signed
        if signed == 0:  # -0 parses as a signed int only
            node.is_uint, node.uint64 = True, 0
    except NumError:
        pass
    if node.is_int:
        node.is_float, node.float64 = True, float(node.int64)
    elif node.is_uint:
        node.is_float, node.float64 = True, float(node.uint64)
    else:
        try:
            value = parse_float(text)
        except NumError:
            pass
        else:
            if not any(c in text for c in ".eEpP"):
                raise BadNumber(f"integer overflow: {quote(text)}")
            node.is_float, node.float64 = True, value
            if value.is_integer():
                as_int = int(value)
                if -(1 << 63) <= as_int < 1 << 63:
                    node.is_int, node.int64 = True, as_int
                if 0 <= as_int < 1 << 64:
                    node.is_uint, node.uint64 = True, as_int
    if not (node.is_int or node.is_uint or node.is_float):
        raise BadNumber(f"illegal number syntax: {quote(text)}")
    return node


def _parse_complex(text: str) -> complex:
    """fmt.Sscan of a complex literal such as ``1+2i`` or ``-1.5e3-0x1p2i``."""
    split = max(text.rfind("+"), text.rfind("-"))
    while split > 0 and text[split - 1] in "eEpP":  # a sign inside an exponent
        split = max(text.rfind("+", 0, split - 1), text.rfind("-", 0, split - 1))
    if split <= 0 or not text.endswith("i"):
        raise BadNumber(f"illegal number syntax: {quote(text)}")
    return complex(parse_float(text[:split]), parse_float(text[split:-1]))


def _simplify_complex(node: NumberNode) -> None:
    """A complex with no imaginary part is also a float, and maybe an int."""
    value = node.complex128
    node.is_float = value.imag == 0
    if node.is_float:
        node.float64 = value.real
        if value.real.is_integer():
            as_int = int(value.real)
            node.is_int = -(1 << 63) <= as_int < 1 << 63
            if node.is_int:
                node.int64 = as_int
            node.is_uint = 0 <= as_int < 1 << 64
            if node.is_uint:
                node.uint64 = as_int
