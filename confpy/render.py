"""Rendering a resource's template over its store view, with confd's function map.

Each resource names its engine (Go's text/template, or Jinja2 from ``confpy.jinja``,
imported only when a resource uses it), its delimiters and its function set; the
renderer keeps one engine per such combination. Templates are parsed and compiled once
and kept while their file is unchanged (same mtime, size and inode); an included file is
checked once per render too, so an edited partial is seen by the next render of every
template that includes it. Store functions read the snapshot through a ``StoreSlot``
pointed at each resource's view just before execution, so a compiled template serves
every cycle. Errors read as confd's: ``Missing template: <path>``, ``Unable to process
template <path>, <Go parse error>``, and Go's execution error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import RenderError
from .funcs import confd_funcs
from .golang.strconv import quote
from .gotemplate import StringList, Template, TemplateError, TemplateSyntaxError
from .partials import PartialError, RenderPass, Stamp, TemplateDir, file_stamp, read_template
from .plan import missing_key_note
from .resources import TemplateResource
from .store import KeyNotFound, KVPair, KVPairs, KVStore

if TYPE_CHECKING:  # no Protocol class at import: -onetime's start-up pays for every class
    from .jinja import JinjaEngine

__all__ = ["GoEngine", "Renderer", "StoreSlot", "char_column", "syntax_error"]


class StoreSlot:
    """memkv's functions over whichever snapshot ``store`` currently is."""

    def __init__(self) -> None:
        self.store = KVStore()

    # Same names and Go-typed signatures as KVStore's, which the engine checks.
    def get(self, key: str) -> KVPair:
        return self.store.get(key)

    def gets(self, pattern: str) -> KVPairs:
        return self.store.gets(pattern)

    def getv(self, key: str, *v: str) -> str:
        return self.store.getv(key, *v)

    def getvs(self, pattern: str) -> StringList:
        return self.store.getvs(pattern)

    def exists(self, key: str) -> bool:
        return self.store.exists(key)

    def ls(self, path: str) -> StringList:
        return self.store.ls(path)

    def lsdir(self, path: str) -> StringList:
        return self.store.lsdir(path)


class _EngineKey(NamedTuple):
    engine: str
    template_dir: Path
    delims: tuple[str, str]
    extended: bool


class Renderer:
    """Renders resources; one per process, caching compiled templates by file."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ
        self._slot = StoreSlot()
        self._pass = RenderPass()
        self._engines: dict[_EngineKey, GoEngine | JinjaEngine] = {}
        self._funcs: dict[bool, dict[str, Callable[..., Any]]] = {}

    def render(self, resource: TemplateResource, store: KVStore) -> bytes:
        engine = self._engine(resource)
        self._slot.store = store
        try:
            text = engine.render(resource)
        finally:
            self._slot.store = KVStore()
        return text.encode("utf-8", "surrogateescape")

    def engine_for(self, resource: TemplateResource) -> GoEngine | JinjaEngine:
        """The engine that renders ``resource`` (``-validate`` compiles through it)."""
        return self._engine(resource)

    def _engine(self, resource: TemplateResource) -> GoEngine | JinjaEngine:
        key = _EngineKey(resource.engine, resource.templates_root, resource.delims, resource.extended_funcs)
        engine = self._engines.get(key)
        if engine is None:
            template_dir = TemplateDir(key.template_dir)
            funcs = self._function_map(key.extended)
            if key.engine == "jinja2":
                from .jinja import JinjaEngine  # jinja2 only for a resource that uses it

                engine = JinjaEngine(template_dir, key.delims, funcs, self._pass)
            else:
                engine = GoEngine(template_dir, key.delims, funcs, self._pass)
            self._engines[key] = engine
        return engine

    def _function_map(self, extended: bool) -> dict[str, Callable[..., Any]]:
        funcs = self._funcs.get(extended)
        if funcs is None:
            funcs = confd_funcs(self._slot, environ=self._environ)
            if extended:
                from .extfuncs import extended_funcs

                funcs.update(extended_funcs())
            self._funcs[extended] = funcs
        return funcs


def syntax_error(path: Path, exc: TemplateSyntaxError, data: bytes, delims: tuple[str, str]) -> RenderError:
    """confd's ``Unable to process template <path>, <Go's error>``, then where, as an
    editor counts (1-based line and column, in characters): ``(line 4, column 1)``, and
    for an end of text inside a control, where that control started:
    ``(line 4, column 1; the {{if}} at line 2, column 3 has no {{end}})``."""
    if not exc.line:  # about the whole template (nested too deeply to compile)
        return RenderError(f"Unable to process template {path}, {exc}")
    left, right = delims
    column = char_column(data, exc.line, exc.column)
    unclosed = ""
    if exc.opened is not None:
        keyword, line, opened_at = exc.opened
        unclosed = (
            f"the {left}{keyword}{right} at line {line}, column {char_column(data, line, opened_at)}"
            f" has no {left}end{right}"
        )
    where = f"line {exc.line}, column {column}" + (f"; {unclosed}" if unclosed else "")
    error = RenderError(f"Unable to process template {path}, {exc} ({where})")
    error.position = (path, exc.line, column)
    # Go's message without its "template: NAME:LINE: " (the position says it).
    detail = exc.message.split(": ", 2)[-1] if exc.message.startswith("template: ") else exc.message
    error.detail = detail + (f" ({unclosed})" if unclosed else "")
    return error


def char_column(data: bytes, line: int, byte_column: int) -> int:
    """The 1-based character column of a 0-based byte column (Go's) on ``line``."""
    lines = data.split(b"\n", line)
    text = lines[line - 1] if 0 < line <= len(lines) else b""
    return len(text[:byte_column].decode("utf-8", "replace")) + 1


class _PartialFailed(Exception):
    """An included template failed: carries the innermost error's text up through the
    includes around it (each would otherwise add its own ``error calling include``),
    and the missing key that made it fail, if that is what did."""

    def __init__(self, message: str, missing: KeyNotFound | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing


class _Compiled:
    __slots__ = ("checked", "stamp", "template")

    def __init__(self, stamp: Stamp, template: Template, checked: int) -> None:
        self.stamp = stamp
        self.template = template
        self.checked = checked  # the render pass that last found the file unchanged


class GoEngine:
    """Go templates of one templates directory, delimiter pair and function set."""

    def __init__(
        self,
        template_dir: TemplateDir,
        delims: tuple[str, str],
        funcs: Mapping[str, Callable[..., Any]],
        render_pass: RenderPass,
    ) -> None:
        self._dir = template_dir
        self._delims = delims
        self._funcs = {**funcs, "include": self._include}
        self._pass = render_pass
        self._cache: dict[tuple[Path, str], _Compiled] = {}  # by file and template name

    def render(self, resource: TemplateResource) -> str:
        src = resource.src
        self._pass.begin(src, self._dir.display_name(src))
        template = self._template(src, src.name, missing=f"Missing template: {src}")
        try:
            # confd executes with nil data: {{.}} prints <no value>.
            return template.execute(None)
        except TemplateError as exc:
            failed = exc.__cause__
            if isinstance(failed, _PartialFailed):
                message, missing = failed.message, failed.missing
            else:
                message, missing = str(exc), failed if isinstance(failed, KeyNotFound) else None
            if missing is not None:
                message += missing_key_note(resource, missing.key)
            raise RenderError(message) from None

    @property
    def templates_dir(self) -> TemplateDir:
        return self._dir

    @property
    def delims(self) -> tuple[str, str]:
        return self._delims

    def load(self, path: Path, name: str, *, missing: str) -> Template:
        """The compiled template of ``path`` (RenderError if it cannot be read or parsed)."""
        return self._template(path, name, missing=missing)

    def _template(self, path: Path, name: str, *, missing: str) -> Template:
        """The compiled template of ``path``, from the cache while the file is unchanged."""
        generation = self._pass.generation
        cached = self._cache.get((path, name))
        if cached is not None and cached.checked == generation:
            return cached.template
        try:
            stamp = file_stamp(path)
        except FileNotFoundError:
            raise RenderError(missing) from None
        except OSError as exc:
            raise RenderError(f"Cannot read template {path}: {exc.strerror}") from None
        if cached is not None and cached.stamp == stamp:
            cached.checked = generation
            return cached.template
        stamp, data = read_template(path, missing=missing)
        template = Template(name, funcs=self._funcs, delims=self._delims)
        try:
            template.parse(data)
        except TemplateSyntaxError as exc:
            raise syntax_error(path, exc, data, self._delims) from None
        self._cache[(path, name)] = _Compiled(stamp, template, generation)
        return template

    def _include(self, name: str, *data: Any) -> str:
        """``{{include "partials/x.tmpl" .}}``: that file rendered with the data given
        (none: nil, as ``{{template "x"}}``), with this template's delimiters and functions."""
        if len(data) > 1:
            raise PartialError(f"include {quote(name)}: one data argument at most, got {len(data)}")
        real = self._dir.resolve(name, self._pass.generation)
        try:
            template = self._template(Path(real), name, missing=f"include {quote(name)}: no such template in {self._dir.root}")
        except RenderError as exc:
            raise _PartialFailed(str(exc)) from None
        self._pass.enter(real, name)
        try:
            return template.execute(data[0] if data else None)
        except TemplateError as exc:
            failed = exc.__cause__
            if isinstance(failed, _PartialFailed):
                raise failed from None
            raise _PartialFailed(str(exc), failed if isinstance(failed, KeyNotFound) else None) from None
        finally:
            self._pass.leave()
