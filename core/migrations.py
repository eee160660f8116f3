"""Schema migrations through peewee-migrate, one folder per service (``migrations/<service>``)."""

from __future__ import annotations

import logging

import peewee
from peewee_migrate import Router

from .config import REPO_ROOT


def migrations_dir(service: str) -> str:
    return str(REPO_ROOT / "migrations" / service)


def router(database: peewee.Database, service: str) -> Router:
    return Router(database, migrate_dir=migrations_dir(service),
                  logger=logging.getLogger(f"guestsync.migrate.{service}"))


def migrate(database: peewee.Database, service: str, upto: str | None = None) -> list[str]:
    """Apply every pending migration (or those up to and including ``upto``); returns the names applied."""
    with database.connection_context():
        return router(database, service).run(upto)


def rollback(database: peewee.Database, service: str) -> None:
    """Undo the most recent migration."""
    with database.connection_context():
        router(database, service).rollback()
