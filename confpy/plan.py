"""The fetch plan: every key of every resource, read once per cycle, then a view per resource.

confd reads each resource's keys separately; we read the union once (a key under another
requested key is folded into it) and give each resource a ``KVStore`` holding only the
keys it asked for, relative to its prefix, so a template still fails with ``key does not
exist`` for a key outside its own ``keys``, as in confd; ``missing_key_note`` says so
when that is why a key is missing.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from .backends.base import Backend, Snapshot
from .golang import path as gopath
from .resources import TemplateResource
from .store import KVStore, store_key

__all__ = ["FetchPlan", "missing_key_note", "resource_view", "touches"]


class FetchPlan(NamedTuple):
    keys: tuple[str, ...]  # what to ask the backend for, sorted

    @classmethod
    def for_resources(cls, resources: Iterable[TemplateResource], backend: Backend) -> FetchPlan:
        """The keys of every resource that can be processed (one with a problem fails
        before it reads anything)."""
        return cls(fold_keys((key for r in resources if r.problem is None for key in r.keys), backend))


def fold_keys(keys: Iterable[str], backend: Backend) -> tuple[str, ...]:
    """Distinct keys, dropping each key another kept key already covers."""
    kept: list[str] = []
    kept_set: set[str] = set()
    for key in sorted(set(keys)):
        # A covering key is a string prefix of this one (for the backends we know), so
        # only this key's prefixes need asking, not every kept key.
        if any(
            key[:end] in kept_set and backend.key_matches(key[:end], key) for end in range(1, len(key))
        ):
            continue
        kept.append(key)
        kept_set.add(key)
    return tuple(kept)


def touches(backend: Backend, keys: Iterable[str], changed: str) -> bool:
    """Whether a change at ``changed`` concerns any of ``keys``: it is under one of them,
    or above one (a directory deleted or replaced with everything in it)."""
    matches = backend.key_matches
    return any(matches(key, changed) or matches(changed, key) for key in keys)


def resource_view(snapshot: Snapshot, sorted_keys: Sequence[str], resource: TemplateResource, backend: Backend) -> KVStore:
    """The store a resource's template sees: its own keys, relative to its prefix."""
    values = snapshot.values
    if getattr(backend, "prefix_ordered", False):
        found: list[str] = []
        for key in resource.keys:
            start = bisect.bisect_left(sorted_keys, key)
            end = bisect.bisect_left(sorted_keys, key + "\U0010ffff", start)
            found.extend(k for k in sorted_keys[start:end] if backend.key_matches(key, k))
    else:
        found = [k for k in sorted_keys if any(backend.key_matches(key, k) for key in resource.keys)]
    return KVStore((store_key(k, resource.prefix), values[k]) for k in found)


def missing_key_note(resource: TemplateResource, key: str) -> str:
    """What to add to memkv's ``key does not exist: /x``, which names the key as the
    template sees it: the key read in the store (with the prefix) and the resource, and
    whether the resource's keys cover it at all (the usual cause)."""
    full = gopath.join(resource.prefix, key)
    note = f"key {full} in the store, resource {resource.label}" if resource.prefix != "/" else f"resource {resource.label}"
    if not any(full.startswith(wanted) for wanted in resource.keys):
        keys = ", ".join(resource.keys[:3]) + (", ..." if len(resource.keys) > 3 else "")
        note += f", whose keys ({keys}) do not cover it" if keys else ", which has no keys"
    return f" ({note})"
