"""Rendering a resource's template over its store view, with confd's function map.

Templates are parsed and compiled once and kept while their file is unchanged (same
mtime, size and inode). Their store functions read the snapshot through a ``StoreSlot``
that is pointed at each resource's view just before execution, so a cached template
serves every cycle. Errors read as confd's: ``Missing template: <path>``,
``Unable to process template <path>, <Go parse error>``, and Go's execution error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from .errors import RenderError
from .fileio import read_file
from .funcs import confd_funcs
from .gotemplate import StringList, Template, TemplateError, TemplateSyntaxError
from .resources import TemplateResource
from .store import KVPair, KVPairs, KVStore

__all__ = ["Renderer", "StoreSlot"]


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


class _Compiled(NamedTuple):
    stamp: tuple[int, int, int]  # mtime_ns, size, inode of the file compiled
    template: Template
    slot: StoreSlot


class Renderer:
    """Renders resources; one per process, caching compiled templates by file."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ
        self._cache: dict[Path, _Compiled] = {}

    def render(self, resource: TemplateResource, store: KVStore) -> bytes:
        compiled = self._compiled(resource.src)
        compiled.slot.store = store
        try:
            # confd executes with nil data: {{.}} prints <no value>.
            text = compiled.template.execute(None)
        except TemplateError as exc:
            raise RenderError(str(exc)) from None
        finally:
            compiled.slot.store = KVStore()
        return text.encode("utf-8", "surrogateescape")

    def _compiled(self, src: Path) -> _Compiled:
        try:
            st = os.stat(src)
        except FileNotFoundError:
            raise RenderError(f"Missing template: {src}") from None
        except OSError as exc:
            raise RenderError(f"Cannot read template {src}: {exc.strerror}") from None
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = self._cache.get(src)
        if cached is not None and cached.stamp == stamp:
            return cached
        try:
            data = read_file(src)
        except OSError as exc:
            raise RenderError(f"Cannot read template {src}: {exc.strerror}") from None
        slot = StoreSlot()
        template = Template(src.name, funcs=confd_funcs(slot, environ=self._environ))  # type: ignore[arg-type]
        try:
            template.parse(data)
        except TemplateSyntaxError as exc:
            raise RenderError(
                f"Unable to process template {src}, {exc} (line {exc.line}, column {exc.column})"
            ) from None
        compiled = _Compiled(stamp, template, slot)
        self._cache[src] = compiled
        return compiled
