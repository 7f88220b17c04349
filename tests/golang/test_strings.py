# ruff: noqa: RUF001 (the case-mapping table is made of look-alike letters on purpose)
"""confpy.golang.strings against Go 1.19's strings.ToUpper/ToLower and len().

``recorded/strings.json`` (``recorder/``; how to re-record: ``go_recorded.py``) holds
every rune either function changes, and strings with bytes that are not UTF-8. The
table below was recorded earlier for confd's ``toUpper``/``toLower`` and moved here.
"""

from __future__ import annotations

import unicodedata

import pytest
from go_recorded import go_str, load, mismatches, replay

from confpy.golang.strings import byte_len, go_bytes, to_lower, to_upper

RECORDED = load("strings")

# Python's case tables follow its Unicode version; strings.py knows what differs from
# Go 1.19's Unicode 13 up to Unicode 14 (Python 3.11). A newer Python needs more.
KNOWN_UNICODE = unicodedata.unidata_version in ("13.0.0", "14.0.0")


@pytest.mark.skipif(not KNOWN_UNICODE, reason=f"strings.py does not know Unicode {unicodedata.unidata_version}'s additions")
def test_every_rune_maps_as_in_go() -> None:
    changed = {code: (upper, lower) for code, upper, lower in RECORDED["Runes"]}
    wrong = []
    for code in range(0x110000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        ch = chr(code)
        upper, lower = changed.get(code, (code, code))
        if (to_upper(ch), to_lower(ch)) != (chr(upper), chr(lower)):
            wrong.append((hex(code), "go", (chr(upper), chr(lower)), "we", (to_upper(ch), to_lower(ch))))
    assert not wrong, mismatches(wrong)


def test_strings_recorded() -> None:
    replay(RECORDED["Case"], lambda s, *go: (tuple(go_str(list(go))), (to_upper(go_str(s)), to_lower(go_str(s)))))


# (input, strings.ToUpper, strings.ToLower) as Go 1.19 answered
CASES = [
    ("ß", "ß", "ß"),
    ("ǰ", "ǰ", "ǰ"),
    ("ᾳ", "ᾼ", "ᾳ"),
    ("İ", "İ", "i"),
    ("ΑΣ", "ΑΣ", "ασ"),  # no final sigma
    ("ﬁ", "ﬁ", "ﬁ"),
    ("ǅ", "Ǆ", "ǆ"),
    ("ſ", "S", "ſ"),
    ("\u212a", "\u212a", "k"),
    ("ΣΑΣ", "ΣΑΣ", "σασ"),
    ("hello World", "HELLO WORLD", "hello world"),
    ("ᾀ", "ᾈ", "ᾀ"),
    ("ᾈ", "ᾈ", "ᾀ"),
    ("ŉ", "ŉ", "ŉ"),
    ("ı", "I", "ı"),
    ("\u1e9e", "\u1e9e", "ß"),
    ("\u2c65", "\u023a", "\u2c65"),
    ("\u2c5f", "\u2c5f", "\u2c5f"),  # Unicode 14: unknown to Go 1.19
    ("\U00010597", "\U00010597", "\U00010597"),
]


@pytest.mark.parametrize(("s", "upper", "lower"), CASES)
def test_to_upper_and_lower(s: str, upper: str, lower: str) -> None:
    assert to_upper(s) == upper
    assert to_lower(s) == lower


def test_bytes_of_a_go_string() -> None:
    not_utf8 = b"a\xff\xc3".decode("utf-8", "surrogateescape")
    assert go_bytes(not_utf8) == b"a\xff\xc3"
    assert go_bytes("é日") == "é日".encode()
    assert go_bytes("\ud800") == b"\xed\xa0\x80"  # a lone surrogate of other origin
    assert [byte_len(s) for s in ("", "abc", "é", "日本", "😀", not_utf8)] == [0, 3, 2, 6, 4, 3]
