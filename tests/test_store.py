"""confd's memkv store (memkv v0.1.1, as confd 0.16.0 vendors it): every quirk users' templates meet.

Go's path.Match, Clean, Base and Dir themselves are tested in tests/golang/test_path.py.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confpy.golang import path as gopath
from confpy.golang.path import BadPatternError
from confpy.gotemplate.values import GoList, StringList, go_type_name
from confpy.store import KeyNotFound, KVPair, KVPairList, KVPairs, KVStore, store_key

APP = {
    "/app/db/user": "admin",
    "/app/db/pass": "secret",
    "/app/name": "web",
    "/app/zed": "z",
    "/apple/x": "1",
    "/top": "t",
    "/upstream/host2": "10.0.0.2",
    "/upstream/host1": "10.0.0.1",
}


@pytest.fixture()
def store() -> KVStore:
    return KVStore(APP)


# --- get / getv / exists ---------------------------------------------------------


def test_get_returns_a_kvpair(store: KVStore) -> None:
    pair = store.get("/app/name")
    assert pair == KVPair("/app/name", "web")
    assert (pair.Key, pair.Value) == ("/app/name", "web")
    assert go_type_name(pair) == "memkv.KVPair"


def test_missing_key_error_text(store: KVStore) -> None:
    with pytest.raises(KeyNotFound) as info:
        store.get("/nope")
    assert str(info.value) == "key does not exist: /nope"
    assert info.value.args[0] == "key does not exist: /nope"  # what an engine prints for a KeyError
    assert info.value.key == "/nope"


def test_getv_value_and_missing_error(store: KVStore) -> None:
    assert store.getv("/app/name") == "web"
    with pytest.raises(KeyNotFound) as info:
        store.getv("/x")
    assert str(info.value) == "key does not exist: /x"


def test_getv_default_even_empty_and_extra_args_ignored(store: KVStore) -> None:
    assert store.getv("/x", "dflt") == "dflt"
    assert store.getv("/x", "") == ""
    assert store.getv("/x", "first", "second") == "first"
    assert store.getv("/app/name", "dflt") == "web"


def test_getv_trailing_slash_never_matches(store: KVStore) -> None:
    with pytest.raises(KeyNotFound):
        store.getv("/app/name/")


def test_exists_on_a_directory_is_false(store: KVStore) -> None:
    assert store.exists("/app/name")
    assert not store.exists("/app")
    assert not store.exists("/app/db")
    assert not store.exists("/nope")


# --- gets / getvs ------------------------------------------------------------------


def test_gets_sorted_by_key(store: KVStore) -> None:
    pairs = store.gets("/upstream/*")
    assert [p.Key for p in pairs] == ["/upstream/host1", "/upstream/host2"]
    assert type(pairs) is KVPairs and isinstance(pairs, GoList)
    assert go_type_name(pairs) == "memkv.KVPairs"
    assert KVPairs.elem_type == "memkv.KVPair"


def test_gets_glob_does_not_cross_slash(store: KVStore) -> None:
    assert [p.Key for p in store.gets("/app/*")] == ["/app/name", "/app/zed"]
    assert [p.Key for p in store.gets("/*")] == ["/top"]
    assert [p.Key for p in store.gets("/app/*/*")] == ["/app/db/pass", "/app/db/user"]
    assert [p.Key for p in store.gets("/app/?ame")] == ["/app/name"]
    assert [p.Key for p in store.gets("/app*/*")] == ["/app/name", "/app/zed", "/apple/x"]


def test_gets_classes_and_escapes(store: KVStore) -> None:
    assert [p.Key for p in store.gets("/upstream/host[12]")] == [
        "/upstream/host1",
        "/upstream/host2",
    ]
    assert [p.Key for p in store.gets("/upstream/host[^1]")] == ["/upstream/host2"]
    assert [p.Key for p in store.gets("/\\top")] == ["/top"]


def test_gets_exact_key_and_no_match(store: KVStore) -> None:
    assert store.gets("/app/name") == [KVPair("/app/name", "web")]
    assert store.gets("/nothing/*") == []  # no error ("no keys match" is long gone)
    assert type(store.gets("/nothing/*")) is KVPairs


def test_bad_pattern_errors_only_when_store_is_not_empty(store: KVStore) -> None:
    with pytest.raises(BadPatternError) as info:
        store.gets("/app/[")
    assert str(info.value) == "syntax error in pattern"
    with pytest.raises(BadPatternError):
        store.gets("/nomatch/[")  # even when no key could match
    with pytest.raises(BadPatternError):
        store.getvs("\\")
    empty = KVStore()
    assert empty.gets("/app/[") == []
    assert empty.getvs("[") == []


def test_getvs_sorted_by_value_not_key() -> None:
    store = KVStore({"/a/1": "zeta", "/a/2": "alpha", "/a/3": "Mid", "/a/4": "10", "/a/5": "9"})
    assert store.getvs("/a/*") == ["10", "9", "Mid", "alpha", "zeta"]
    assert type(store.getvs("/a/*")) is StringList
    assert store.getvs("/b/*") == []


# --- ls / lsdir --------------------------------------------------------------------


def test_ls_lists_leaves_and_directories(store: KVStore) -> None:
    assert store.ls("/app") == ["db", "name", "zed"]
    assert type(store.ls("/app")) is StringList


def test_ls_trailing_slash_behaves_the_same(store: KVStore) -> None:
    assert store.ls("/app/") == ["db", "name", "zed"]
    assert store.ls("/app/db/") == ["pass", "user"]


def test_ls_of_a_leaf_gives_its_name(store: KVStore) -> None:
    assert store.ls("/app/name") == ["name"]
    assert store.ls("/top") == ["top"]


def test_ls_of_a_missing_path_is_empty(store: KVStore) -> None:
    assert store.ls("/nope") == []
    assert store.ls("/ap") == []  # a string prefix of /app is not a directory
    assert store.ls("") == []
    assert store.ls("app") == []  # relative: its terms never line up with "/..." keys


def test_ls_root_gives_only_top_level_leaves(store: KVStore) -> None:
    assert store.ls("/") == ["top"]
    assert KVStore({"/a/b": "1"}).ls("/") == []


def test_ls_sibling_with_shared_string_prefix_is_excluded(store: KVStore) -> None:
    assert "x" not in store.ls("/app")
    assert store.ls("/apple") == ["x"]


def test_ls_with_folder_placeholder_key() -> None:
    # a consul folder "app/" becomes the key /app with value "" next to its children
    store = KVStore({"/app": "", "/app/x": "1", "/app/y/z": "2"})
    assert store.ls("/app") == ["app", "x", "y"]
    assert store.lsdir("/app") == ["y"]
    assert store.exists("/app")


def test_ls_unclean_path_quirk() -> None:
    # memkv strips the raw path string, so "/app/." keeps the whole key: "app"
    store = KVStore({"/app/x": "1", "/app/y": "2"})
    assert store.ls("/app/.") == ["app"]
    assert store.ls("/app//") == ["app"]
    assert store.ls("/other/../app") == ["app"]


def test_lsdir_lists_only_children_with_children(store: KVStore) -> None:
    assert store.lsdir("/app") == ["db"]
    assert store.lsdir("/app/") == ["db"]
    assert store.lsdir("/app/db") == []
    assert store.lsdir("/app/name") == []
    assert store.lsdir("/nope") == []


def test_lsdir_root_is_always_empty(store: KVStore) -> None:
    assert store.lsdir("/") == []
    assert KVStore({"/a/b/c": "1"}).lsdir("/") == []
    assert store.lsdir("") == []


def test_lsdir_sibling_with_shared_string_prefix_is_excluded() -> None:
    store = KVStore({"/app/db/x": "1", "/apple/web/y": "2"})
    assert store.lsdir("/app") == ["db"]
    assert store.lsdir("/apple") == ["web"]


def test_lsdir_deeper_levels() -> None:
    store = KVStore({"/a/b/c/d": "1", "/a/e/f": "2", "/a/g": "3"})
    assert store.lsdir("/a") == ["b", "e"]
    assert store.lsdir("/a/b") == ["c"]
    assert store.ls("/a") == ["b", "e", "g"]


def test_results_are_fresh_lists(store: KVStore) -> None:
    # templates reverse and sort in place: a cached answer must not be shared
    first = store.ls("/app")
    first.reverse()
    assert store.ls("/app") == ["db", "name", "zed"]
    pairs = store.gets("/app/*")
    pairs.reverse()
    assert [p.Key for p in store.gets("/app/*")] == ["/app/name", "/app/zed"]
    values = store.getvs("/upstream/*")
    values.clear()
    assert store.getvs("/upstream/*") == ["10.0.0.1", "10.0.0.2"]


# --- keys relative to the prefix -------------------------------------------------------


@pytest.mark.parametrize(
    ("full_key", "prefix", "expected"),
    [
        ("/res/db/host", "/res", "/db/host"),
        ("/res", "/res", "/"),
        ("/resx/y", "/res", "/x/y"),  # a plain string prefix, no path boundary
        ("/apple", "/app", "/le"),
        ("/db/host", "/", "/db/host"),
        ("/res//a//b/", "/res", "/a/b"),
        ("/other/k", "/res", "/other/k"),
        ("relative/k", "/", "/relative/k"),
        ("/res/../x", "/res", "/x"),
    ],
)
def test_store_key(full_key: str, prefix: str, expected: str) -> None:
    assert store_key(full_key, prefix) == expected


def test_a_store_of_keys_relative_to_the_prefix() -> None:
    values = {"/res/db/host": "rh", "/res/name": "n"}
    store = KVStore((store_key(k, "/res"), v) for k, v in values.items())
    assert store.items() == [("/db/host", "rh"), ("/name", "n")]
    assert store.keys() == ["/db/host", "/name"]
    assert len(store) == 2 and "/name" in store


def test_later_duplicate_wins() -> None:
    store = KVStore([("/a", "1"), ("/a", "2")])
    assert store.getv("/a") == "2"


# --- Go's path package, recorded from Go 1.19 --------------------------------------------

# --- the fast paths agree with the faithful algorithms ---------------------------------

def _memkv_terms(path: str) -> list[str]:
    return gopath.clean(path).split("/")


def _memkv_same_prefix(prefix: list[str], test: list[str]) -> bool:
    return len(test) >= len(prefix) and test[: len(prefix)] == prefix


def _memkv_list(keys: list[str], path: str) -> list[str]:
    """memkv's List, transliterated: the reference for the optimized version."""
    found = set()
    prefix = _memkv_terms(path)
    for key in keys:
        if key == path:
            found.add(gopath.base(key))
            continue
        if _memkv_same_prefix(prefix, _memkv_terms(gopath.dir(key))):
            stripped = key.removeprefix(path).removeprefix("/")
            found.add(stripped.split("/")[0])
    return sorted(found)


def _memkv_list_dir(keys: list[str], path: str) -> list[str]:
    found = set()
    prefix = _memkv_terms(path)
    for key in keys:
        if key.startswith(path):
            items = _memkv_terms(gopath.dir(key))
            if _memkv_same_prefix(prefix, items) and len(items) - len(prefix) >= 1:
                found.add(items[len(prefix)])
    return sorted(found)


_SEGMENT = st.sampled_from(["a", "ab", "b", "", ".", ".."])
_PATHS = st.lists(_SEGMENT, max_size=4).map(lambda parts: "/" + "/".join(parts))


@settings(max_examples=300, deadline=None)
@given(
    keys=st.lists(_PATHS.map(lambda p: gopath.clean(p)), max_size=8),
    path=st.one_of(_PATHS, st.sampled_from(["", "a", "/", "//", "/a/."])),
)
def test_ls_and_lsdir_equal_memkv(keys: list[str], path: str) -> None:
    store = KVStore({k: "v" for k in keys})
    assert store.ls(path) == _memkv_list(keys, path)
    assert store.lsdir(path) == _memkv_list_dir(keys, path)


@settings(max_examples=100, deadline=None)
@given(keys=st.lists(_PATHS, max_size=6), path=_PATHS)
def test_ls_and_lsdir_equal_memkv_for_unclean_keys(keys: list[str], path: str) -> None:
    store = KVStore({k: "v" for k in keys})
    assert store.ls(path) == _memkv_list(keys, path)
    assert store.lsdir(path) == _memkv_list_dir(keys, path)


@settings(max_examples=200, deadline=None)
@given(
    keys=st.lists(_PATHS.map(lambda p: gopath.clean(p)), max_size=8),
    pattern=st.text(alphabet="ab/*?[]^-\\", max_size=6),
)
def test_gets_equals_brute_force_path_match(keys: list[str], pattern: str) -> None:
    store = KVStore({k: k.upper() for k in keys})
    try:
        expected = sorted(k for k in set(keys) if gopath.match(pattern, k))
    except BadPatternError:
        if keys:
            with pytest.raises(BadPatternError):
                store.gets(pattern)
        return
    assert [p.Key for p in store.gets(pattern)] == expected
    assert store.getvs(pattern) == sorted(k.upper() for k in expected)


# --- speed: templates call these in loops over thousands of keys ------------------------


def test_lookups_stay_fast_on_a_large_store() -> None:
    data = {f"/svc/s{i:04d}/{field}": f"v{i}" for i in range(2000) for field in ("host", "port")}
    store = KVStore(data)
    start = time.perf_counter()
    for i in range(2000):
        store.getv(f"/svc/s{i:04d}/host")
        store.ls(f"/svc/s{i:04d}")
        store.gets(f"/svc/s{i:04d}/*")
    names = store.ls("/svc")
    assert len(names) == 2000
    assert time.perf_counter() - start < 5.0  # generous: about 0.1 s on a laptop


def test_kvpair_list_types() -> None:
    assert go_type_name(KVPairList()) == "[]memkv.KVPair"
    assert isinstance(KVPairs(), KVPairList)  # assignable to a []memkv.KVPair parameter
