"""What Go 1.19 answered, as recorded by ``recorder/main.go`` into ``recorded/*.json``.

Re-record after changing the recorder's inputs (Go 1.19, standard library only)::

    cd tests/golang/recorder
    HOME=/tmp GOCACHE=/tmp/gocache GOFLAGS=-mod=mod go run . -out ../recorded

In the files a string that is not valid UTF-8 is ``{"hex": "<bytes>"}`` (``go_str`` turns
it into our ``str`` with surrogate escapes) and a float64 is the hex of its bits
(``go_float``).
"""

from __future__ import annotations

import functools
import json
import struct
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

RECORDED = Path(__file__).resolve().parent / "recorded"


@functools.cache
def load(name: str) -> dict[str, Any]:
    """The sections of ``recorded/<name>.json``."""
    sections: dict[str, Any] = json.loads((RECORDED / f"{name}.json").read_text(encoding="utf-8"))
    return sections


def go_str(value: Any) -> Any:
    """A recorded Go string as confpy holds it; anything else unchanged."""
    if isinstance(value, dict):
        return bytes.fromhex(value["hex"]).decode("utf-8", "surrogateescape")
    if isinstance(value, list):
        return [go_str(v) for v in value]
    return value


def go_float(bits: str) -> float:
    """A float64 from the hex of its bits."""
    value: float = struct.unpack(">d", bytes.fromhex(bits))[0]
    return value


def float_bits(value: float) -> str:
    return struct.pack(">d", value).hex()


def mismatches(found: list[Any], limit: int = 20) -> str:
    """A readable report of the first mismatches (what pytest shows on failure)."""
    lines = [repr(m) for m in found[:limit]]
    if len(found) > limit:
        lines.append(f"... and {len(found) - limit} more")
    return f"{len(found)} cases differ from Go:\n" + "\n".join(lines)


def replay(cases: Iterable[Sequence[Any]], answers: Callable[..., tuple[Any, Any]]) -> None:
    """Check recorded cases: ``answers(*case)`` gives (what Go answered, what we answer)."""
    wrong = []
    for case in cases:
        go, we = answers(*case)
        if we != go:
            wrong.append((*case[:3], "go:", go, "we:", we))
    assert not wrong, mismatches(wrong)
