"""What every service's ``python -m <service>`` shares: settings, logging, migration commands
and the start-up check that the database is migrated."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from typing import Protocol, Self, TypeVar

import peewee

from .config import ConfigError
from .db import DatabaseUnavailable, Store
from .logging import configure_logging
from .migrations import migrate, rollback
from .readiness import check_readiness_sync


class ServiceSettings(Protocol):
    """What the start-up code needs of a service's settings class."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self: ...


S = TypeVar("S", bound=ServiceSettings)
log = logging.getLogger("guestsync.cli")

# Exit status of a start refused because the database is unreachable or not migrated
# (2 stays "configuration error").
EXIT_DATABASE = 3


def load_settings(settings_cls: type[S], service: str) -> S:
    """The service's settings from the environment, logging configured; exit 2 on a bad value."""
    try:
        settings = settings_cls.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(service, getattr(settings, "log_level", "INFO"))
    return settings


def start_tracing(service: str, settings):
    """Export traces when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (a ``core.otel.Tracing`` to
    stop at exit), else ``None``: OpenTelemetry is then never imported. Call it before the
    database is opened, so that its connections are instrumented."""
    endpoint = getattr(settings, "otel_exporter_otlp_endpoint", None)
    if not endpoint:
        return None
    from .otel import start_tracing as start  # only now: nothing is loaded when it is unset

    tracing = start(service, endpoint)
    log.info("exporting traces to %s", endpoint)
    return tracing


def _one_line(exc: BaseException) -> str:
    """The error on one line: the driver's message for a database error, else the exception's
    type too (a migration file is code, and any exception in it fails the command)."""
    text = " ".join(str(exc).split())
    if isinstance(exc, (peewee.PeeweeException, DatabaseUnavailable)):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_migrations(command: str, service: str, open_store: Callable[[], Store]) -> int:
    """``migrate`` applies every pending migration; ``rollback`` undoes the latest one.

    A database error (unreachable, refused credentials, unknown database) or a migration that
    fails is one line on stderr and exit status 1, not a traceback; ``LOG_LEVEL=DEBUG`` logs the
    traceback too.
    """
    store = open_store()
    try:
        if command == "migrate":
            applied = migrate(store.database, service)
            print(f"{service}: applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")
        else:
            rollback(store.database, service)
            print(f"{service}: rolled back the latest migration")
    except Exception as exc:  # noqa: BLE001 - any failure of a migration is the command's failure
        log.debug("%s %s failed", service, command, exc_info=True)
        print(f"{service}: {command} failed: {_one_line(exc)}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


def prepare_database(service: str, store: Store, apply_migrations: bool, command: str) -> None:
    """Before a service starts: apply pending migrations when told ``--migrate``, then refuse to
    start (exit ``EXIT_DATABASE``) unless the database answers and every migration is applied.

    A process serving an older schema fails on every request (or loops on ``no such table`` in
    a worker) while looking healthy; refusing here names the cause once, at the start.
    ``command`` is how to start this service again, for the message.
    """
    if apply_migrations:
        try:
            applied = migrate(store.database, service)
        except Exception as exc:  # noqa: BLE001 - as in run_migrations
            log.debug("%s --migrate failed", service, exc_info=True)
            _refuse(store, f"{service}: --migrate failed: {_one_line(exc)}")
        if applied:
            log.info("%s: applied %d migration(s): %s", service, len(applied), ", ".join(applied))
    readiness = check_readiness_sync(store, service)
    if not readiness.database_ok:
        _refuse(store, f"{service}: cannot start: the database is unavailable ({readiness.error})")
    if readiness.pending:
        _refuse(
            store,
            f"{service}: cannot start: the database lacks {len(readiness.pending)} migration(s): "
            f"{', '.join(readiness.pending)}. Run `python -m {command.split()[0]} migrate` "
            f"first, or start with `python -m {command} --migrate`.",
        )


def _refuse(store: Store, message: str) -> None:
    print(message, file=sys.stderr, flush=True)
    store.close()
    raise SystemExit(EXIT_DATABASE)
