"""confpy.golang.path against Go 1.19's path package.

``recorded/path.json`` (``recorder/``; how to re-record: ``go_recorded.py``) holds Clean,
Base, Dir and Join of hostile paths and Match over a grid of patterns and names; the
tables after it were recorded earlier (for confd's memkv store and the file backend's
-filter, which is filepath.Match: the same answers on Unix) and moved here.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any

import pytest
from go_recorded import go_str, load, replay
from hypothesis import given, settings
from hypothesis import strategies as st

from confpy.golang import path as gopath
from confpy.golang.path import BadPatternError

RECORDED = load("path")


def _clean_answers(p: Any, *go: Any) -> tuple[Any, Any]:
    p = go_str(p)
    return tuple(go_str(list(go))), (gopath.clean(p), gopath.base(p), gopath.dir(p))


def test_clean_base_dir_and_join_recorded() -> None:
    replay(RECORDED["Clean"], _clean_answers)
    replay(RECORDED["Join"], lambda elems, joined: (go_str(joined), gopath.join(*go_str(elems))))


_ELEMENTS = st.lists(st.sampled_from(["", "/", "//", "a", "b/", "/c", ".", "..", "../d", "e/./"]), max_size=4)


@settings(max_examples=300, deadline=None)
@given(elems=_ELEMENTS)
def test_join_is_clean_of_the_slash_joined_elements(elems: list[str]) -> None:
    joined = "/".join(e for e in elems if e)
    assert gopath.join(*elems) == (gopath.clean(joined) if joined else "")


def _reference_clean(path: str) -> str:
    """posixpath.normpath, which is Go's Clean but for keeping a leading "//"."""
    normal = posixpath.normpath(path)
    return "/" + normal.lstrip("/") if normal.startswith("//") else normal


@settings(max_examples=500, deadline=None)
@given(path=st.text(alphabet="/.ab", max_size=10))
def test_clean_and_its_fast_path_agree_with_a_reference(path: str) -> None:
    assert gopath.clean(path) == _reference_clean(path)
    assert gopath.dir(path) == _reference_clean(path[: path.rfind("/") + 1])  # Go's Dir


def outcome(match: Callable[[str, str], bool], pattern: str, name: str) -> tuple[bool | None, str | None]:
    try:
        return match(pattern, name), None
    except BadPatternError as exc:
        return None, str(exc)


def _match_answers(pattern: Any, name: Any, matched: bool, error: str | None) -> tuple[Any, Any]:
    pattern, name = go_str(pattern), go_str(name)
    go = (None if error else matched, error)
    return (go, go), (outcome(gopath.match, pattern, name), outcome(lambda p, n: gopath.compile_match(p)(n), pattern, name))


def test_match_recorded() -> None:
    replay(RECORDED["Match"], _match_answers)


# (path, path.Base, path.Dir)
PATH_CASES = [
    ("", ".", "."),
    ("/", "/", "/"),
    ("/a/b/", "b", "/a/b"),
    ("a", "a", "."),
    ("a/b", "b", "a"),
    ("//a//b//", "b", "/a/b"),
    ("/a/../b", "b", "/"),
    (".", ".", "."),
    ("..", "..", "."),
    ("a/", "a", "a"),
    ("///", "/", "/"),
    ("/a/b/../../..", "..", "/"),
    ("../../a", "a", "../.."),
    ("a/./b/.", ".", "a/b"),
    ("/..", "..", "/"),
    ("./a", "a", "."),
]


@pytest.mark.parametrize(("path", "base", "dir_"), PATH_CASES)
def test_base_and_dir(path: str, base: str, dir_: str) -> None:
    assert gopath.base(path) == base
    assert gopath.dir(path) == dir_


@pytest.mark.parametrize(
    ("path", "clean"),
    [
        ("", "."),
        ("/", "/"),
        ("//a/./b/../c/", "/a/c"),
        ("a/../..", ".."),
        ("/../a", "/a"),
        ("./", "."),
    ],
)
def test_clean(path: str, clean: str) -> None:
    assert gopath.clean(path) == clean


# (pattern, name, matched, error) as Go 1.19's path.Match answered
MATCH_CASES = [
    ("/a/*", "/a/b", True, None),
    ("/a/*", "/a/b/c", False, None),
    ("*", "/a", False, None),
    ("/*/b", "/a/b", True, None),
    ("/a/?", "/a/b", True, None),
    ("/a/?", "/a/bc", False, None),
    ("/a/[b-d]", "/a/c", True, None),
    ("/a/[^b-d]", "/a/c", False, None),
    ("/a/[!b]", "/a/c", False, None),
    ("[", "a", False, "syntax error in pattern"),
    ("a[", "b", False, "syntax error in pattern"),
    ("\\", "a", False, "syntax error in pattern"),
    ("a\\*", "a*", True, None),
    ("a\\*", "ab", False, None),
    ("[]a]", "]", False, "syntax error in pattern"),
    ("[a-]", "a", False, "syntax error in pattern"),
    ("[-a]", "a", False, "syntax error in pattern"),
    ("[a\\-z]", "-", True, None),
    ("*[a/]/*b", "a//b", False, None),
    ("/x/*", "", False, None),
    ("[é]", "é", True, None),
    ("?", "é", True, None),
    ("[^a]", "é", True, None),
    ("a/[/]", "a//", True, None),
    ("*/", "a/", True, None),
    ("[x", "", False, "syntax error in pattern"),
    ("*x[", "yy", False, "syntax error in pattern"),
    ("a*b*c", "axxbyyc", True, None),
    ("a*b*c", "axxbyy", False, None),
    ("*.txt", "a.txt", True, None),
    ("", "", True, None),
    ("", "a", False, None),
    ("[\\]]", "]", True, None),
    ("[]", "a", False, "syntax error in pattern"),
    ("[^]", "a", False, "syntax error in pattern"),
    ("\\[", "[", True, None),
    ("a?b", "a/b", False, None),
    ("*", "", True, None),
    ("**", "ab", True, None),
    ("*a", "ba/a", False, None),
]


@pytest.mark.parametrize(("pattern", "name", "matched", "error"), MATCH_CASES)
def test_match(pattern: str, name: str, matched: bool, error: str | None) -> None:
    for match in (lambda p, n: gopath.match(p, n), lambda p, n: gopath.compile_match(p)(n)):
        if error is None:
            assert match(pattern, name) is matched
        else:
            with pytest.raises(BadPatternError, match=error):
                match(pattern, name)


# --- the compiled matcher agrees with the faithful one --------------------------------------

_NAMES = st.text(alphabet="ab/é", max_size=7)


@settings(max_examples=400, deadline=None)
@given(pattern=st.text(alphabet="ab/*?\\é", max_size=7), name=_NAMES)
def test_compiled_glob_equals_path_match(pattern: str, name: str) -> None:
    try:
        expected: bool | str = gopath.match(pattern, name)
    except BadPatternError:
        expected = "bad"
    try:
        got: bool | str = gopath.compile_match(pattern)(name)
    except BadPatternError:
        got = "bad"
    assert got == expected


# --- moved here from the file backend's tests (its -filter is filepath.Match) ---------------


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("*", "anything.txt", True),
        ("*.yaml", "a.yaml", True),
        ("*.yaml", "a.yml", False),
        ("?.yaml", "ab.yaml", False),
        ("[^a]*", "abc", False),
        ("[^a]*", "bcd", True),
        ("[a-c]x", "bx", True),
        ("[c-a]x", "bx", False),  # Go accepts an empty range; it never matches
        ("\\*", "*", True),
        ("\\*", "a", False),
        ("a[\\]]", "a]", True),
        ("*toml", "footoml", True),
    ],
)
def test_filepath_match(pattern: str, name: str, matches: bool) -> None:
    assert gopath.compile_match(pattern)(name) is matches


@pytest.mark.parametrize("pattern", ["[", "[]", "[a-]", "\\", "[a"])
def test_filepath_match_bad_patterns(pattern: str) -> None:
    with pytest.raises(BadPatternError):
        gopath.compile_match(pattern)
