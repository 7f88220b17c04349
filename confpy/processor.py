"""One processing cycle, and the one-shot mode built on it.

A cycle (the whole of ``-onetime``, one tick of ``-interval``, one batch of watch events)
reads every resource's keys in one fetch plan, then renders and syncs each resource in
order, going on past a failed one. Every mode runs the same ``Cycle``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .backends.base import Backend, BackendSettings, Snapshot
from .errors import BackendError, CheckFailed, ConfigError, ConfpyError, ReloadFailed
from .log import log_fields
from .observe import NO_OBSERVER, Observer, SyncResult
from .plan import FetchPlan, resource_view
from .render import Renderer
from .resources import ConfdirMissing, TemplateResource, load_resources
from .settings import Settings
from .sync import SyncOptions, SyncOutcome, reload, sync, sync_directories

if TYPE_CHECKING:  # the state file is read only when there are resources to process
    from .pending import PendingReloads
    from .rollback import Rejected, Undo

__all__ = [
    "Cycle",
    "CycleResult",
    "backend_settings",
    "failed_labels",
    "load_or_wait",
    "pending_reloads",
    "run_onetime",
]

log = logging.getLogger("confpy.processor")


class CycleResult:
    def __init__(self) -> None:
        self.errors: list[tuple[TemplateResource, ConfpyError]] = []
        self.updated: list[TemplateResource] = []  # dest replaced
        # Nothing owed: reload_cmd ran fine (or had nothing to run), with the new file or,
        # after a rollback, with the previous one.
        self.reloaded: list[TemplateResource] = []
        self.reload_failed: list[TemplateResource] = []  # a reload is owed
        self.rolled_back: list[TemplateResource] = []  # the previous file was put back


class Cycle:
    """Fetch, render and sync a list of resources against one backend."""

    def __init__(
        self,
        backend: Backend,
        options: SyncOptions,
        renderer: Renderer | None = None,
        observer: Observer = NO_OBSERVER,
        rejected: Rejected | None = None,
    ) -> None:
        self.backend = backend
        self.options = options
        self.renderer = renderer or Renderer()
        self.observer = observer
        self.rejected = rejected  # a daemon's memory of rolled-back content; None: -onetime

    def run(
        self,
        resources: Sequence[TemplateResource],
        snapshot: Snapshot | None = None,
        *,
        batch_reloads: bool = False,
        force_reload: Collection[Path] = (),
        should_stop: Callable[[], bool] = lambda: False,
    ) -> CycleResult:
        """Process ``resources`` in order; ``snapshot``, if given, is used instead of a fetch.

        With ``batch_reloads``, each distinct reload_cmd runs once, after every resource
        is synced; ``force_reload`` names resources (by conf.d path) whose reload failed
        before and runs again even if their file is in sync. ``should_stop`` is asked
        before each resource: a daemon told to exit finishes the sync under way only.
        """
        result = CycleResult()
        fetch_error: BackendError | None = None
        if snapshot is None:
            plan = FetchPlan.for_resources(resources, self.backend)
            log.debug("Retrieving keys from store")
            started = time.perf_counter()
            try:
                snapshot = self.backend.get_values(plan.keys) if plan.keys else Snapshot({})
            except BackendError as exc:
                fetch_error = exc
            if plan.keys:
                self.observer.store_read(self.backend.name, time.perf_counter() - started, fetch_error is None)
        sorted_keys = sorted(snapshot.values) if snapshot is not None else []
        # One resource at a time, to the end, as confd: a template may look at a file an
        # earlier resource just wrote, and two resources may share a dest.
        to_reload: list[TemplateResource] = []
        processed: list[TemplateResource] = []
        undo: dict[int, Undo] = {}  # by resource id: what a rollback would put back
        for resource in resources:
            if should_stop():
                break
            processed.append(resource)
            try:
                outcome = self._process(resource, snapshot, sorted_keys, fetch_error, undo)
            except ConfpyError as exc:
                log.error("%s", exc, extra=log_fields(resource=resource.label, dest=resource.dest, error=exc))
                result.errors.append((resource, exc))
                continue
            committed = outcome is not None and outcome.committed
            if committed:
                result.updated.append(resource)
            if not (committed or (force_reload and resource.path in force_reload)):
                continue
            if batch_reloads:
                to_reload.append(resource)
            else:
                self._reload([resource], result, {id(resource)} if committed else set(), undo)
        sync_directories(r.dest for r in result.updated)
        if to_reload:
            by_command: dict[str, list[TemplateResource]] = {}
            for resource in to_reload:
                by_command.setdefault(resource.reload_cmd, []).append(resource)
            updated = {id(r) for r in result.updated}
            for group in by_command.values():
                self._reload(group, result, updated, undo)
        self._report(processed, result)
        return result

    def _report(self, processed: Sequence[TemplateResource], result: CycleResult) -> None:
        if self.observer is NO_OBSERVER:
            return
        failed = {id(resource) for resource, _ in result.errors}
        updated = {id(resource) for resource in result.updated}
        for resource in processed:
            if id(resource) in failed:
                outcome = SyncResult.FAILED
            elif id(resource) in updated:
                outcome = SyncResult.UPDATED
            else:
                outcome = SyncResult.UNCHANGED
            self.observer.synced(resource.label, outcome)

    def _reload(self, group: list[TemplateResource], result: CycleResult, updated: set[int], undo: dict[int, Undo]) -> None:
        """Run the reload_cmd the resources of ``group`` share, once; then say which of
        them (``updated``, by id) have been updated. When it fails, those with a
        rollback (in ``undo``) are rolled back."""
        first = group[0]
        if first.reload_cmd and not self.options.sync_only and not self.options.noop:
            try:
                reload(first)
            except ReloadFailed as exc:
                self.observer.command_ran("reload", False)
                for resource in group:
                    log.error("%s", exc, extra=log_fields(resource=resource.label, dest=resource.dest, error=exc))
                rollbacks = [undo[id(r)] for r in group if id(r) in undo]
                if rollbacks:
                    self._roll_back(group, exc, rollbacks, result, updated)
                    return
                for resource in group:
                    result.errors.append((resource, exc))
                    result.reload_failed.append(resource)
                return
            self.observer.command_ran("reload", True)
        result.reloaded.extend(group)
        for resource in group:
            if id(resource) in updated:
                _updated(resource)

    def _roll_back(
        self, group: list[TemplateResource], failure: ReloadFailed, rollbacks: list[Undo], result: CycleResult, updated: set[int]
    ) -> None:
        """Put the previous files back, run reload_cmd again, and say what is owed: see
        ``rollback``. A resource of the group without a rollback fails with the first
        failure, unless the second reload worked (with its new file)."""
        from .rollback import roll_back

        outcome = roll_back(rollbacks)
        if outcome.restored:
            self.observer.command_ran("reload", outcome.reloaded)
        unrestored = {id(item.resource): error for item, error in outcome.unrestored}
        restored = {id(item.resource) for item in outcome.restored}
        for item in outcome.restored:
            result.rolled_back.append(item.resource)
            if self.rejected is not None:
                self.rejected.add(item.resource, item.content)
                log.info(
                    "%s will not be written with this content again until it changes (or SIGHUP) (resource %s)",
                    item.resource.dest, item.resource.label,
                    extra=log_fields(resource=item.resource.label, dest=item.resource.dest),
                )  # fmt: skip
        for resource in group:
            key = id(resource)
            if key in unrestored:  # the new file stayed: its reload is owed
                result.errors.append((resource, unrestored[key]))
                result.reload_failed.append(resource)
            elif key in restored:  # failed; a reload is owed only if the second one failed
                result.errors.append((resource, outcome.again or failure))
                (result.reloaded if outcome.reloaded else result.reload_failed).append(resource)
            elif outcome.reloaded:  # no rollback, and the second reload took its new file
                result.reloaded.append(resource)
                if key in updated:
                    _updated(resource)
            else:
                result.errors.append((resource, failure))
                result.reload_failed.append(resource)

    def _process(
        self,
        resource: TemplateResource,
        snapshot: Snapshot | None,
        sorted_keys: list[str],
        fetch_error: BackendError | None,
        undo: dict[int, Undo],
    ) -> SyncOutcome | None:
        """Render one resource from its view of the snapshot and sync it; None when the
        content is one a reload rejected before (a daemon does not write it again)."""
        if resource.problem is not None:
            raise ConfigError(resource.problem)
        log.debug("Key prefix set to %s", resource.prefix)
        if fetch_error is not None and resource.keys:
            raise fetch_error
        store = resource_view(snapshot or Snapshot({}), sorted_keys, resource, self.backend)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("Got the following map from store: %s", _go_map(store.items()))
        if self.observer is NO_OBSERVER:  # no timing to take: a one-shot run's usual case
            content = self.renderer.render(resource, store)
        else:
            started = time.perf_counter()
            content = self.renderer.render(resource, store)
            self.observer.rendered(resource.label, time.perf_counter() - started)
        if self.rejected is not None and self.rejected.holds(resource, content):
            log.info(
                "Not writing %s: this content was rolled back after reload_cmd failed; waiting for a change (resource %s)",
                resource.dest, resource.label,
                extra=log_fields(resource=resource.label, dest=resource.dest),
            )  # fmt: skip
            return None
        checks = bool(resource.check_cmd) and not (self.options.sync_only or self.options.noop)
        try:
            outcome = sync(resource, content, self.options)
        except CheckFailed:
            if checks:
                self.observer.command_ran("check", False)
            raise
        if outcome.committed and checks:
            self.observer.command_ran("check", True)
        if outcome.previous is not None:
            from .rollback import Undo

            undo[id(resource)] = Undo(resource, outcome.previous, content)
        return outcome


def _updated(resource: TemplateResource) -> None:
    log.info(
        "Target config %s has been updated", resource.dest,
        extra=log_fields(resource=resource.label, dest=resource.dest),
    )  # fmt: skip


def _key(error: BaseException) -> str:
    return log_fields(error=error).get("key", "")


def _go_map(items: Sequence[tuple[str, str]]) -> str:
    return "map[" + " ".join(f"{k}:{v}" for k, v in items) + "]"


def backend_settings(settings: Settings) -> BackendSettings:
    return BackendSettings(
        backend=settings.backend,
        nodes=settings.nodes,
        scheme=settings.scheme,
        basic_auth=settings.basic_auth,
        username=settings.username,
        password=settings.password,
        auth_token=settings.auth_token,
        client_cert=settings.client_cert,
        client_key=settings.client_key,
        client_cakeys=settings.client_cakeys,
        client_insecure=settings.client_insecure,
        files=settings.files,
        filter=settings.filter,
        separator=settings.separator,
        timeout=settings.backend_timeout,
    )


def sync_options(settings: Settings) -> SyncOptions:
    return SyncOptions(
        noop=settings.noop, sync_only=settings.sync_only, keep_stage_file=settings.keep_stage_file, diff=settings.diff
    )


def load_or_wait(settings: Settings, warn: Callable[[str], None] | None = None) -> list[TemplateResource]:
    """The resources for a daemon: none, after a warning, when the confdir or its
    resources are missing (they may appear: the daemon goes on and looks again).

    Raises ConfigError for what confd treats as fatal (bad TOML, no conf.d); ``warn``
    receives what confd ignores (an unknown field).
    """
    try:
        resources = load_resources(settings, warn)
    except ConfdirMissing as exc:
        log.warning("%s; waiting for it to appear", exc)
        return []
    if not resources:
        log.warning("Found no templates in %s; waiting for resource files (*.toml) to appear", settings.conf_d)
    return resources


def pending_reloads(settings: Settings) -> PendingReloads:
    from .pending import PendingReloads, default_state_file

    return PendingReloads(Path(settings.state_file) if settings.state_file else default_state_file())


def run_onetime(settings: Settings, backend: Backend, observer: Observer = NO_OBSERVER) -> int:
    """confd -onetime: process every resource once; 1 if any failed (after a FATAL line).

    A reload that failed in an earlier run (recorded in the state file) runs again even
    when the file is in sync.
    """
    try:
        resources = load_resources(settings)
    except ConfigError as exc:
        log.critical("%s", exc)
        return 1
    if not resources:  # confd exits 0 here: a cron job would never notice
        log.critical("Found no templates in %s: nothing to render", settings.conf_d)
        return 1
    observer.loop_started("onetime")
    observer.resources_loaded([r.label for r in resources])
    commands = not (settings.noop or settings.sync_only)
    pending = pending_reloads(settings)
    owed = pending.owed(resources) if commands else []
    for resource in owed:
        log.info(
            "The reload of %s failed in an earlier run; running it again (resource %s)", resource.dest, resource.label,
            extra=log_fields(resource=resource.label, dest=resource.dest),
        )  # fmt: skip
    observer.cycle_started()
    result = Cycle(backend, sync_options(settings), observer=observer).run(resources, force_reload={r.path for r in owed})
    observer.cycle_done(True, failed_labels(result))
    if commands:
        pending.update(result.reload_failed, result.reloaded)
    return report_failures(result, len(resources))


def failed_labels(result: CycleResult) -> list[str]:
    """The labels of the resources that failed in a cycle, each once, in order."""
    return list(dict.fromkeys(resource.label for resource, _ in result.errors))


def report_failures(result: CycleResult, count: int) -> int:
    """confd's closing FATAL line: the error itself when one resource failed, a summary
    naming each when several did; the exit code."""
    failed = failed_labels(result)
    if not failed:
        return 0
    if len(failed) == 1:
        resource, error = result.errors[-1]
        # The error again, without the output the ERROR line showed: one FATAL line.
        log.critical("%s", error, extra=log_fields(resource=resource.label, dest=resource.dest, key=_key(error)))
    else:
        log.critical("%d of %d resources failed: %s", len(failed), count, ", ".join(failed))
    return 1
