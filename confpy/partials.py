"""Includes, for both engines: names resolved inside the templates directory only, and the
chain of files one render is inside, so that a cycle is an error naming it.

A name is a relative path under the templates directory (``partials/upstream.tmpl``):
an absolute path, a ``..`` component or a symlink leading out of the directory is
refused. Each name is resolved and each file's stamp read once per render (a render
pass), so a template that includes a partial in a loop of a thousand does not make a
thousand system calls, and a partial edited between two renders is seen by the next.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import RenderError
from .fileio import read_file
from .golang.strconv import quote

__all__ = [
    "PartialError",
    "PartialMissing",
    "RenderPass",
    "Stamp",
    "TemplateDir",
    "decode_template",
    "file_stamp",
    "read_template",
]

Stamp = tuple[int, int, int]  # mtime_ns, size, inode: a file changed if any differs


class PartialError(Exception):
    """An include that cannot be done: outside the templates directory, missing,
    unreadable, or a cycle. ``str()`` is the whole message."""


class PartialMissing(PartialError):
    """The included file does not exist (what Jinja2's ``ignore missing`` skips)."""


def file_stamp(path: str | Path) -> Stamp:
    st = os.stat(path)
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def read_template(path: Path, *, missing: str) -> tuple[Stamp, bytes]:
    """A template file's stamp and bytes; RenderError (``missing`` if it does not exist)."""
    try:
        stamp = file_stamp(path)
        return stamp, read_file(path)
    except FileNotFoundError:
        raise RenderError(missing) from None
    except OSError as exc:
        raise RenderError(f"Cannot read template {path}: {exc.strerror}") from None


def decode_template(path: Path, name: str, data: bytes) -> str:
    """Template text must be UTF-8: RenderError saying where it is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1)
        detail = f"invalid UTF-8 byte 0x{data[exc.start]:02x}: template text must be UTF-8"
        error = RenderError(f"Unable to process template {path}, template: {name}:{line}:{column}: {detail}")
        error.detail = detail
        error.position = (path, line, len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1)
        raise error from None


class TemplateDir:
    """A templates directory as includes see it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._real_root: str | None = None
        self._resolved: dict[str, tuple[int, str]] = {}  # name: (pass number, real path)
        self._display_names: dict[Path, str] = {}

    def resolve(self, name: str, generation: int) -> str:
        """The real path of the file ``name`` names; PartialError if it is outside the
        directory or missing. Resolved once per render pass (``generation``)."""
        memo = self._resolved.get(name)
        if memo is not None and memo[0] == generation:
            return memo[1]
        real = self._resolve(name)
        self._resolved[name] = (generation, real)
        return real

    def _resolve(self, name: str) -> str:
        if not name:
            raise PartialError("include of an empty template name")
        if name.startswith("/"):
            raise PartialError(f"include {quote(name)}: an absolute path; name a file under {self.root}")
        if ".." in name.split("/"):
            raise PartialError(f"include {quote(name)}: '..' leads out of the templates directory {self.root}")
        if self._real_root is None:
            self._real_root = os.path.realpath(self.root)
        real = os.path.realpath(os.path.join(self.root, name))
        if not real.startswith(self._real_root + os.sep):
            raise PartialError(f"include {quote(name)}: a symlink leads out of the templates directory {self.root}")
        if not os.path.isfile(real):
            if os.path.exists(real):
                raise PartialError(f"include {quote(name)}: not a file in {self.root}")
            raise PartialMissing(f"include {quote(name)}: no such template in {self.root}")
        return real

    def display_name(self, path: Path) -> str:
        """How a top template is named in an include chain: its path under the
        templates directory, or its base name when it is elsewhere (kept: every render
        asks, and Path.relative_to is slow)."""
        name = self._display_names.get(path)
        if name is None:
            try:
                name = path.relative_to(self.root).as_posix()
            except ValueError:
                name = path.name
            self._display_names[path] = name
        return name


class RenderPass:
    """What one render shares with the includes it makes: a number, so each file is
    checked once per render, and the chain of files being rendered, outermost first."""

    def __init__(self) -> None:
        self.generation = 0
        self._chain: list[tuple[str | None, str]] = []  # (real path, name)
        self._top = ""

    def begin(self, top: Path, name: str) -> None:
        """A new render of the template file ``top``."""
        self.generation += 1
        self._top = str(top)
        self._chain = [(None, name)]  # the top's real path only once something is included

    def enter(self, real: str, name: str) -> None:
        """Start rendering the included file ``real``; PartialError if it is already
        being rendered (a cycle), naming the chain."""
        if self._chain and self._chain[0][0] is None:
            self._chain[0] = (os.path.realpath(self._top), self._chain[0][1])
        if any(path == real for path, _ in self._chain):
            names = " -> ".join(entry_name for _, entry_name in self._chain)
            raise PartialError(f"include cycle: {names} -> {name}")
        self._chain.append((real, name))

    def leave(self) -> None:
        self._chain.pop()
