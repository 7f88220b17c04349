"""``-diff``: what a change does to a dest, in ``diff -u``'s format.

A content change is a unified diff with three lines of context, headed ``--- <dest>`` and
``+++ <dest>``; a dest that does not exist yet is ``--- /dev/null`` (as ``diff -N`` and
git show a new file), and it gets no mode or owner line. A last line without its newline
is marked ``\\ No newline at end of file``. Content that is not UTF-8 text, or holds a NUL
byte, is ``Binary files <dest> and <dest> differ``, as diff says it. Then a changed mode
is a line of its own, ``mode <dest>: -rw-r--r-- -> -rw-------`` (Go's notation, as
confd's ``has mode`` line), and a changed owner ``owner <dest>: 1000:1000 -> 0:0``.

Only imported when a diff is shown: difflib is not part of a plain one-shot run.
"""

from __future__ import annotations

import difflib

from .staging import Previous
from .sync import go_filemode

__all__ = ["describe_change"]

NEW_FILE = "/dev/null"


def describe_change(dest: str, previous: Previous, content: bytes, st_mode: int, uid: int, gid: int) -> str:
    """From ``previous`` to ``content`` with this mode and owner; "" when nothing changes."""
    if previous.content is None:
        return _content_diff(NEW_FILE, dest, b"", content)
    parts = [_content_diff(dest, dest, previous.content, content)] if previous.content != content else []
    if previous.st_mode != st_mode:
        parts.append(f"mode {dest}: {go_filemode(previous.st_mode)} -> {go_filemode(st_mode)}\n")
    if (previous.uid, previous.gid) != (uid, gid):
        parts.append(f"owner {dest}: {previous.uid}:{previous.gid} -> {uid}:{gid}\n")
    return "".join(parts)


def _content_diff(fromfile: str, tofile: str, old: bytes, new: bytes) -> str:
    before, after = _text(old), _text(new)
    if before is None or after is None:
        return f"Binary files {fromfile} and {tofile} differ\n"
    out = []
    lines = difflib.unified_diff(_lines(before), _lines(after), fromfile, tofile, n=3, lineterm="\n")
    for line in lines:
        out.append(line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n")
    if not out and fromfile == NEW_FILE:  # a new empty file: the headers alone say so
        out = [f"--- {fromfile}\n", f"+++ {tofile}\n"]
    return "".join(out)


def _text(data: bytes) -> str | None:
    """The content as text, None when diff would call it binary."""
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _lines(text: str) -> list[str]:
    """Lines split at "\\n" only (str.splitlines also splits at \\r, \\f, \\x1c...),
    each keeping its newline; the last one may have none."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]
