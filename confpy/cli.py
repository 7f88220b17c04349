"""``confpy``: confd's command line. It parses, sets up logging, and hands off."""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from . import __version__
from .errors import ConfigError, ConfpyError
from .goflag import FlagError, HelpRequested
from .log import LOG_FORMATS, parse_level, setup_logging
from .problems import WarnOnce
from .settings import Settings, build_flagset, load_settings

if TYPE_CHECKING:
    from .observe import Observer

__all__ = ["console_main", "main"]

log = logging.getLogger("confpy.cli")


def console_main() -> None:
    """The ``confpy`` command: ``main``, then exit at once.

    Two costs of a short run are skipped. Start-up makes tens of thousands of objects
    that live as long as the process (modules, classes, functions), and the cycle
    collector would scan them some sixty times for nothing (10 ms here): it stays off
    while confpy starts and through a one-shot run, whose own garbage reference counting
    frees (the daemon turns it back on). And everything is done when ``main`` returns:
    files written and synced, commands waited for, the backend closed. An orderly
    interpreter shutdown would then spend 20 to 30 ms freeing every module one by one,
    so the streams are flushed and the process ends without it.
    """
    gc.disable()
    code = main()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said anyway
            pass
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run confpy with ``argv`` (default: the process arguments); returns the exit code."""
    program = sys.argv[0] if sys.argv and sys.argv[0] else "confpy"
    args = list(sys.argv[1:] if argv is None else argv)
    flagset = build_flagset(program)
    try:
        given, _positional = flagset.parse(args)
    except HelpRequested:
        sys.stderr.write(flagset.usage())
        return 0
    except FlagError as exc:
        sys.stderr.write(f"{exc}\n{flagset.usage()}")
        return 2
    if given.get("version"):
        import platform

        print(f"confpy {__version__} (confd 0.16.0 compatible, Python {platform.python_version()})")
        return 0

    # -log-format json from the start when given on the command line: even the errors
    # about the rest of the settings come as JSON then.
    early_format = given.get("log-format", "text")
    setup_logging(logging.INFO, argv0=program, fmt=early_format if early_format in LOG_FORMATS else "text")
    if given.get("validate"):
        from .validate import run_validate

        return run_validate(given)
    warn = WarnOnce(log)
    warnings: list[str] = []  # logged once the configured level is known
    try:
        settings = load_settings(given, warn=warnings.append)
        setup_logging(parse_level(settings.log_level), argv0=program, fmt=settings.log_format)
        for message in warnings:
            warn(message)
        settings = _resolve_nodes(settings)
    except (ConfigError, ValueError) as exc:
        log.critical("%s", exc)
        return 1

    def reload_settings() -> Settings:
        return _resolve_nodes(load_settings(given, warn=warn))

    try:
        return _run(settings, reload_settings)
    except KeyboardInterrupt:
        return 130


def _resolve_nodes(settings: Settings) -> Settings:
    """SRV discovery, as confd does it before anything else."""
    record = settings.srv_record
    if settings.srv_domain and not record:
        record = f"_{settings.backend}._tcp.{settings.srv_domain}."
    if settings.backend == "env" or not record:
        return settings
    log.info("SRV record set to %s", record)
    from .dnslookup import DNSError, lookup_srv

    try:
        targets = lookup_srv("", "", record)
    except DNSError as exc:
        raise ConfigError(f"Cannot get nodes from SRV records {exc}") from None
    nodes = tuple(f"{srv.Target.rstrip('.')}:{srv.Port}" for srv in targets)
    if settings.backend == "etcd":
        nodes = tuple(f"{settings.scheme}://{node}" for node in nodes)
    return settings._replace(nodes=nodes)


def _run(settings: Settings, reload_settings: Callable[[], Settings]) -> int:
    from .backends.registry import create_backend
    from .processor import backend_settings, run_onetime

    log.info("Backend set to %s", settings.backend or "etcd")
    if settings.secret_keyring:
        log.warning("-secret-keyring is not supported: templates cannot use cget, cgets, cgetv or cgetvs")
    log.info("Starting confd")
    try:
        backend = create_backend(backend_settings(settings)._replace(environ=os.environ))
    except ConfpyError as exc:
        log.critical("%s", exc)
        return 1
    observer: Observer | None = None
    try:
        log.info("Backend source(s) set to %s", backend.sources())
        if settings.onetime and not settings.metrics_addr:
            return run_onetime(settings, backend)
        try:
            observer = _observer(settings, backend.name)
        except ConfigError as exc:
            log.critical("%s", exc)
            return 1
        if settings.onetime:
            return run_onetime(settings, backend, observer)
        from .daemon import run_daemon

        # A long run needs the cycle collector (console_main turned it off); what
        # start-up made stays for good, so it is frozen out of every collection.
        gc.freeze()
        gc.enable()
        return run_daemon(settings, backend, reload_settings, observer)
    finally:
        if observer is not None:
            observer.close()
        backend.close()


def _observer(settings: Settings, backend: str) -> Observer:
    """What watches the loop: systemd (under a unit with Type=notify, daemon modes) and,
    with -metrics-addr, the metrics and health behind an HTTP server. A run with neither
    gets the observer that does nothing."""
    from .observe import NO_OBSERVER, Observers

    parts: list[Observer] = []
    if not settings.onetime:
        from .sdnotify import SystemdNotifier

        notifier = SystemdNotifier.from_environment(os.environ)
        if notifier is not None:
            parts.append(notifier)
    if settings.metrics_addr:
        try:
            from .metrics import Metrics
        except ModuleNotFoundError as exc:
            if (exc.name or "").partition(".")[0] != "prometheus_client":
                raise
            raise ConfigError(
                "-metrics-addr needs the Python package 'prometheus_client', which is not "
                "installed: pip install 'confpy[metrics]'"
            ) from None
        from .health import Health, default_unhealthy_after
        from .opsserver import OpsServer

        metrics = Metrics(backend)
        health = Health(settings.unhealthy_after or default_unhealthy_after(settings.backend_timeout))
        server = OpsServer(settings.metrics_addr, metrics, health)
        server.start()
        log.info("Serving /metrics, /health and /ready on %s", server.address)
        parts += [metrics, health, server]
    if not parts:
        return NO_OBSERVER
    return parts[0] if len(parts) == 1 else Observers(parts)
