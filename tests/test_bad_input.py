"""Bad input as a user meets it, through the command line: each kind is one clear error
line (no traceback), exit 1, the dest untouched, and quick (issue 11)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import Run, make_confdir, run_confpy

pytestmark = pytest.mark.timeout(30)

TEMPLATE = '{{range gets "/*"}}{{.Key}}={{.Value}}\n{{end}}'
OLD = "old content\n"


def confdir(tmp_path: Path, resource_extra: str = "", template: str = TEMPLATE) -> tuple[Path, Path]:
    """A confdir with one resource over every key, and its dest holding OLD."""
    dest = tmp_path / "out.conf"
    dest.write_text(OLD)
    resource = f'[template]\nsrc = "a.tmpl"\ndest = "{dest}"\nkeys = ["/"]\n{resource_extra}'
    return make_confdir(tmp_path / "confdir", {"a.toml": resource}, {"a.tmpl": template}), dest


def assert_refused(run: Run, dest: Path | None = None) -> str:
    """Exit 1, no traceback, one error; the dest as it was. Returns the error."""
    assert run.code == 1, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    message = run.one_error()
    if dest is not None:
        assert dest.read_text() == OLD
        assert [p.name for p in dest.parent.iterdir() if p.name.startswith(".out.conf")] == []
    return message


# -- command line and confd.toml -------------------------------------------------------------


@pytest.mark.parametrize("level", ["trace", "TRACE", "verbose"])
def test_unknown_log_level_flag_is_refused_as_confd_refuses_it(tmp_path: Path, level: str) -> None:
    # confd 0.16.0's vendored logrus has no "trace" level (it came later).
    root, dest = confdir(tmp_path)
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(root), "-log-level", level)
    assert assert_refused(run, dest) == f'not a valid level: "{level}"'


def test_unknown_log_level_in_confd_toml_is_refused(tmp_path: Path) -> None:
    root, dest = confdir(tmp_path)
    config = tmp_path / "confd.toml"
    config.write_text('log-level = "trace"\n')
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(root), "-config-file", str(config))
    assert assert_refused(run, dest) == 'not a valid level: "trace"'


@pytest.mark.parametrize(
    ("name", "reason"), [("missing", "no such file or directory"), ("dir", "is a directory")]
)
def test_unreadable_secret_keyring_is_an_error(tmp_path: Path, name: str, reason: str) -> None:
    root, dest = confdir(tmp_path)
    (tmp_path / "dir").mkdir()
    keyring = tmp_path / name
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(root), "-secret-keyring", str(keyring))
    # confd: `FATAL open <path>: no such file or directory`, exit 1.
    assert assert_refused(run, dest) == f"open {keyring}: {reason} (the -secret-keyring file)"


def test_readable_secret_keyring_is_only_a_warning(tmp_path: Path) -> None:
    root, _ = confdir(tmp_path)
    keyring = tmp_path / "keyring.asc"
    keyring.write_text("-----BEGIN PGP PRIVATE KEY BLOCK-----\n")
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(root), "-secret-keyring", str(keyring))
    assert run.code == 0, run.stderr
    assert any("-secret-keyring is not supported" in m for m in run.messages("WARNING"))


def test_secret_keyring_fifo_does_not_hang(tmp_path: Path) -> None:
    import os

    root, _ = confdir(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    run = run_confpy("-onetime", "-backend", "env", "-confdir", str(root), "-secret-keyring", str(fifo), timeout=10)
    assert run.code == 0, run.stderr
