"""Jinja2, the second engine: confd's function map over the same store view, in a sandbox.

Every function of the map is a global (``{{ getv("/nginx/nginx") }}``,
``{% for s in gets("/nginx-80/*") %}{{ s.Key }}``), and the string helpers are filters
too (``{{ "/a/b" | base }}``). A Jinja2 filter receives its subject first; confd's
helpers already take it first, sprig's (the extended set) take it last, made for Go's
pipelines, so their filters move it there: ``{{ s | trimPrefix("/") }}`` is
``trimPrefix("/", s)``, ``{{ s | regexReplaceAll("a+", "b") }}`` is
``regexReplaceAll("a+", s, "b")``. A filter Jinja2 already has (``default``, ``indent``, ``join``,
``replace``, ``reverse``, ``list``) keeps Jinja2's meaning.

As for Go templates: an undefined name fails (StrictUndefined), nothing is escaped,
the file's bytes come out as written (the last newline kept), a Go value prints as Go
prints it (a time, a month; a whole float as an integer), and an error names the
template file and line. The sandbox keeps templates away from Python's internals
(``''.__class__``, a function's ``__globals__``). ``{% include %}``, ``{% import %}`` and
``{% extends %}`` load files of the templates directory through ``confpy.partials``:
nothing outside it, each file checked for edits once per render, and a cycle named.
Delimiters apply to variables (``<< getv("/k") >>``); blocks stay ``{% %}`` and
comments ``{# #}``.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import CodeType
from typing import Any

import jinja2
import jinja2.sandbox

from .errors import RenderError
from .golang.strconv import quote
from .partials import (
    PartialError,
    PartialMissing,
    RenderPass,
    Stamp,
    TemplateDir,
    decode_template,
    file_stamp,
    read_template,
)
from .plan import missing_key_note
from .resources import TemplateResource
from .store import KeyNotFound

__all__ = ["JinjaEngine", "make_environment"]

# Filters made from the function map, by where each takes its subject (the piped value):
# confd's helpers first, sprig's last (regexReplaceAll: the string between the pattern
# and the replacement).
_SUBJECT_FIRST = (
    "base", "dir", "split", "contains", "trimSuffix", "toUpper", "toLower", "base64Encode",
    "base64Decode", "json", "jsonArray", "parseBool", "atoi", "sortByLength", "sortKVByLength",
    # extended
    "trimSpace", "toJson", "fromJson", "sha256sum", "splitHostPort", "hasKey",
)  # fmt: skip
_SUBJECT_AT = {"trimPrefix": -1, "nindent": -1, "regexMatch": -1, "ternary": -1, "regexReplaceAll": 1}


class _Template(jinja2.Template):
    def _get_default_module(self, ctx: Any = None) -> Any:
        # Jinja2 keeps a template's module (what {% import %} and an {% include %}
        # "without context" render) for the template's whole life. The store changes
        # from one render to the next, so the module is made anew each time.
        return self.make_module()


# What an operator may build: Jinja2's sandbox keeps templates from Python's internals,
# not from a result too big to make ({{ 10 ** 10 ** 10 }} would never end).
_MAX_POWER_BITS = 100_000
_MAX_REPEAT = 10_000_000  # items or characters of "x" * n
_BIG_FORMAT = re.compile(r"%[^a-zA-Z%]*?(?:[0-9]{7}|\*)")  # a width or precision of a million or more


def _bounded(operator: str, left: Any, right: Any) -> None:
    """SecurityError when ``left <operator> right`` would be too big to compute."""
    if operator == "**" and type(left) is int and type(right) is int and right > 0 and abs(left) > 1:
        if right * abs(left).bit_length() > _MAX_POWER_BITS:
            raise jinja2.exceptions.SecurityError(f"{left} ** {right} is too large a number")
    elif operator == "*":
        for sequence, times in ((left, right), (right, left)):
            if isinstance(sequence, (str, list, tuple)) and type(times) is int and len(sequence) * times > _MAX_REPEAT:
                raise jinja2.exceptions.SecurityError(f"repeating {len(sequence)} items {times} times is too large")
    elif operator == "%" and isinstance(left, str) and _BIG_FORMAT.search(left):
        raise jinja2.exceptions.SecurityError("a %-format width or precision of a million or more is too large")


class _Environment(jinja2.sandbox.SandboxedEnvironment):
    template_class = _Template
    intercepted_binops = frozenset({"**", "*", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _bounded(operator, left, right)
        return super().call_binop(context, operator, left, right)


class _Loader(jinja2.BaseLoader):
    """Files of the templates directory, by their path under it."""

    def __init__(self, template_dir: TemplateDir, render_pass: RenderPass, names: dict[str, str]) -> None:
        self._dir = template_dir
        self._pass = render_pass
        self._names = names  # file name: template name, for errors

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        generation = self._pass.generation
        try:
            real = self._dir.resolve(template, generation)
        except PartialMissing as exc:
            raise jinja2.TemplateNotFound(template, str(exc)) from None
        path = Path(real)
        stamp, data = read_template(path, missing=f"include {quote(template)}: no such template in {self._dir.root}")
        source = decode_template(path, template, data)
        self._names[real] = template
        checked = [generation]

        def uptodate() -> bool:
            # Asked at every get_template: answered from the file once per render.
            now = self._pass.generation
            if checked[0] == now:
                return True
            checked[0] = now
            return self._unchanged(template, real, stamp, now)

        return source, real, uptodate

    def _unchanged(self, name: str, real: str, stamp: Stamp, generation: int) -> bool:
        try:
            return self._dir.resolve(name, generation) == real and file_stamp(real) == stamp
        except (PartialError, OSError):
            return False

    def load(self, environment: jinja2.Environment, name: str, globals: Any = None) -> jinja2.Template:
        template = super().load(environment, name, globals)
        template.root_render_func = _in_chain(template.root_render_func, template.filename or name, name, self._pass)
        return template


def _in_chain(
    root: Callable[[Any], Iterator[str]], real: str, name: str, render_pass: RenderPass
) -> Callable[[Any], Iterator[str]]:
    """The template's render function, entering the include chain while it runs (every
    include, import and extends goes through it)."""

    def render(context: Any) -> Iterator[str]:
        render_pass.enter(real, name)
        try:
            yield from root(context)
        finally:
            render_pass.leave()

    return render


# Tags a Jinja2 block opens and an end tag closes ("set" only without "=").
_BLOCK_TAGS = frozenset({"for", "if", "macro", "call", "filter", "block", "with", "autoescape", "set"})


def _open_block(env: jinja2.Environment, source: str | None, exc: jinja2.TemplateSyntaxError) -> tuple[str, int] | None:
    """The block Jinja2 says "needs to be closed", with the line it opened on: the
    last one of that keyword still open where the error is (Jinja2 gives no line)."""
    named = re.search(r"The innermost block that needs to be closed is '(\w+)'", exc.message or "")
    if named is None or source is None:
        return None
    stop = re.match(r"Encountered unknown tag '(\w+)'", exc.message or "")
    try:
        tokens = [t for t in env.lex(source) if t[1] != "whitespace"]
    except jinja2.TemplateSyntaxError:
        return None
    stack: list[tuple[str, int]] = []
    for i, (_, kind, _) in enumerate(tokens[:-1]):
        line, next_kind, tag = tokens[i + 1]
        if kind != "block_begin" or next_kind != "name":
            continue
        if stop is not None and tag == stop.group(1) and line == exc.lineno:
            break
        if tag == "set" and _is_assignment(tokens, i + 2):
            continue
        if tag in _BLOCK_TAGS:
            stack.append((tag, line))
        elif tag.startswith("end") and tag[3:] in _BLOCK_TAGS:
            for k in range(len(stack) - 1, -1, -1):
                if stack[k][0] == tag[3:]:
                    del stack[k:]
                    break
    for entry in reversed(stack):
        if entry[0] == named.group(1):
            return entry
    return None


def _is_assignment(tokens: list[tuple[int, str, str]], start: int) -> bool:
    """Whether the tag whose arguments start at ``start`` has ``=`` before its end."""
    for _, kind, value in tokens[start:]:
        if kind == "block_end":
            return False
        if kind == "operator" and value == "=":
            return True
    return False


def _plain(exc: BaseException) -> str:
    """An exception's message, Python's int-conversion limit said plainly."""
    message = str(exc) or type(exc).__name__
    if "integer string conversion" in message:
        return "an integer of more than 4300 digits cannot be read or printed"
    return message


def _finalize(value: Any) -> Any:
    """What ``{{ }}`` prints: a Go value with a String method (a time, a month) as Go
    prints it, and a whole float as an integer (JSON numbers are floats: a port read
    with ``json`` prints 8080, not 8080.0); anything else as Jinja2 does."""
    kind = type(value)
    if kind is str or kind is int:
        return value
    if kind is float:
        return int(value) if value.is_integer() and abs(value) < 1e21 else value
    return value.String() if hasattr(kind, "String") else value


def make_environment(
    delims: tuple[str, str] = ("{{", "}}"), loader: jinja2.BaseLoader | None = None
) -> jinja2.Environment:
    """A sandboxed environment with confpy's options (no function map)."""
    return _Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        variable_start_string=delims[0],
        variable_end_string=delims[1],
        auto_reload=True,
        finalize=_finalize,
    )


def _filter(fn: Callable[..., Any], at: int) -> Callable[..., Any]:
    """A filter calling ``fn`` with its subject at ``at`` among the arguments."""

    def moved(subject: Any, *args: Any) -> Any:
        position = len(args) + 1 + at if at < 0 else at
        return fn(*args[:position], subject, *args[position:])

    return moved


def _code(fn: Any) -> CodeType | None:
    return getattr(getattr(fn, "__func__", fn), "__code__", None)


class JinjaEngine:
    """Jinja2 templates of one templates directory, delimiter pair and function set."""

    def __init__(
        self,
        template_dir: TemplateDir,
        delims: tuple[str, str],
        funcs: Mapping[str, Callable[..., Any]],
        render_pass: RenderPass,
    ) -> None:
        self._dir = template_dir
        self._pass = render_pass
        self._names: dict[str, str] = {}  # file name of each compiled template: its name
        self._env = make_environment(delims, _Loader(template_dir, render_pass, self._names))
        self._env.globals.update(funcs)
        if "dict" in funcs:  # sprig's dict("k", v, ...); Jinja2's dict(k=v) still works
            sprig_dict = funcs["dict"]
            self._env.globals["dict"] = lambda *pairs, **named: {**sprig_dict(*pairs), **named}
        filters = {name: funcs[name] for name in _SUBJECT_FIRST if name in funcs}
        filters.update({name: _filter(funcs[name], at) for name, at in _SUBJECT_AT.items() if name in funcs})
        for name, fn in filters.items():
            self._env.filters.setdefault(name, fn)
        # To name the function that failed: each one's code (a filter: the function's).
        self._calls: dict[CodeType, str] = {}
        for name, fn in funcs.items():
            code = _code(fn)
            if code is not None:
                self._calls.setdefault(code, name)
        self._cache: dict[Path, tuple[Stamp, jinja2.Template]] = {}

    @property
    def environment(self) -> jinja2.Environment:
        return self._env

    @property
    def templates_dir(self) -> TemplateDir:
        return self._dir

    def load(self, src: Path) -> jinja2.Template:
        """The compiled template of ``src`` (RenderError if it cannot be read or parsed)."""
        return self._template(src, self._dir.display_name(src))

    def render(self, resource: TemplateResource) -> str:
        src = resource.src
        name = self._dir.display_name(src)
        self._pass.begin(src, name)
        template = self._template(src, name)
        try:
            return template.render()
        except jinja2.TemplateSyntaxError as exc:  # in an included file
            raise self.syntax_error(exc, Path(exc.filename or exc.name or src), exc.name or name) from None
        except RenderError:
            raise
        except Exception as exc:  # anything a template or a function raised: one line, no traceback
            message = self._describe(exc)
            if isinstance(exc, KeyNotFound):
                message += missing_key_note(resource, exc.key)
            raise RenderError(message) from None

    def _template(self, src: Path, name: str) -> jinja2.Template:
        cached = self._cache.get(src)
        if cached is not None:
            try:
                if file_stamp(src) == cached[0]:
                    return cached[1]
            except OSError:
                pass
        stamp, data = read_template(src, missing=f"Missing template: {src}")
        source = decode_template(src, name, data)
        try:
            code = self._env.compile(source, name, str(src))
        except jinja2.TemplateSyntaxError as exc:
            raise self.syntax_error(exc, src, name, source) from None
        except (ValueError, SyntaxError, RecursionError, MemoryError) as exc:
            # A literal Python will not convert (an integer of 5,000 digits), or nesting
            # beyond Python's limits: Jinja2 lets these through as they are.
            reason = "nested too deeply" if isinstance(exc, (RecursionError, SyntaxError)) else _plain(exc)
            raise RenderError(f"Unable to process template {src}, template: {name}: {reason}") from None
        template = self._env.template_class.from_code(self._env, code, self._env.make_globals(None))
        self._names[str(src)] = name
        self._cache[src] = (stamp, template)
        return template

    def syntax_error(
        self, exc: jinja2.TemplateSyntaxError, path: Path, name: str, source: str | None = None
    ) -> RenderError:
        """``Unable to process template <path>, template: NAME:LINE: <Jinja's message>``;
        for a block left open, where it started (Jinja names only its keyword)."""
        detail = str(exc.message)
        opened = _open_block(self._env, source if source is not None else exc.source, exc)
        if opened is not None:
            keyword, line = opened
            detail += f" (the {{% {keyword} %}} at line {line} has no {{% end{keyword} %}})"
        error = RenderError(f"Unable to process template {path}, template: {name}:{exc.lineno}: {detail}")
        error.position = (path, exc.lineno or 0, 0)
        error.detail = detail
        return error

    def _describe(self, exc: Exception) -> str:
        """``template: NAME:LINE: [error calling FUNC: ]message``, from the innermost
        template line in the traceback and the function called from it."""
        where, function = "", ""
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            template = self._names.get(frame.f_code.co_filename)
            if template is not None:
                where, function = f"{template}:{lineno}", ""
            elif where and not function:
                function = self._calls.get(frame.f_code, "")
        message = _plain(exc)
        if isinstance(exc, RecursionError):
            message = "maximum recursion depth exceeded"
        if function:
            message = f"error calling {function}: {message}"
        return f"template: {where}: {message}" if where else f"template: {message}"
