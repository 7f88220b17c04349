"""Key/value store backends behind one small protocol (``base.Backend``).

How to add a backend (a store ``foo``):

1. ``confpy/backends/foo.py``: a class with ``name = "foo"``, ``prefix_ordered`` and the
   methods of ``base.Backend``:

   - ``__init__(settings: BackendSettings)``: read what you need (``nodes``, ``timeout``,
     TLS files, credentials); a bad setting is a ``ConfigError`` naming it. Connect
     lazily or fail fast, but never put a secret in a message.
   - ``get_values(keys) -> Snapshot``: every key under each requested key, full keys with
     a leading ``/``; a missing key is simply absent. ``BackendUnavailable`` when no node
     answers (the daemon retries), ``BackendError`` for anything else. Give the store's
     revision as ``Snapshot.index`` if it has one.
   - ``key_matches(requested, found)``: which keys reading ``requested`` returns (a path
     boundary for most stores; confd's plain string prefix for some).
   - ``watch(keys, since, emit, stop)``: report changes after the snapshot at ``since``
     until ``stop`` is set; see its docstring for ``Change``, fresh snapshots,
     ``HistoryLost``, and a store that cannot watch (it blocks until stopped). Register
     with ``stop.on_set`` whatever wakes a blocked read. One connection or session for
     all keys: the daemon calls ``watch`` once per backend, never per resource.
   - ``sources()`` (for confd's ``Backend source(s) set to`` line) and ``close()``.

   Import a heavy client library inside this module only: the registry imports the
   module when the backend is chosen, so other runs never pay for it.
2. ``confpy/backends/registry.py``: the name, ``"confpy.backends.foo:FooBackend"``, its
   default nodes, and (for an optional dependency) the extra that provides its library.
3. Tests: ``tests/backends/test_foo.py`` against the real server (a session fixture
   starting it on a free loopback port: see ``tests/store_servers.py`` and
   ``tests/conftest.py``); then add the store to ``tests/store_adapters.py``, and
   ``tests/test_onetime_stores.py`` (``-onetime``, ``-interval``) and
   ``tests/test_daemon_stores.py`` (``-watch``, outages, connection counts) run their
   scenarios against it too. Nothing else in confpy changes: the fetch plan, the watcher
   and the daemon work through the protocol.
"""
