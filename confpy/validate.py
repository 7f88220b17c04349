"""``-validate``: check confd.toml, every conf.d resource and every template before a
deploy, and report every problem found, not just the first.

Nothing is fetched, written or run: no backend is made (a dead ``-node`` does not
matter), no state file is read. Templates are read, parsed and compiled by the engines
the renderer uses, with each resource's delimiters and function set; the includes a
template names with a constant are followed (missing, outside the templates directory,
cycles), and so are Jinja2's ``include``, ``import`` and ``extends``.

Output, for CI: one line per problem on stdout, as compilers print them::

    <file>:<line>:<column>: error: <message>
    <file>:<line>:<column>: warning: <message>

(line and column 1-based, in characters; a problem with no place in a file, such as a
missing confdir, is ``<file>: error: ...``, and one about a flag ``-flag: error: ...``).
Everything a normal run would stop on, fail a resource for, or only warn about (an
unknown field) is an error here. Warnings are what may fail only at render time: a
template reading a constant key its resource's keys do not cover, a ``{{template}}`` of
a name not defined, a Jinja2 name defined nowhere. A summary goes to stderr as a log
line. Exit status: 1 if there was any error, else 0 (warnings alone do not fail).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

from .errors import RenderError
from .fileio import read_file
from .gotemplate import Template, TemplateError
from .gotemplate.nodes import (
    ActionNode,
    BranchNode,
    ChainNode,
    CommandNode,
    IdentifierNode,
    ListNode,
    Node,
    PipeNode,
    StringNode,
    TemplateNode,
    Tree,
)
from .log import parse_level
from .partials import PartialError, PartialMissing, decode_template, read_template
from .problems import Problem, Problems
from .render import GoEngine, Renderer
from .resources import TemplateResource, find_resource_files, read_resource
from .settings import Settings, load_settings
from .store import store_key
from .tomlread import key_position

if TYPE_CHECKING:
    import jinja2

    from .jinja import JinjaEngine

__all__ = ["run_validate"]

log = logging.getLogger("confpy.validate")

# Store functions whose first argument names keys, by how it names them.
_EXACT = ("get", "getv", "exists")  # one key
_PATTERN = ("gets", "getvs")  # a path.Match pattern
_DIRECTORY = ("ls", "lsdir")  # a directory
_STORE_FUNCS = frozenset(_EXACT + _PATTERN + _DIRECTORY)


class Finding(NamedTuple):
    severity: str  # "error" or "warning", as printed
    problem: Problem

    def line(self) -> str:
        return f"{self.problem.location()}: {self.severity}: {self.problem.message}"


def run_validate(given: Mapping[str, Any], out: TextIO | None = None) -> int:
    """Validate what the flags ``given`` point at; print the findings; the exit code."""
    out = sys.stdout if out is None else out
    validator = Validator()
    settings = validator.check_settings(given)
    resources = validator.check_resources(settings)
    templates = validator.check_templates(resources)
    findings = validator.findings()
    for finding in findings:
        out.write(finding.line() + "\n")
    out.flush()
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    what = f"{_count(validator.resource_files, 'resource')} and {_count(templates, 'template')} in {settings.confdir}"
    if errors:
        log.critical("Validation failed: %s and %s (%s)", _count(errors, "error"), _count(warnings, "warning"), what)
        return 1
    if warnings:
        log.warning("Validated %s: %s", what, _count(warnings, "warning"))
    else:
        log.info("Validated %s: no problems", what)
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


class Validator:
    """Collects findings over the settings, the resources and their templates."""

    def __init__(self) -> None:
        self._order: list[tuple[str, Problem]] = []  # (severity as printed, problem)
        self._files: dict[str, int] = {}  # the order files are met in, for the report
        self.resource_files = 0  # conf.d files read, loaded or not

    def visit(self, path: object) -> None:
        """``path`` is being read: its findings come after those of the files before."""
        self._files.setdefault(str(path), len(self._files))

    def findings(self) -> list[Finding]:
        """Every finding once: files in the order first met, each file's by position."""
        seen: set[str] = set()
        files = dict(self._files)
        found = []
        for severity, problem in self._order:
            finding = Finding(severity, problem)
            if finding.line() not in seen:
                seen.add(finding.line())
                files.setdefault(problem.path, len(files))
                found.append(finding)
        # Within a file by position, what has none (a missing field) after the rest.
        found.sort(key=lambda f: (files[f.problem.path], f.problem.line or sys.maxsize, f.problem.column))
        return found

    def error(self, path: object, line: int, column: int, message: str) -> None:
        """Anything a normal run stops on, fails a resource for, or warns about."""
        self._found("error", Problem(str(path), line, column, message))

    def warning(self, path: object, line: int, column: int, message: str) -> None:
        """What may fail at render time."""
        self._found("warning", Problem(str(path), line, column, message))

    def _take(self, problems: Problems) -> None:
        for problem in problems:  # a loader's, whatever their severity there
            self._found("error", problem)

    def _found(self, severity: str, problem: Problem) -> None:
        self.visit(problem.path)
        self._order.append((severity, problem))

    # -- settings ----------------------------------------------------------------------

    def check_settings(self, given: Mapping[str, Any]) -> Settings:
        problems = Problems()
        settings = load_settings(given, problems=problems)
        self._take(problems)
        try:
            parse_level(settings.log_level)
        except ValueError as exc:
            if "log-level" in given:
                self.error("-log-level", 0, 0, str(exc))
            else:
                self.error(settings.config_file, *_where_key(settings.config_file, "log-level"), str(exc))
        return settings

    # -- resources ---------------------------------------------------------------------

    def check_resources(self, settings: Settings) -> list[TemplateResource]:
        confdir = Path(settings.confdir)
        if not confdir.is_dir():
            why = "is not a directory" if confdir.exists() else "does not exist"
            self.error(confdir, 0, 0, f"confdir {why}")
            return []
        try:
            files = find_resource_files(settings.conf_d)
        except FileNotFoundError:
            self.error(settings.conf_d, 0, 0, "no such directory: the resources (*.toml) go there")
            return []
        except OSError as exc:
            self.error(settings.conf_d, 0, 0, f"cannot read: {exc.strerror}")
            return []
        if not files:
            self.error(settings.conf_d, 0, 0, "no resource (*.toml) found: nothing would be rendered")
        self.resource_files = len(files)
        resources: list[TemplateResource] = []
        template_paths: dict[str, Path] = {}
        for path in files:
            self.visit(path)
            problems = Problems()
            resource = read_resource(path, settings, template_paths, settings.conf_d, problems)
            self._take(problems)
            if resource is not None:
                resources.append(resource)
                self._check_command(resource)
        return resources

    def _check_command(self, resource: TemplateResource) -> None:
        """check_cmd is a Go template of its own (``{{.src}}``): parsed and run on a
        made-up stage path, nothing executed."""
        if not resource.check_cmd:
            return
        try:
            Template("checkcmd").parse(resource.check_cmd).execute({"src": "/stage"})
        except TemplateError as exc:
            line, column = _where_key(resource.path, "check_cmd", "template")
            self.error(resource.path, line, column, f"check_cmd: {exc}")

    # -- templates ---------------------------------------------------------------------

    def check_templates(self, resources: list[TemplateResource]) -> int:
        """Compile every resource's template and what it includes; the number of
        template files read."""
        checker = _TemplateChecker(self)
        for resource in resources:
            checker.check(resource)
        return len(checker.files)


def _where_key(path: object, key: str, table: str | None = None) -> tuple[int, int]:
    """Where ``key`` is written in the TOML file ``path`` (0, 0 if unknown)."""
    try:
        text = read_file(str(path)).decode("utf-8", "replace")
    except (OSError, ValueError):
        return 0, 0
    return key_position(text, key, table)


def _position(error: RenderError) -> tuple[object, int, int] | None:
    return getattr(error, "position", None)


class _TemplateChecker:
    """Templates of every resource, each file read once per engine; the literal keys
    they read checked against each resource that uses them."""

    def __init__(self, validator: Validator) -> None:
        self.v = validator
        self.renderer = Renderer(environ={})
        self.files: set[str] = set()
        # (engine id, real path): the keys that file and its includes read, or None
        # when it could not be compiled; filled once per engine.
        self._reads: dict[tuple[int, str], list[_KeyRead] | None] = {}

    def check(self, resource: TemplateResource) -> None:
        engine = self.renderer.engine_for(resource)
        src = resource.src
        if not src.is_file():
            line, column = _where_key(resource.path, "src", "template")
            what = "does not exist" if not src.exists() else "is not a file"
            self.v.error(resource.path, line, column, f"template {src} {what}")
            return
        real = os.path.realpath(src)
        self.files.add(real)
        chain = [(real, engine.templates_dir.display_name(src))]
        if isinstance(engine, GoEngine):
            reads = self._go_file(engine, src, src.name, chain)
        else:
            reads = self._jinja_file(engine, src, chain[0][1], chain)
        for read in reads or ():
            self._check_key(resource, read)

    # Go ------------------------------------------------------------------------------

    def _go_file(self, engine: GoEngine, path: Path, name: str, chain: _Chain) -> list[_KeyRead] | None:
        memo = (id(engine), chain[-1][0])
        if memo in self._reads:
            return self._reads[memo]
        self._reads[memo] = []  # a cycle back here finds nothing more
        self.v.visit(path)
        try:
            template = engine.load(path, name, missing=f"no such template: {path}")
        except RenderError as exc:
            self._render_error(exc, path)
            self._reads[memo] = None
            return None
        reads: list[_KeyRead] = []
        trees = template.trees()
        for tree in trees.values():
            for command, piped in _go_commands(tree.root):
                self._go_command(engine, tree, command, piped, path, chain, reads)
            for node in _go_template_calls(tree.root):
                if node.name not in trees:
                    line, column = _tree_position(tree, node.pos)
                    self.v.warning(path, line, column, f'{{{{template "{node.name}"}}}}: no template of that name is defined in this file')
        self._reads[memo] = reads
        return reads

    def _go_command(
        self,
        engine: GoEngine,
        tree: Tree,
        command: CommandNode,
        piped: StringNode | None,
        path: Path,
        chain: _Chain,
        reads: list[_KeyRead],
    ) -> None:
        head = command.args[0] if command.args else None
        if not isinstance(head, IdentifierNode):
            return
        argument = command.args[1] if len(command.args) > 1 else piped if len(command.args) == 1 else None
        if not isinstance(argument, StringNode):
            return
        line, column = _tree_position(tree, argument.pos)
        if head.ident in _STORE_FUNCS:
            reads.append(_KeyRead(head.ident, argument.text, str(path), line, column))
        elif head.ident == "include":
            found = self._include(engine, argument.text, path, line, column, chain)
            if found is not None:
                reads.extend(self._go_file(engine, found[1], argument.text, [*chain, (found[0], argument.text)]) or ())

    def _include(
        self, engine: GoEngine | JinjaEngine, name: str, path: Path, line: int, column: int, chain: _Chain
    ) -> tuple[str, Path] | None:
        """The real path of an included file and the path to read and name it by (under
        the templates directory, as given), or None after reporting why there is none."""
        try:
            real = engine.templates_dir.resolve(name, 0)
        except PartialError as exc:
            self.v.error(path, line, column, str(exc))
            return None
        if any(real == entry for entry, _ in chain):
            names = " -> ".join(entry_name for _, entry_name in chain)
            self.v.error(path, line, column, f"include cycle: {names} -> {name}")
            return None
        self.files.add(real)
        return real, engine.templates_dir.root / name

    def _render_error(self, exc: RenderError, path: Path) -> None:
        position = _position(exc)
        if position is not None:
            where, line, column = position
            self.v.error(where, line, column, exc.detail or str(exc))
        else:
            self.v.error(path, 0, 0, str(exc))

    # Jinja2 --------------------------------------------------------------------------

    def _jinja_file(self, engine: JinjaEngine, path: Path, name: str, chain: _Chain) -> list[_KeyRead] | None:
        import jinja2

        memo = (id(engine), chain[-1][0])
        if memo in self._reads:
            return self._reads[memo]
        self._reads[memo] = []
        self.v.visit(path)
        try:
            if len(chain) == 1:
                engine.load(path)
            _, data = read_template(path, missing=f"no such template: {path}")
            source = decode_template(path, name, data)
            env = engine.environment
            ast = env.parse(source, name, str(path))
            env.compile(ast, name, str(path))
        except RenderError as exc:
            self._render_error(exc, path)
            self._reads[memo] = None
            return None
        except jinja2.TemplateSyntaxError as exc:
            self._render_error(engine.syntax_error(exc, path, name, source), path)
            self._reads[memo] = None
            return None
        reads = self._jinja_tree(engine, ast, path, chain)
        self._reads[memo] = reads
        return reads

    def _jinja_tree(self, engine: JinjaEngine, ast: jinja2.nodes.Template, path: Path, chain: _Chain) -> list[_KeyRead]:
        from jinja2 import meta, nodes

        reads: list[_KeyRead] = []
        for call in ast.find_all(nodes.Call):
            function = call.node
            if isinstance(function, nodes.Name) and function.name in _STORE_FUNCS and call.args:
                argument = call.args[0]
                if isinstance(argument, nodes.Const) and isinstance(argument.value, str):
                    reads.append(_KeyRead(function.name, argument.value, str(path), argument.lineno, 0))
        for node in ast.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
            name = self._jinja_include_name(engine, node)
            if name is None:
                continue
            found = self._include(engine, name, path, node.lineno, 0, chain)
            if found is not None:
                reads.extend(self._jinja_file(engine, found[1], name, [*chain, (found[0], name)]) or ())
        if len(chain) == 1:  # a partial sees its includer's variables: only the top is alone
            defined = set(engine.environment.globals)
            for name in sorted(meta.find_undeclared_variables(ast) - defined):
                line = next((n.lineno for n in ast.find_all(nodes.Name) if n.name == name and n.ctx == "load"), 0)
                self.v.warning(path, line, 0, f"{name!r} is not defined: rendering fails where it is used")
        return reads

    @staticmethod
    def _jinja_include_name(engine: JinjaEngine, node: Any) -> str | None:
        """The constant name an include, import or extends loads (of a list, the first
        that exists, as Jinja2 picks it); None when there is none to follow."""
        from jinja2 import nodes

        items = node.template.items if isinstance(node.template, (nodes.List, nodes.Tuple)) else [node.template]
        names = [i.value for i in items if isinstance(i, nodes.Const) and isinstance(i.value, str)]
        if len(names) != len(items) or not names:
            return None  # computed at render time
        for name in names:
            try:
                engine.templates_dir.resolve(name, 0)
            except PartialMissing:
                continue
            except PartialError:
                return name  # outside the directory: reported when followed
            return name
        return None if getattr(node, "ignore_missing", False) else names[0]

    # keys ----------------------------------------------------------------------------

    def _check_key(self, resource: TemplateResource, read: _KeyRead) -> None:
        wanted = [store_key(key, resource.prefix) for key in resource.keys]
        if _covered(read, wanted):
            return
        keys = ", ".join(wanted) if wanted else "none"
        self.v.warning(
            read.path, read.line, read.column,
            f'{read.function} "{read.key}": no key of resource {resource.label} covers it '
            f"(its keys: {keys}), so the template never sees it",
        )  # fmt: skip


_Chain = list[tuple[str, str]]  # the files an include is inside: (real path, name), outermost first


class _KeyRead(NamedTuple):
    function: str
    key: str  # as the template sees keys: relative to the resource's prefix
    path: str
    line: int
    column: int


def _covered(read: _KeyRead, wanted: list[str]) -> bool:
    """Whether a key the template reads can be among the resource's (relative) keys.
    Generous where backends differ: a key is under another if it starts with it."""
    if read.function in _EXACT:
        return any(read.key.startswith(key) for key in wanted)
    if read.function in _PATTERN:
        literal = read.key
        for i, char in enumerate(literal):
            if char in "*?[\\":
                literal = literal[:i]
                break
    else:
        literal = read.key
    return any(key.startswith(literal) or literal.startswith(key) for key in wanted)


def _tree_position(tree: Tree, pos: int) -> tuple[int, int]:
    """1-based line and character column of an offset into a Go template's text."""
    before = tree.text[:pos]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def _go_commands(node: Node | None) -> Iterator[tuple[CommandNode, StringNode | None]]:
    """Every command of a Go template tree, with the string piped into it if the stage
    before it is a lone string constant (``{{"/k" | getv}}``)."""
    for pipe in _go_pipes(node):
        previous: CommandNode | None = None
        for command in pipe.cmds:
            piped = None
            if previous is not None and len(previous.args) == 1 and isinstance(previous.args[0], StringNode):
                piped = previous.args[0]
            yield command, piped
            previous = command


def _go_pipes(node: Node | None) -> Iterator[PipeNode]:
    if node is None:
        return
    if isinstance(node, ListNode):
        for child in node.nodes:
            yield from _go_pipes(child)
    elif isinstance(node, (ActionNode, TemplateNode)):
        yield from _go_pipes(node.pipe)
    elif isinstance(node, BranchNode):
        yield from _go_pipes(node.pipe)
        yield from _go_pipes(node.list)
        yield from _go_pipes(node.else_list)
    elif isinstance(node, PipeNode):
        yield node
        for command in node.cmds:
            for argument in command.args:
                yield from _go_pipes(argument)
    elif isinstance(node, ChainNode):
        yield from _go_pipes(node.node)


def _go_template_calls(node: Node | None) -> Iterator[TemplateNode]:
    if isinstance(node, ListNode):
        for child in node.nodes:
            yield from _go_template_calls(child)
    elif isinstance(node, BranchNode):
        yield from _go_template_calls(node.list)
        yield from _go_template_calls(node.else_list)
    elif isinstance(node, TemplateNode):
        yield node
