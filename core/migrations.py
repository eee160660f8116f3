"""Schema migrations through peewee-migrate, one folder per service (``migrations/<service>``)."""

from __future__ import annotations

import logging

import peewee
from peewee_migrate import Router
from peewee_migrate.models import MIGRATE_TABLE

from .config import REPO_ROOT


def migrations_dir(service: str) -> str:
    return str(REPO_ROOT / "migrations" / service)


def router(database: peewee.Database, service: str) -> Router:
    return Router(
        database, migrate_dir=migrations_dir(service), logger=logging.getLogger(f"guestsync.migrate.{service}")
    )


def migrate(database: peewee.Database, service: str, upto: str | None = None) -> list[str]:
    """Apply every pending migration (or those up to and including ``upto``); returns the names applied."""
    with database.connection_context():
        return router(database, service).run(upto)


def rollback(database: peewee.Database, service: str) -> None:
    """Undo the most recent migration."""
    with database.connection_context():
        router(database, service).rollback()


def pending_migrations(database: peewee.Database, service: str) -> list[str]:
    """The migrations of ``migrations/<service>`` not yet applied to ``database``, oldest first.

    Reads the history table directly instead of through ``Router.done``: that creates the table
    when it is missing (a readiness probe must not write) and binds peewee-migrate's one shared
    history model to this database (a process holding two databases would race on it).
    Call it inside a connection (``Store.call``/``Store.run``).
    """
    files = router(database, service).todo
    if not database.table_exists(MIGRATE_TABLE):
        return list(files)
    cursor = database.execute_sql(f"SELECT name FROM {MIGRATE_TABLE.join(database.quote)}")
    done = {name for (name,) in cursor.fetchall()}
    return [name for name in files if name not in done]
