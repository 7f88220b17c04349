"""Environment variables as a key/value store (``-backend env``, confd's mapping).

Key ``/myapp/database/url`` reads ``MYAPP_DATABASE_URL``, and every other variable whose
name starts with that text (``/app`` also reads ``APPLE``). A variable comes back as
``/`` + its lowercased name with each ``_`` turned into ``/``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from confpy.backends.base import BackendSettings, Emit, Snapshot, StopSignal
from confpy.golang.strings import to_lower, to_upper

__all__ = ["EnvBackend", "key_to_name", "name_to_key"]


def key_to_name(key: str) -> str:
    """``/myapp/database/url`` -> ``MYAPP_DATABASE_URL`` (one leading ``/`` dropped)."""
    return to_upper(key.removeprefix("/").replace("/", "_"))


def name_to_key(name: str) -> str:
    """``MYAPP_DATABASE_URL`` -> ``/myapp/database/url``."""
    return to_lower("/" + name).replace("_", "/")


class EnvBackend:
    """The ``env`` backend; variables are read afresh at each ``get_values``."""

    name = "env"
    prefix_ordered = False  # /app_x matches /app/x/y: names, not keys, are prefixes

    def __init__(self, settings: BackendSettings) -> None:
        self._environ: Mapping[str, str] | None = settings.environ

    def get_values(self, keys: Sequence[str]) -> Snapshot:
        environ = os.environ if self._environ is None else self._environ
        variables = dict(environ)  # one consistent copy
        prefixes = {key_to_name(key) for key in keys}
        values = {
            name_to_key(name): value
            for name, value in sorted(variables.items())
            if any(name.startswith(prefix) for prefix in prefixes)
        }
        return Snapshot(values, None)

    def key_matches(self, requested: str, found: str) -> bool:
        # Compare as variable names, as get_values does: /app matches /apple, and
        # /app_x matches /app/x/y (both are APP_X...).
        return key_to_name(found).startswith(key_to_name(requested))

    def watch(self, keys: Sequence[str], since: int | None, emit: Emit, stop: StopSignal) -> None:
        """The environment of a running process does not change: there is never anything
        to report (watch mode renders once, at start)."""
        stop.wait()

    def sources(self) -> str:
        return ""

    def close(self) -> None:
        pass
