"""The small protocol every key/value store implements, and its plain records."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol

__all__ = ["Backend", "BackendSettings", "Snapshot", "path_key_matches"]


class BackendSettings(NamedTuple):
    """What a backend needs from confpy's settings (confd's flag names in comments)."""

    backend: str = "etcd"  # -backend
    nodes: tuple[str, ...] = ()  # -node (repeatable)
    scheme: str = "http"  # -scheme
    basic_auth: bool = False  # -basic-auth
    username: str = ""  # -username
    password: str = ""  # -password
    client_cert: str = ""  # -client-cert
    client_key: str = ""  # -client-key
    client_cakeys: str = ""  # -client-ca-keys
    client_insecure: bool = False  # -client-insecure
    files: tuple[str, ...] = ()  # -file (repeatable)
    filter: str = "*"  # -filter
    separator: str = ""  # -separator (redis)
    timeout: float = 3.0  # -backend-timeout: bound on connecting and on each answer
    environ: Mapping[str, str] | None = None  # env backend source


class Snapshot(NamedTuple):
    """The values read from the store for a set of keys.

    ``values`` maps full store keys (leading ``/``) to values. ``index`` is the store's
    revision the read reflects (etcd v2's ``X-Etcd-Index``; the lowest one when several
    requests were made), or None when the store has no such notion. A watch that starts
    from ``index + 1`` misses nothing that happened after the read.
    """

    values: Mapping[str, str]
    index: int | None = None


class Backend(Protocol):
    """A key/value store. Implementations live in ``confpy.backends.<name>``."""

    name: str
    # True when every key that key_matches(k, found) accepts starts with k as a string,
    # so the keys matched by k form one run of the sorted snapshot (fast views).
    prefix_ordered: bool

    def get_values(self, keys: Sequence[str]) -> Snapshot:
        """Read every key under each of ``keys`` (full keys, leading ``/``).

        A key that does not exist is simply absent from the result. Raise
        ``BackendUnavailable`` when no node answers, ``BackendError`` for any other failure.
        """
        ...

    def key_matches(self, requested: str, found: str) -> bool:
        """True when ``found`` is one of the keys that reading ``requested`` returns.

        The fetch plan folds a requested key into another one with it, and a resource's
        view keeps the snapshot keys matched by one of the resource's own keys.
        """
        ...

    def sources(self) -> str:
        """The nodes or files read, for confd's ``Backend source(s) set to ...`` line."""
        ...

    def close(self) -> None:
        """Release connections; the backend is not used afterwards."""
        ...


def path_key_matches(requested: str, found: str) -> bool:
    """Matching with a path boundary: ``/app`` matches ``/app`` and ``/app/x``, not ``/apple``."""
    requested = posixpath.normpath(requested) if requested else "/"
    if requested == "/":
        return found.startswith("/")
    return found == requested or found.startswith(requested + "/")
