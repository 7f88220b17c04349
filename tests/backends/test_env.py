"""The env backend: confd's key <-> variable-name mapping and its prefix over-matching."""

from __future__ import annotations

import pytest

from confpy.backends.base import BackendSettings
from confpy.backends.env import EnvBackend, key_to_name, name_to_key


def env_backend(**environ: str) -> EnvBackend:
    return EnvBackend(BackendSettings(backend="env", environ=environ))


def test_key_and_name_mapping() -> None:
    assert key_to_name("/myapp/database/url") == "MYAPP_DATABASE_URL"
    assert key_to_name("/") == ""
    assert key_to_name("myapp/x") == "MYAPP_X"
    assert name_to_key("MYAPP_DATABASE_URL") == "/myapp/database/url"
    assert name_to_key("A__B") == "/a//b"  # not cleaned, as in confd
    # Go's strings.ToUpper/ToLower: one rune for one rune, simple mappings.
    assert key_to_name("/straße/ᾳ") == "STRAßE_ᾼ"
    assert name_to_key("\u0130_\u03a3\u0391\u03a3") == "/i/\u03c3\u03b1\u03c3"  # İ_ΣΑΣ


def test_reads_the_variable_for_a_key() -> None:
    backend = env_backend(MYAPP_DATABASE_URL="db://x", OTHER="o")
    snapshot = backend.get_values(["/myapp/database/url"])
    assert snapshot.values == {"/myapp/database/url": "db://x"}
    assert snapshot.index is None


def test_prefix_over_matching_as_confd() -> None:
    backend = env_backend(
        APP="root",
        APPLE="fruit",
        APP_X_Y="deep",
        APP_HOST="h",
        app_lower="no",
        OTHER="o",
        APP_EMPTY="",
    )
    assert backend.get_values(["/app"]).values == {
        "/app": "root",
        "/app/empty": "",  # empty values are included
        "/app/host": "h",
        "/app/x/y": "deep",
        "/apple": "fruit",
    }
    # Underscores in keys cannot be read back: they come back as /.
    assert backend.get_values(["/app_x"]).values == {"/app/x/y": "deep"}


def test_root_key_matches_every_variable() -> None:
    backend = env_backend(A="1", B_C="2", lower="3")
    assert backend.get_values(["/"]).values == {"/a": "1", "/b/c": "2", "/lower": "3"}


@pytest.mark.parametrize(
    ("requested", "found", "matches"),
    [
        ("/app", "/app", True),
        ("/app", "/apple", True),
        ("/app", "/app/x/y", True),
        ("/app_x", "/app/x/y", True),
        ("/app/x", "/app", False),
        ("/", "/anything", True),
        ("/db", "/app/db", False),
    ],
)
def test_key_matches(requested: str, found: str, matches: bool) -> None:
    assert env_backend().key_matches(requested, found) is matches


def test_key_matches_agrees_with_get_values() -> None:
    environ = {"APP": "1", "APPLE": "2", "APP_X_Y": "3", "APP_XY": "4", "DB_HOST": "5", "X": "6"}
    backend = env_backend(**environ)
    everything = backend.get_values(["/"]).values
    for requested in ("/app", "/app/x", "/app_x", "/apple", "/db", "/x", "/", "/nope"):
        returned = backend.get_values([requested]).values
        assert set(returned) == {k for k in everything if backend.key_matches(requested, k)}, (
            requested
        )


def test_process_environment_is_read_at_each_call(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = EnvBackend(BackendSettings(backend="env"))
    monkeypatch.setenv("CONFPY_TEST_VALUE", "one")
    assert backend.get_values(["/confpy/test"]).values == {"/confpy/test/value": "one"}
    monkeypatch.setenv("CONFPY_TEST_VALUE", "two")
    assert backend.get_values(["/confpy/test"]).values == {"/confpy/test/value": "two"}
    monkeypatch.delenv("CONFPY_TEST_VALUE")
    assert backend.get_values(["/confpy/test"]).values == {}
    assert backend.sources() == ""
    backend.close()
