"""The fetch plan (the union of every resource's keys, folded) and each resource's view."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from confpy.backends.base import Backend, BackendSettings, Snapshot
from confpy.backends.env import EnvBackend
from confpy.backends.etcd import EtcdV2Backend
from confpy.backends.file import FileBackend
from confpy.errors import RenderError
from confpy.plan import FetchPlan, fold_keys, resource_view
from confpy.render import Renderer
from confpy.resources import TemplateResource
from confpy.store import KeyNotFound


@pytest.fixture()
def etcd_backend() -> Iterator[EtcdV2Backend]:
    """Only its key rules are used: it never connects."""
    backend = EtcdV2Backend(BackendSettings(nodes=("127.0.0.1:1",)))
    try:
        yield backend
    finally:
        backend.close()


def env_backend() -> EnvBackend:
    return EnvBackend(BackendSettings(backend="env", environ={}))


def file_backend() -> FileBackend:
    return FileBackend(BackendSettings(backend="file", files=("unused.yaml",)))


def make_resource(prefix: str, *keys: str, src: Path = Path("/nonexistent/x.tmpl")) -> TemplateResource:
    return TemplateResource(path=Path("x.toml"), src=src, dest="/d", prefix=prefix, keys=keys)


def view(values: dict[str, str], resource: TemplateResource, backend: Backend) -> dict[str, str]:
    snapshot = Snapshot(values)
    return dict(resource_view(snapshot, sorted(values), resource, backend).items())


# -- folding ----------------------------------------------------------------------------


def test_fold_keys_with_a_path_boundary(etcd_backend: EtcdV2Backend) -> None:
    keys = ["/app/db", "/app", "/apple", "/app/db/host", "/other", "/app"]
    assert fold_keys(keys, etcd_backend) == ("/app", "/apple", "/other")


def test_fold_keys_root_covers_everything(etcd_backend: EtcdV2Backend) -> None:
    assert fold_keys(["/a", "/", "/b/c"], etcd_backend) == ("/",)


def test_fold_keys_with_string_prefixes() -> None:
    # env and file backends read every key that string-starts with the one asked for.
    assert fold_keys(["/app/db", "/app", "/apple", "/b"], env_backend()) == ("/app", "/b")
    assert fold_keys(["/app/db", "/app", "/apple", "/b"], file_backend()) == ("/app", "/b")


def test_fetch_plan_is_the_union_of_every_resource(etcd_backend: EtcdV2Backend) -> None:
    resources = [
        make_resource("/", "/nginx-80"),
        make_resource("/app", "/app/db", "/app/name"),
        make_resource("/", "/nginx-80/abc"),
        make_resource("/", "/app"),
    ]
    plan = FetchPlan.for_resources(resources, etcd_backend)
    assert plan.keys == ("/app", "/nginx-80")
    assert FetchPlan.for_resources([], etcd_backend).keys == ()


# -- views --------------------------------------------------------------------------------


SNAPSHOT = {
    "/app/db/host": "h",
    "/app/db/port": "5432",
    "/app/dbx": "not mine",
    "/app/name": "n",
    "/apple/x": "fruit",
    "/other/k": "o",
}


def test_view_holds_only_own_keys_relative_to_prefix(etcd_backend: EtcdV2Backend) -> None:
    resource = make_resource("/app", "/app/db", "/app/name")
    assert view(SNAPSHOT, resource, etcd_backend) == {"/db/host": "h", "/db/port": "5432", "/name": "n"}


def test_view_with_trailing_slash_prefix_and_root_prefix(etcd_backend: EtcdV2Backend) -> None:
    assert view(SNAPSHOT, make_resource("/app/", "/app/name"), etcd_backend) == {"/name": "n"}
    assert view(SNAPSHOT, make_resource("/", "/other"), etcd_backend) == {"/other/k": "o"}
    # The prefix is cut as a plain string (confd): "/app" off "/apple/x" leaves "/le/x".
    assert view(SNAPSHOT, make_resource("/app", "/apple"), etcd_backend) == {"/le/x": "fruit"}


def test_view_for_a_string_prefix_backend() -> None:
    # env: /app/db also reads APP_DBX, as confd does.
    resource = make_resource("/app", "/app/db")
    assert view(SNAPSHOT, resource, env_backend()) == {"/db/host": "h", "/db/port": "5432", "/dbx": "not mine"}


def test_view_without_keys_is_empty(etcd_backend: EtcdV2Backend) -> None:
    assert view(SNAPSHOT, make_resource("/app"), etcd_backend) == {}


def test_same_result_whichever_resource_caused_the_fetch(etcd_backend: EtcdV2Backend) -> None:
    # A resource asking for /app/db sees the same whether the snapshot came from
    # reading /app/db or from reading /app (folded).
    narrow = {k: v for k, v in SNAPSHOT.items() if k.startswith("/app/db/")}
    resource = make_resource("/", "/app/db")
    assert view(SNAPSHOT, resource, etcd_backend) == view(narrow, resource, etcd_backend)


def test_key_outside_own_keys_does_not_exist(tmp_path: Path, etcd_backend: EtcdV2Backend) -> None:
    src = tmp_path / "t.tmpl"
    src.write_text('{{getv "/name"}}\n{{getv "/other/k"}}\n')
    resource = make_resource("/app", "/app/name", src=src)
    store = resource_view(Snapshot(SNAPSHOT), sorted(SNAPSHOT), resource, etcd_backend)
    with pytest.raises(KeyNotFound):
        store.get("/other/k")
    with pytest.raises(RenderError) as caught:
        Renderer().render(resource, store)
    assert str(caught.value).endswith(
        "error calling getv: key does not exist: /other/k"
        " (key /app/other/k in the store, resource x.toml, whose keys (/app/name) do not cover it)"
    )
