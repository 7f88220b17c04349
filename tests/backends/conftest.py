"""Fixtures the backend test modules share.

``closing``         ``closing(backend)`` hands the backend back and closes it after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from confpy.backends.base import Backend


@pytest.fixture()
def closing() -> Iterator[Callable[[Any], Any]]:
    """Backends a test makes are closed after it, so no pooled connection outlives it."""
    made: list[Backend] = []

    def keep(backend: Backend) -> Backend:
        made.append(backend)
        return backend

    yield keep
    for backend in made:
        backend.close()
