"""``-noop -diff`` prints each pending change on stdout, checked byte for byte; without
``-noop``, ``-diff`` logs what was written at debug level. The log lines stay confd's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_helpers import make_confdir, run_confpy
from safety_helpers import make_site

pytestmark = pytest.mark.timeout(30)

VALUE = '{{getv "/app/v"}}'  # the value as it is, newlines and all
TEN = "".join(f"l{i}\n" for i in range(1, 11))


def test_a_content_change_is_a_unified_diff_with_three_lines_of_context(tmp_path: Path) -> None:
    site = make_site(tmp_path, template=VALUE)
    site.dest.write_text(TEN)
    run = site.run(TEN.replace("l5\n", "L5\n").replace("l10\n", "l10\nl11\n"), "-noop", "-diff")
    assert run.code == 0, run.stderr
    d = site.dest
    assert run.stdout == (
        f"--- {d}\n+++ {d}\n"
        "@@ -2,9 +2,10 @@\n l2\n l3\n l4\n-l5\n+L5\n l6\n l7\n l8\n l9\n l10\n+l11\n"
    )
    assert site.dest.read_text() == TEN


def test_hunks_apart_are_separate(tmp_path: Path) -> None:
    site = make_site(tmp_path, template=VALUE)
    lines = "".join(f"l{i}\n" for i in range(1, 21))
    site.dest.write_text(lines)
    run = site.run(lines.replace("l2\n", "L2\n").replace("l18\n", "L18\n"), "-noop", "-diff")
    d = site.dest
    assert run.stdout == (
        f"--- {d}\n+++ {d}\n"
        "@@ -1,5 +1,5 @@\n l1\n-l2\n+L2\n l3\n l4\n l5\n"
        "@@ -15,6 +15,6 @@\n l15\n l16\n l17\n-l18\n+L18\n l19\n l20\n"
    )


def test_a_new_file_is_diffed_against_dev_null(tmp_path: Path) -> None:
    site = make_site(tmp_path, template=VALUE, mode="0600")
    run = site.run("one\ntwo\n", "-noop", "-diff")
    assert run.code == 0, run.stderr
    # No mode or owner line for a file that does not exist yet.
    assert run.stdout == f"--- /dev/null\n+++ {site.dest}\n@@ -0,0 +1,2 @@\n+one\n+two\n"
    assert not site.dest.exists()


def test_a_new_empty_file_is_the_headers_alone(tmp_path: Path) -> None:
    site = make_site(tmp_path, template="")
    run = site.run("", "-noop", "-diff")
    assert run.stdout == f"--- /dev/null\n+++ {site.dest}\n"


def test_a_missing_newline_at_the_end_is_marked_as_diff_marks_it(tmp_path: Path) -> None:
    site = make_site(tmp_path, template=VALUE)
    site.dest.write_text("a\nb")
    run = site.run("a\nc", "-noop", "-diff")
    d = site.dest
    assert run.stdout == (
        f"--- {d}\n+++ {d}\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"
    )
    site.dest.write_text("a\nb")
    run = site.run("a\nb\n", "-noop", "-diff")  # only the newline added
    assert run.stdout == f"--- {d}\n+++ {d}\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"


def test_lines_split_at_newlines_only(tmp_path: Path) -> None:
    # \f, \x1c and U+2028 are characters of a line, not line ends (str.splitlines would
    # split there). (\r is one too, but the test reads stdout as text: it would become \n.)
    site = make_site(tmp_path, template=VALUE)
    site.dest.write_text("a\u2028\nb\fc\x1c\n")
    run = site.run("a\u2028\nB\fc\x1c\n", "-noop", "-diff")
    d = site.dest
    assert run.stdout == f"--- {d}\n+++ {d}\n@@ -1,2 +1,2 @@\n a\u2028\n-b\fc\x1c\n+B\fc\x1c\n"


def test_a_mode_change_is_a_line_of_its_own(tmp_path: Path) -> None:
    site = make_site(tmp_path, mode="0600")
    site.dest.write_text("same\n")
    os.chmod(site.dest, 0o644)
    run = site.run("same", "-noop", "-diff")
    assert run.code == 0, run.stderr
    assert run.stdout == f"mode {site.dest}: -rw-r--r-- -> -rw-------\n"
    assert run.messages("INFO")[-1] == f"{site.dest} has mode -rw-r--r-- should be -rw-------"  # confd's line


@pytest.mark.skipif(os.geteuid() != 0, reason="giving files away needs root")
def test_content_mode_and_owner_changes_together(tmp_path: Path) -> None:
    site = make_site(tmp_path, mode="0640", uid=1234, gid=2345)
    site.dest.write_text("old\n")
    os.chmod(site.dest, 0o644)
    os.chown(site.dest, 0, 0)
    run = site.run("new", "-noop", "-diff")
    d = site.dest
    assert run.stdout == (
        f"--- {d}\n+++ {d}\n@@ -1 +1 @@\n-old\n+new\n"
        f"mode {d}: -rw-r--r-- -> -rw-r-----\n"
        f"owner {d}: 0:0 -> 1234:2345\n"
    )
    assert (d.stat().st_uid, d.read_text()) == (0, "old\n")


def test_binary_content_is_said_to_differ(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    site.dest.write_bytes(b"\xff\xfeold\n")  # not UTF-8
    run = site.run("new", "-noop", "-diff")
    assert run.stdout == f"Binary files {site.dest} and {site.dest} differ\n"
    site.dest.write_bytes(b"old\0\n")  # UTF-8, but a NUL byte: diff calls it binary too
    run = site.run("new", "-noop", "-diff")
    assert run.stdout == f"Binary files {site.dest} and {site.dest} differ\n"


def test_several_resources_in_order_and_nothing_for_one_in_sync(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.conf", tmp_path / "b.conf", tmp_path / "c.conf"
    a.write_text("a old\n")
    b.write_text("b\n")
    confdir = make_confdir(
        tmp_path / "confdir",
        {f"{n}.toml": f'[template]\nsrc = "{n}.tmpl"\ndest = "{tmp_path / n}.conf"\n' for n in "abc"},
        {"a.tmpl": "a new\n", "b.tmpl": "b\n", "c.tmpl": "c\n"},
    )
    run = run_confpy("-onetime", "-noop", "-diff", "-backend", "env", "-confdir", str(confdir))
    assert run.code == 0, run.stderr
    assert run.stdout == (
        f"--- {a}\n+++ {a}\n@@ -1 +1 @@\n-a old\n+a new\n"
        f"--- /dev/null\n+++ {c}\n@@ -0,0 +1 @@\n+c\n"
    )


def test_the_log_lines_stay_confds(tmp_path: Path) -> None:
    site = make_site(tmp_path, mode="0600")
    site.dest.write_text("old\n")
    os.chmod(site.dest, 0o644)
    plain, diffed = site.run("new", "-noop"), site.run("new", "-noop", "-diff")
    assert plain.stdout == ""
    assert [(e.level, e.message) for e in diffed.logs] == [(e.level, e.message) for e in plain.logs]
    assert diffed.messages("WARNING") == [f"Noop mode enabled. {site.dest} will not be modified"]


def test_without_noop_the_diff_of_what_was_written_is_logged_at_debug_level(tmp_path: Path) -> None:
    # Lines from a one-line value: the debug log prints the store's values as they are.
    site = make_site(tmp_path, template='{{range split (getv "/app/v") ","}}{{.}}\n{{end}}')
    site.dest.write_text("a\nb\n")
    run = site.run("a,c", "-diff", "-log-level", "debug")
    assert run.code == 0, run.stderr
    assert run.stdout == ""
    d = site.dest
    assert f"Changes to {d}:\n    --- {d}\n    +++ {d}\n    @@ -1,2 +1,2 @@\n     a\n    -b\n    +c" in run.messages("DEBUG")
    assert d.read_text() == "a\nc\n"
    # At the default level there is nothing more to see, and nothing is diffed.
    run = site.run("a,d", "-diff")
    assert run.code == 0, run.stderr
    assert not [m for m in run.messages("DEBUG", "INFO") if m.startswith("Changes to")]


def test_the_debug_diff_is_a_field_of_its_own_in_json_lines(tmp_path: Path) -> None:
    import json

    site = make_site(tmp_path)
    site.dest.write_text("old\n")
    run = site.run("new", "-diff", "-log-level", "debug", "-log-format", "json")
    assert run.code == 0, run.stderr
    [entry] = [e for e in map(json.loads, run.stderr.splitlines()) if e["msg"].startswith("Changes to")]
    d = site.dest
    assert entry == {**entry, "msg": f"Changes to {d}:", "dest": str(d), "output": f"--- {d}\n+++ {d}\n@@ -1 +1 @@\n-old\n+new\n"}
