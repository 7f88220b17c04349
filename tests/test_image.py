"""`make image` (slow, run by `make test-slow`): the OCI image built with buildah from a
debootstrap root, then confpy run inside it with `buildah run --isolation chroot`:
-version, and a one-shot render with the file backend as the image's own user."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import make_confdir

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[1]
TAG = "localhost/confpy-test:latest"


def buildah(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["buildah", *args], capture_output=True, text=True, timeout=300, check=check)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.geteuid() != 0 and not shutil.which("buildah"):
        pytest.skip("buildah is not installed and installing it needs root (apt-get install buildah)")
    build = ROOT / "build" / "image"  # the root file system is kept there between runs
    done = subprocess.run(
        [str(ROOT / "image" / "build.sh")],
        env={**os.environ, "TAG": TAG, "BUILD": str(build)},
        capture_output=True, text=True, timeout=1100, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        output = done.stdout + done.stderr
        # buildah needs user namespaces or root and a storage driver the kernel supports;
        # a machine without them cannot build images at all, which is not confpy's failure.
        if shutil.which("buildah") and buildah("info", check=False).returncode != 0:
            pytest.skip(f"buildah cannot run on this machine: {buildah('info', check=False).stderr.strip()[-300:]}")
        raise AssertionError(f"image/build.sh failed ({done.returncode}):\n{output[-4000:]}")
    yield TAG
    buildah("rmi", TAG, check=False)


@pytest.fixture()
def container(image: str) -> Iterator[str]:
    name = buildah("from", image).stdout.strip()
    yield name
    buildah("rm", name, check=False)


def test_the_image_runs_confpy_version(container: str) -> None:
    run = buildah("run", "--isolation", "chroot", container, "--", "confpy", "-version")
    assert run.stdout.startswith("confpy 0.1.0 (confd 0.16.0 compatible, Python 3.11"), run.stdout


def test_the_image_renders_a_one_shot_run_as_its_own_user(container: str, tmp_path: Path) -> None:
    config = buildah("inspect", "--type", "container", "--format", "{{.OCIv1.Config.User}} {{.OCIv1.Config.Entrypoint}}",
                     container).stdout.split(maxsplit=1)  # fmt: skip
    assert config == ["confpy", "[confpy]"]
    resource = '[template]\nsrc = "app.tmpl"\ndest = "/tmp/app.conf"\nkeys = ["/app"]\n'
    root = make_confdir(tmp_path / "confdir", {"app.toml": resource}, {"app.tmpl": '{{range gets "/app/*"}}{{.Value}}\n{{end}}'})
    (root / "data.yaml").write_text("app:\n  a: one\n  b: two\n")
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    buildah("copy", container, str(root), "/etc/confd")
    run = buildah("run", "--isolation", "chroot", container, "--",
                  "confpy", "-onetime", "-backend", "file", "-file", "/etc/confd/data.yaml", "-confdir", "/etc/confd")  # fmt: skip
    assert "Target config /tmp/app.conf has been updated" in run.stderr, run.stderr
    shown = buildah("run", "--isolation", "chroot", container, "--", "sh", "-c", "id -un; cat /tmp/app.conf")
    assert shown.stdout == "confpy\none\ntwo\n"
