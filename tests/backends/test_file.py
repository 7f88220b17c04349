"""The file backend: go-yaml v2 (YAML 1.1) typing, flattening, files and directories."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from confpy.backends.base import BackendSettings
from confpy.backends.file import FileBackend
from confpy.errors import BackendError, ConfigError


def read(*files: Path | str, keys: tuple[str, ...] = ("/",), filter: str = "*") -> dict[str, str]:
    backend = FileBackend(BackendSettings(files=tuple(str(f) for f in files), filter=filter))
    snapshot = backend.get_values(list(keys))
    assert snapshot.index is None
    return dict(snapshot.values)


def value_of(tmp_path: Path, scalar: str) -> str | None:
    path = tmp_path / "one.yaml"
    path.write_text(f"v: {scalar}\n")
    return read(path).get("/v")


# What go-yaml v2 decodes each plain scalar to, as text confd stores (None: dropped).
SCALARS = [
    ("0777", "511"),  # YAML 1.1 octal
    ("0o17", "15"),
    ("0x1F", "31"),
    ("0b101", "5"),
    ("-0b101", "-5"),
    ("0b+1", "1"),  # go-yaml's second try: strconv.ParseInt("+1", 2, 64)
    ("0b-1", "-1"),
    ("-0b-1", "-0b-1"),  # ParseInt("--1", 2, 64) fails too: text (it once raised)
    ("1_000", "1000"),
    ("+12", "12"),
    ("-0", "0"),
    ("08", "8"),  # not octal, but a float to go-yaml
    ("9223372036854775807", "9223372036854775807"),
    ("9223372036854775808", None),  # uint64: confd drops it
    ("99999999999999999999", "100000000000000000000"),  # beyond uint64: a float
    ("y", "true"),
    ("Y", "true"),
    ("yes", "true"),
    ("Yes", "true"),
    ("YES", "true"),
    ("on", "true"),
    ("ON", "true"),
    ("true", "true"),
    ("True", "true"),
    ("n", "false"),
    ("N", "false"),
    ("no", "false"),
    ("NO", "false"),
    ("off", "false"),
    ("Off", "false"),
    ("FALSE", "false"),
    ("yEs", "yEs"),  # not a YAML 1.1 spelling
    ("~", None),
    ("null", None),
    ("NULL", None),
    ("", None),
    ("2001-12-14", "2001-12-14"),  # dates stay strings
    ("2001-12-14T21:59:43.10-05:00", "2001-12-14T21:59:43.10-05:00"),
    ("1:30", "1:30"),  # no sexagesimal numbers in go-yaml
    ("1e10", "10000000000"),
    ("1.50", "1.5"),
    ("1.0", "1"),
    ("-1.", "-1"),
    (".5", "0.5"),
    ("1e-7", "0.0000001"),
    ("6.02e+23", "602000000000000000000000"),
    ("1e400", "1e400"),  # out of range: stays text
    (".inf", "+Inf"),
    ("-.Inf", "-Inf"),
    (".NaN", "NaN"),
    ('"0777"', "0777"),  # quoted: always a string
    ("'yes'", "yes"),
    ("!!str 12", "12"),
    ("!!float 1", "1"),
    ("!!int '0x10'", "16"),
    ("!!bool y", "true"),
    ("!custom text", "text"),  # unknown tags are ignored, as go-yaml does
    ("hello world", "hello world"),
]


@pytest.mark.parametrize(("scalar", "expected"), SCALARS, ids=[s or "empty" for s, _ in SCALARS])
def test_yaml_1_1_scalars_as_go_yaml_v2(tmp_path: Path, scalar: str, expected: str | None) -> None:
    assert value_of(tmp_path, scalar) == expected


def test_nested_maps_lists_nulls_and_empties(tmp_path: Path) -> None:
    path = tmp_path / "data.yaml"
    path.write_text(
        "app:\n"
        "  name: web\n"
        "  ports: [80, 443]\n"
        "  upstreams:\n"
        "    - host: a\n"
        "      port: 1\n"
        "    - host: b\n"
        "  gone: null\n"
        "  empty_map: {}\n"
        "  empty_list: []\n"
        "  nested: [[x, w], [z]]\n"
        "base: &base {level: 1}\n"
        "derived:\n"
        "  <<: *base\n"
        "  extra: 2\n"
        "a/b: slash\n"
        '"": root-level\n'
    )
    assert read(path) == {
        "/": "root-level",  # path.Join("/", "") is "/"
        "/a/b": "slash",
        "/app/name": "web",
        "/app/nested/0/0": "x",
        "/app/nested/0/1": "w",
        "/app/nested/1/0": "z",
        "/app/ports/0": "80",
        "/app/ports/1": "443",
        "/app/upstreams/0/host": "a",
        "/app/upstreams/0/port": "1",
        "/app/upstreams/1/host": "b",
        "/base/level": "1",
        "/derived/extra": "2",
        "/derived/level": "1",
    }


def test_json_file(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text(
        json.dumps({"db": {"host": "h", "port": 5432, "tls": True, "ratio": 0.25, "x": None}})
    )
    assert read(path) == {
        "/db/host": "h",
        "/db/port": "5432",
        "/db/tls": "true",
        "/db/ratio": "0.25",
    }


def test_keys_filter_by_plain_string_prefix(tmp_path: Path) -> None:
    path = tmp_path / "data.yaml"
    path.write_text("app: {x: 1}\napple: 2\nother: 3\n")
    assert read(path, keys=("/app",)) == {"/app/x": "1", "/apple": "2"}
    assert read(path, keys=("/other", "/app/x")) == {"/other": "3", "/app/x": "1"}
    assert read(path, keys=()) == {}
    backend = FileBackend(BackendSettings(files=(str(path),)))
    assert backend.key_matches("/app", "/apple") and backend.key_matches("/app", "/app/x")
    assert not backend.key_matches("/app/x", "/app")


def test_later_files_overwrite_earlier_keys(tmp_path: Path) -> None:
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first.write_text("a: 1\nb: 1\n")
    second.write_text("b: 2\nc: 2\n")
    assert read(first, second) == {"/a": "1", "/b": "2", "/c": "2"}
    assert read(second, first) == {"/a": "1", "/b": "1", "/c": "2"}


def test_directory_walk_with_filter(tmp_path: Path) -> None:
    root = tmp_path / "conf"
    (root / "sub").mkdir(parents=True)
    (root / "b.yaml").write_text("k: b\nonly_b: 1\n")
    (root / "a.yaml").write_text("k: a\n")
    (root / "sub" / "c.yaml").write_text("k: c\n")
    (root / "notes.txt").write_text("k: txt\n")
    (root / "x.yml").write_text("k: yml\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "z.yaml").write_text("k: via-symlinked-dir\n")
    (root / "link").symlink_to(elsewhere)  # symlinked directories are not followed

    backend = FileBackend(BackendSettings(files=(str(root),), filter="*.yaml"))
    assert backend.paths() == [
        str(root / "a.yaml"),
        str(root / "b.yaml"),
        str(root / "sub" / "c.yaml"),
    ]
    assert read(root, filter="*.yaml") == {"/k": "c", "/only_b": "1"}
    # The default filter "*" reads every file (the .txt too); lexical order: x.yml last.
    assert read(root)["/k"] == "yml"
    assert read(root, filter="[ab].y*ml") == {"/k": "b", "/only_b": "1"}
    # A file named directly is read whatever the filter says.
    assert read(root / "notes.txt", filter="*.yaml") == {"/k": "txt"}


def test_files_are_read_afresh(tmp_path: Path) -> None:
    path = tmp_path / "data.yaml"
    path.write_text("k: 1\n")
    backend = FileBackend(BackendSettings(files=(str(path),)))
    assert backend.get_values(["/"]).values == {"/k": "1"}
    path.write_text("k: 2\n")
    assert backend.get_values(["/"]).values == {"/k": "2"}
    assert backend.sources() == str(path)


def test_only_the_first_document_is_used(tmp_path: Path) -> None:
    path = tmp_path / "multi.yaml"
    path.write_text("a: 1\n---\nb: [unclosed\n")
    assert read(path) == {"/a": "1"}


def test_empty_file_gives_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "null.yaml").write_text("~\n")
    assert read(tmp_path / "empty.yaml", tmp_path / "null.yaml") == {}


# -- errors -----------------------------------------------------------------------------


def test_missing_file_is_a_stat_error(tmp_path: Path) -> None:
    missing = tmp_path / "x.yaml"
    with pytest.raises(BackendError, match=f"^stat {missing}: no such file or directory$"):
        read(missing)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads unreadable files")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text("a: 1\n")
    path.chmod(0)
    with pytest.raises(BackendError, match="permission denied"):
        read(path)


def test_bad_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("ok: 1\nlist:\n  - a\n bad: [\n")
    with pytest.raises(BackendError) as caught:
        read(path)
    message = str(caught.value)
    assert str(path) in message
    assert "line 4" in message and "column" in message


@pytest.mark.parametrize(
    ("key", "kind"),
    [("1", "int"), ("yes", "bool"), ("n", "bool"), ("on", "bool"), ("1.5", "float"), ("~", "null")],
)
def test_non_string_mapping_key_is_a_clear_error(tmp_path: Path, key: str, kind: str) -> None:
    path = tmp_path / "keys.yaml"
    path.write_text(f"fine: 1\nouter:\n  {key}: value\n")
    with pytest.raises(BackendError) as caught:
        read(path)
    message = str(caught.value)
    assert str(path) in message and "line 3" in message
    assert f"mapping key '{key}' is a YAML 1.1 {kind}, not a string" in message
    # Quoting the key, as the message says, fixes it.
    path.write_text(f'fine: 1\nouter:\n  "{key}": value\n')
    assert read(path)[f"/outer/{key}"] == "value"


@pytest.mark.parametrize(
    ("text", "kind"), [("- a\n- b\n", "a sequence"), ("just text\n", "a single value")]
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    path = tmp_path / "top.yaml"
    path.write_text(text)
    with pytest.raises(BackendError, match=f"{path}: the top level must be a mapping, not {kind}"):
        read(path)


def test_recursive_alias_is_an_error_not_a_hang(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("a: &x [1, *x]\n")
    with pytest.raises(BackendError) as caught:
        read(path)
    assert str(caught.value) == f"cannot parse {path}: recursive YAML alias under /a/1 (an anchor's value contains itself)"


def test_settings_errors() -> None:
    with pytest.raises(ConfigError, match="-file"):
        FileBackend(BackendSettings(files=()))
    with pytest.raises(ConfigError, match="syntax error in pattern"):
        FileBackend(BackendSettings(files=("x",), filter="[a"))
    # Refused at once, even where filepath.Match would only notice once a name gets there.
    with pytest.raises(ConfigError, match=r"^invalid -filter '\*\.yaml\\\\': syntax error in pattern$"):
        FileBackend(BackendSettings(files=("x",), filter="*.yaml\\"))




# -- merge keys, as go-yaml v2 merges them ------------------------------------------------
# Expectations written from go-yaml v2's decode.go (branch v2, and the copy vendored in
# confd 0.16.0, identical there): decoder.mapping() walks the entries in document order,
# a "<<" entry calling merge(), which decodes the merged map into the same Go map, so a
# later entry overwrites an earlier one whichever is the merge; for a sequence, merge()
# steps "backwards as earlier nodes take precedence". No Go toolchain with go-yaml is
# available offline to record them.

ANCHORS = "b: &b {k: from-b, only_b: 1, m: {p: 1, q: 2}}\nc: &c {k: from-c, only_c: 1}\n"


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [("{k: explicit, <<: *b}", {"k": "from-b"}),  # a merge after an explicit key overrides it
     ("{<<: *b, k: explicit}", {"k": "explicit"}),
     ("{<<: [*b, *c]}", {"k": "from-b", "only_b": "1", "only_c": "1"}),  # the first map wins
     ("{<<: [*c, *b]}", {"k": "from-c"}),
     ("{<<: [*b, *c], k: explicit}", {"k": "explicit"}),
     ("{k: explicit, <<: [*c, *b]}", {"k": "from-c"}),
     ("{<<: *b, <<: *c}", {"k": "from-c"}),  # two merges: the later wins
     ("{<<: {k: inline}, k2: 2}", {"k": "inline", "k2": "2"}),
     ("{<<: *b, m: {p: 3}}", {"m/p": "3", "m/q": None})],  # shallow: m replaced, not merged
)  # fmt: skip
def test_merge_keys_apply_in_document_order_as_go_yaml_v2(
    tmp_path: Path, mapping: str, expected: dict[str, str | None]
) -> None:
    path = tmp_path / "merge.yaml"
    path.write_text(ANCHORS + f"x: {mapping}\n")
    values = read(path)
    for key, value in expected.items():
        assert values.get(f"/x/{key}") == value, (key, values)
    assert "/x/<<" not in values


def test_a_quoted_merge_key_is_a_plain_key(tmp_path: Path) -> None:
    # go-yaml: "<<" merges only when plain (implicit) or tagged !!merge.
    path = tmp_path / "merge.yaml"
    path.write_text(ANCHORS + 'x: {"<<": v}\n')
    assert read(path)["/x/<<"] == "v"


@pytest.mark.parametrize("value", ["scalar", "[*b, scalar]", "[[1]]"])
def test_merging_what_is_not_a_map_is_go_yaml_s_error(tmp_path: Path, value: str) -> None:
    path = tmp_path / "merge.yaml"
    path.write_text(ANCHORS + f"x: {{<<: {value}}}\n")
    with pytest.raises(BackendError, match="map merge requires map or sequence of maps as the value"):
        read(path)


def test_a_merge_of_an_enclosing_map_is_an_error_not_a_hang(tmp_path: Path) -> None:
    path = tmp_path / "merge.yaml"
    path.write_text("a: &a {k: 1, in: {<<: *a}}\n")
    with pytest.raises(BackendError) as caught:
        read(path)
    assert str(caught.value).startswith(f"cannot parse {path}: ")


# -- hostile YAML --------------------------------------------------------------------------


def billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_as_go_yaml_refuses_it(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs())
    with pytest.raises(BackendError) as caught:
        read(path)
    assert str(caught.value).startswith(f"cannot parse {path}: document contains excessive aliasing (")


def test_a_merge_bomb_is_refused(tmp_path: Path) -> None:
    # One map of 20,000 keys merged 20,000 times: 400 million entries to copy.
    keys = ", ".join(f"k{j}: 1" for j in range(20_000))
    path = tmp_path / "bomb.yaml"
    path.write_text(f"big: &b {{{keys}}}\nx: {{<<: [{', '.join(['*b'] * 20_000)}]}}\n")
    with pytest.raises(BackendError, match="excessive aliasing"):
        read(path)


def test_ordinary_aliases_and_merges_pass(tmp_path: Path) -> None:
    # Many services sharing defaults: mostly aliases, but far from a bomb.
    lines = ["defaults: &d {" + ", ".join(f"k{j}: v{j}" for j in range(10)) + "}", "list: &l [1, 2, 3]"]
    lines += [f"s{i}: {{<<: *d, name: s{i}, ports: *l}}" for i in range(3000)]
    path = tmp_path / "ok.yaml"
    path.write_text("\n".join(lines) + "\n")
    values = read(path)
    assert values["/s2999/k9"] == "v9" and values["/s2999/ports/2"] == "3"
    assert len(values) == 10 + 3 + 3000 * 14


@pytest.mark.parametrize(
    ("value", "tag", "kind"),
    [("!!map [1, 2]", "map", "sequence"), ("!!map x", "map", "scalar"), ("!!seq {a: 1}", "seq", "mapping"),
     ("!!str [a]", "str", "sequence"), ("!!int {a: 1}", "int", "mapping"), ("!!bool [x]", "bool", "sequence"),
     ("!!float [1]", "float", "sequence"), ("!!null {}", "null", "mapping"), ("!!binary [x]", "binary", "sequence"),
     ("!!timestamp {a: 1}", "timestamp", "mapping"), ("!!set [a]", "set", "sequence"),
     ("!!omap {a: 1}", "omap", "mapping"), ("!!pairs x", "pairs", "scalar")],
)  # fmt: skip
def test_a_tag_that_does_not_fit_its_node_is_an_error(tmp_path: Path, value: str, tag: str, kind: str) -> None:
    # go-yaml v2 ignores a tag on a collection and decodes the node by its kind; such a
    # tag is always a mistake, so confpy says so (a divergence, in the README).
    path = tmp_path / "tags.yaml"
    path.write_text(f"ok: 1\nv: {value}\n")
    with pytest.raises(BackendError) as caught:
        read(path)
    assert str(caught.value) == (
        f"cannot parse {path} at line 2, column 4: a !!{tag} tag on a {kind}: remove the tag or fix the value"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("!!map {a: 1}", {"/v/a": "1"}), ("!!seq [a]", {"/v/0": "a"}), ("!!str 12", {"/v": "12"}),
     ("!!set {a: 1}", {"/v/a": "1"}), ("!!omap [{a: 1}, {b: 2}]", {"/v/0/a": "1", "/v/1/b": "2"}),
     ("!!pairs [{a: 1}]", {"/v/0/a": "1"}), ("!!timestamp 2001-12-14", {"/v": "2001-12-14"})],
)  # fmt: skip
def test_tags_that_fit_decode_as_go_yaml_v2(tmp_path: Path, value: str, expected: dict[str, str]) -> None:
    path = tmp_path / "tags.yaml"
    path.write_text(f"v: {value}\n")
    assert read(path) == expected


def test_integers_of_tens_of_thousands_of_digits(tmp_path: Path) -> None:
    # go-yaml: beyond int64 and uint64, then beyond float64: the text itself.
    digits = "9" * 50_000
    path = tmp_path / "big.yaml"
    path.write_text(f"plain: {digits}\nhex: 0x{'f' * 50_000}\nfloat: 1.{digits}\n")
    values = read(path)
    assert values["/plain"] == digits
    assert values["/hex"] == "0x" + "f" * 50_000
    assert values["/float"] == "2"  # a float: 1.999... rounds to 2
    path.write_text(f"tagged: !!int {digits}\n")
    with pytest.raises(BackendError) as caught:
        read(path)
    assert str(caught.value) == (
        f"cannot parse {path} at line 1, column 9: cannot decode `{'9' * 30}... (50000 characters)` as a !!int"
    )
