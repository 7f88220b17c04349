"""Consul KV (``-backend consul``) over Consul's HTTP API, with httpx.

Reads are confd's: each key, its leading ``/`` dropped, is listed recursively as a
prefix (``GET /v1/kv/<key>?recurse``: ``/app`` lists ``apple`` too, as in confd), and
each entry is stored under ``path.Join("/", key)`` (a folder entry ``app/`` becomes
``/app`` with an empty value). A missing prefix is simply absent. More than 16 keys are
read as one listing of their common prefix, filtered.

Nodes are tried in order, starting with the last that answered (confd used the first
only). The ACL token is ``-auth-token``, else the file named by
``CONSUL_HTTP_TOKEN_FILE``, else ``CONSUL_HTTP_TOKEN`` (the Go client's order); it is
sent in the ``X-Consul-Token`` header, never in a URL, and appears in no message.

Watch: blocking queries (``?index=N&wait=``) on the keys' common prefix, each answer
(the whole listing) emitted as a snapshot when it differs from the last. As Consul's
documentation requires, an index that goes backwards resets the query to index 0, the
index waited on is never below 1, and the loop is rate limited (a burst of four, then at
most four queries a second) so a churning prefix cannot turn it into a busy loop.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from confpy.backends import http
from confpy.backends.base import BackendSettings, Emit, Snapshot, StopSignal
from confpy.errors import BackendError, ConfigError
from confpy.golang import path as gopath

__all__ = ["ConsulBackend", "acl_token"]

COALESCE_KEYS = 16  # above this many keys, one listing of their common prefix
WAIT_SECONDS = 60  # a blocking query's wait (Consul's default is 5 min; 10 min at most)
# The watch's rate limit, a token bucket (Consul's docs suggest a burst of 2 and polling
# every 15 s under churn; a config renderer wants changes sooner): 4 at once, then one
# query every 250 ms. A broken index cannot turn the loop into a busy one.
_BURST, _REFILL_SECONDS = 4, 0.25


def acl_token(settings: BackendSettings) -> str:
    """-auth-token, else CONSUL_HTTP_TOKEN_FILE's content, else CONSUL_HTTP_TOKEN."""
    if settings.auth_token:
        return settings.auth_token
    environ: Mapping[str, str] = os.environ if settings.environ is None else settings.environ
    token_file = environ.get("CONSUL_HTTP_TOKEN_FILE", "")
    if token_file:
        try:
            with open(token_file, encoding="utf-8") as file:
                token = file.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ConfigError(f"cannot read the consul ACL token file {token_file} (CONSUL_HTTP_TOKEN_FILE): {reason}") from None
        if token:
            return token
    return environ.get("CONSUL_HTTP_TOKEN", "")


def _prefix(key: str) -> str:
    """confd: the key without its leading slash is the prefix listed."""
    return key[1:] if key.startswith("/") else key


def _index(response: httpx.Response) -> int | None:
    return http.header_int(response, "X-Consul-Index")


class _Prefixes:
    """Which listed keys fall under the requested ones: a string-prefix test per distinct
    prefix length, not one per requested key (200 keys, thousands of entries)."""

    def __init__(self, prefixes: Sequence[str]) -> None:
        self.all = "" in prefixes
        self.wanted = {"/" + p for p in prefixes}
        self.lengths = sorted({len(p) for p in self.wanted})

    def keep(self, values: dict[str, str]) -> dict[str, str]:
        if self.all:
            return values
        wanted, lengths = self.wanted, self.lengths
        return {k: v for k, v in values.items() if any(k[:n] in wanted for n in lengths)}


class _Bucket:
    """A token bucket: a burst of ``_BURST``, one token back every ``_REFILL_SECONDS``."""

    def __init__(self) -> None:
        self.tokens = float(_BURST)
        self.at = time.monotonic()

    def delay(self) -> float:
        """Take a token; the seconds to wait first (0 when one is there)."""
        now = time.monotonic()
        self.tokens = min(_BURST, self.tokens + (now - self.at) / _REFILL_SECONDS)
        self.at = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens * _REFILL_SECONDS


class ConsulBackend:
    """The ``consul`` backend."""

    name = "consul"
    prefix_ordered = True

    def __init__(self, settings: BackendSettings) -> None:
        self.nodes = http.Nodes("consul", [http.normalize_node(n, settings.scheme, "consul") for n in settings.nodes_of("consul")])
        self._timeout = settings.answer_timeout
        self._token = acl_token(settings)
        self._auth = (settings.username, settings.password) if settings.basic_auth else None
        self._verify = http.tls_verify(self.nodes.urls, settings)
        self._lock = threading.Lock()
        self._closed = False
        self._client = self._make_client(keepalive=2)
        self._watch_client: httpx.Client | None = None
        self._watch_socket = http.CuttableSocket(keepalive=True)

    def _make_client(self, keepalive: int) -> httpx.Client:
        client = http.make_client(self.nodes.urls, self._verify, self._timeout, keepalive, auth=self._auth)
        if self._token:
            client.headers["X-Consul-Token"] = self._token
        return client

    # -- Backend protocol -----------------------------------------------------------------

    def get_values(self, keys: Sequence[str]) -> Snapshot:
        prefixes = list(dict.fromkeys(_prefix(k) for k in keys))
        if not prefixes:
            return Snapshot({}, None)
        if len(prefixes) > COALESCE_KEYS:
            common = os.path.commonprefix(prefixes)  # noqa: RUF071 (Consul lists string prefixes)
            values, index = self._list(self._client, common, None)
            return Snapshot(dict(sorted(_Prefixes(prefixes).keep(values).items())), index)
        values = {}
        indexes: list[int] = []
        for prefix in prefixes:
            part, index = self._list(self._client, prefix, None)
            values.update(part)
            if index is not None:
                indexes.append(index)
        return Snapshot(dict(sorted(values.items())), min(indexes) if indexes else None)

    def key_matches(self, requested: str, found: str) -> bool:
        """A Consul listing is a string prefix: ``/app`` covers ``/apple`` (as in confd)."""
        prefix = _prefix(requested)
        return not prefix or found[1:].startswith(prefix)

    def watch(self, keys: Sequence[str], since: int | None, emit: Emit, stop: StopSignal) -> None:
        prefixes = list(dict.fromkeys(_prefix(k) for k in keys))
        if not prefixes:
            stop.wait()
            return
        root = os.path.commonprefix(prefixes)  # noqa: RUF071 (Consul lists string prefixes)
        wanted = _Prefixes(prefixes)
        index = since if since is not None and since > 0 else 0
        last: dict[str, str] | None = None
        bucket = _Bucket()
        with self._lock:
            if self._closed:
                raise BackendError("consul backend is closed")
            if self._watch_client is None:
                self._watch_client = self._make_client(keepalive=1)
            client = self._watch_client
        with stop.on_set(self._watch_socket.cut):
            while not stop.is_set():
                delay = bucket.delay()
                if delay and stop.wait(delay):
                    return
                cuts = self._watch_socket.begin()
                if cuts is None:
                    continue  # cut before it started: stop is set
                try:
                    values, answered = self._list(client, root, index)
                except BackendError:
                    if self._watch_socket.was_cut(cuts):
                        continue
                    raise
                finally:
                    self._watch_socket.end()
                if self._watch_socket.was_cut(cuts):
                    continue
                kept = wanted.keep(values)
                if answered is None:  # no usable X-Consul-Index: the rate limit paces us
                    index = max(index, 1)
                elif index and answered < index:
                    index = 0  # went backwards: start over (Consul's blocking-query rules)
                else:
                    index = max(answered, 1)  # never wait on 0: that returns at once
                if last is None and since is not None and answered == since:
                    last = kept  # the caller's snapshot, unchanged
                    continue
                if kept != last:
                    last = kept
                    emit(Snapshot(dict(sorted(kept.items())), answered))

    def sources(self) -> str:
        return str(self.nodes)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._watch_socket.cut()
        self._client.close()
        if self._watch_client is not None:
            self._watch_client.close()

    # -- one listing ------------------------------------------------------------------

    def _list(self, client: httpx.Client, prefix: str, index: int | None) -> tuple[dict[str, str], int | None]:
        """``GET /v1/kv/<prefix>?recurse`` (blocking from ``index`` when given) from the
        first node that answers: the values by confd key, and X-Consul-Index."""
        params: dict[str, str] = {"recurse": ""}
        timeout: httpx.Timeout | None = None
        extensions: dict[str, Any] | None = None
        if index is not None:
            params.update(index=str(index), wait=f"{WAIT_SECONDS}s")
            # Consul adds up to wait/16 of jitter; past that and our own bound, it is gone.
            timeout = httpx.Timeout(self._timeout, read=WAIT_SECONDS * 17 / 16 + self._timeout)
            extensions = {"trace": self._watch_socket.trace}
        path = "/v1/kv/" + quote(prefix, safe="/")
        failures: list[str] = []
        for position, node in self.nodes:
            if self._closed:
                raise BackendError("consul backend is closed")
            try:
                response = client.get(
                    node + path,
                    params=params,
                    timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                    extensions=extensions,
                )
            except httpx.TransportError as exc:
                failures.append(f"{node}: {http.failure_reason(exc, self._timeout)}")
                continue
            except httpx.HTTPError as exc:
                raise BackendError(f"consul at {node}: {exc}") from None
            except RuntimeError as exc:  # httpx: "the client has been closed"
                raise BackendError("consul backend is closed") from exc
            if response.status_code >= 500:  # no leader, an agent without servers...
                failures.append(f"{node}: {http.status_text(response)}")
                continue
            self.nodes.answered(position)
            return self._decode(node, response), _index(response)
        raise self.nodes.unavailable(failures)

    def _decode(self, node: str, response: httpx.Response) -> dict[str, str]:
        if response.status_code == 404:
            return {}  # nothing under the prefix
        if response.status_code == 403:
            raise BackendError(
                f"consul at {node}: {http.status_text(response)} (the ACL token comes from -auth-token, "
                "CONSUL_HTTP_TOKEN_FILE or CONSUL_HTTP_TOKEN)"
            )
        if response.status_code != 200:
            raise BackendError(f"consul at {node}: {http.status_text(response)}")
        try:
            entries = response.json()
        except ValueError:
            raise http.not_json("consul", node, response) from None
        if not isinstance(entries, list):
            raise http.not_json("consul", node, response)
        values: dict[str, str] = {}
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("Key"), str):
                raise BackendError(f"consul at {node} answered with an entry without a key: {http.snippet(str(entry), 80)!r}")
            raw = entry.get("Value")
            try:
                value = base64.b64decode(raw, validate=True) if raw else b""
            except (ValueError, TypeError):
                raise BackendError(f"consul at {node}: the value of {entry['Key']!r} is not base64") from None
            values[gopath.join("/", entry["Key"])] = value.decode("utf-8", "replace")
        return values
