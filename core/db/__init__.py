"""Database setup and the one way to run a unit of work.

Each service's models bind to its own ``peewee.DatabaseProxy``; ``open_database(url)``
builds the real database (SQLite by default, MySQL/MariaDB through a pooled, reconnecting
database) and ``Store`` runs every unit of work on an executor thread inside
``connection_context()`` and ``atomic()``, so no query ever runs on the IOLoop thread and no
transaction is shared between requests.

One module per concern; everything public is imported from ``core.db``:

- ``database``: ``open_database`` and the reconnecting MySQL pool,
- ``store``: ``Store``, the unit of work,
- ``dialect``: per-backend transactions and index hints (``read_committed``, ``read_snapshot``,
  ``table_by_index``, ``is_mysql``),
- ``errors``: what a driver error means (``DatabaseUnavailable``, retryable codes),
- ``fields``: shared column types, ``clock``: ``utcnow`` and ``iso``.
"""

from .clock import iso, utcnow
from .database import ReconnectingPooledMySQLDatabase, open_database
from .dialect import is_mysql, read_committed, read_snapshot, table_by_index
from .errors import (
    MYSQL_DEADLOCK,
    MYSQL_DUPLICATE_KEY,
    MYSQL_LOCK_WAIT_TIMEOUT,
    RETRYABLE_CODES,
    SQLITE_UNAVAILABLE,
    UNAVAILABLE_CODES,
    DatabaseUnavailable,
    is_duplicate_key,
    is_unavailable,
    mysql_error_code,
)
from .fields import IdField, JSONTextField, UtcDateTimeField
from .store import Store

__all__ = [
    "MYSQL_DEADLOCK",
    "MYSQL_DUPLICATE_KEY",
    "MYSQL_LOCK_WAIT_TIMEOUT",
    "RETRYABLE_CODES",
    "SQLITE_UNAVAILABLE",
    "UNAVAILABLE_CODES",
    "DatabaseUnavailable",
    "IdField",
    "JSONTextField",
    "ReconnectingPooledMySQLDatabase",
    "Store",
    "UtcDateTimeField",
    "iso",
    "is_duplicate_key",
    "is_mysql",
    "is_unavailable",
    "mysql_error_code",
    "open_database",
    "read_committed",
    "read_snapshot",
    "table_by_index",
    "utcnow",
]
