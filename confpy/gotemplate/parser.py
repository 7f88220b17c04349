"""The parser: tokens to trees, by recursive descent as Go's text/template/parse does it.

One ``_TreeParser`` per tree (the top-level text, each ``define`` and each ``block``),
sharing the lexer and the set of trees, each with its own three-token lookahead, variable
list and range depth, as in Go; that sharing decides which line Go's errors name, so it is
kept. Unknown functions and undefined variables fail here, at parse time; ``else if`` is
rewritten into a nested ``if``.
"""

from __future__ import annotations

from collections.abc import Callable, Container

from ..golang.strconv import InvalidSyntax, NumError, quote, unquote
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
from .numbers import BadNumber, make_number

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
        # The controls open around the current position, innermost last: (keyword, offset
        # of its left delimiter), so that an EOF can say which one is not closed.
        self.open: list[tuple[str, int]] = []


class _TreeParser:
    def __init__(self, shared: _Shared, name: str) -> None:
        self.shared = shared
        self.name = name
        self.token: list[Token] = [Token(K.EOF, 0, "", 0)] * 3
        self.peek_count = 0
        self.vars: list[str] = ["$"]
        self.action_line = 0
        self.action_pos = 0  # offset of the last action's left delimiter
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

    def errorf(self, message: str, *, unclosed: bool = False) -> TemplateSyntaxError:
        """Raise Go's parse error; the line is that of the last token read. With
        ``unclosed``, the error also carries the innermost control still open."""
        line = self.token[0].line
        name = self.shared.parse_name
        opened = None
        if unclosed and self.shared.open:
            keyword, pos = self.shared.open[-1]
            opened = (keyword, self.shared.text.count("\n", 0, pos) + 1, self._column(pos))
        raise TemplateSyntaxError(
            f"template: {name}:{line}: {message}",
            name=name,
            line=line,
            column=self._column(self.token[0].pos),
            opened=opened,
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
                    self.shared.open.append(("define", delim.pos))
                    definition.parse_definition()
                    self.shared.open.pop()
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
        self.errorf("unexpected EOF", unclosed=True)
        raise AssertionError("unreachable")

    # text_or_action:
    #   text | comment | action
    def text_or_action(self) -> Node:
        token = self.next_non_space()
        if token.kind == K.TEXT:
            return TextNode(token.pos, token.val)
        if token.kind == K.LEFT_DELIM:
            self.action_line = token.line
            self.action_pos = token.pos
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
            return self.parse_control(IfNode, True, "if", opens=True)
        if kind == K.RANGE:
            return self.parse_control(RangeNode, False, "range", opens=True)
        if kind == K.TEMPLATE:
            return self.template_control()
        if kind == K.WITH:
            return self.parse_control(WithNode, False, "with", opens=True)
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
    def parse_control(self, node_type: type[BranchNode], allow_else_if: bool, context: str, opens: bool = False) -> Node:
        """``opens``: this control starts at the current action (an ``else if`` does
        not: the ``if`` before it is the one its ``end`` closes)."""
        mark = len(self.vars)
        if opens:
            self.shared.open.append((context, self.action_pos))
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
            if opens:
                self.shared.open.pop()

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
        opened_at = self.action_pos
        pipe = self.pipeline(context, K.RIGHT_DELIM)
        block = _TreeParser(self.shared, name)
        self.nest()
        self.shared.open.append(("block", opened_at))
        block.root, end = block.item_list()
        self.shared.open.pop()
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
