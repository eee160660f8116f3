"""What differs between the backends inside a unit of work: transaction isolation and index
hints, chosen per database (SQLite, or MySQL/MariaDB)."""

from __future__ import annotations

import peewee


def is_mysql(database: peewee.Database) -> bool:
    database = getattr(database, "obj", database)
    return isinstance(database, peewee.MySQLDatabase)


def read_committed(database: peewee.Database):
    """A transaction at READ COMMITTED on MySQL/MariaDB (row locks only, no gap locks, and reads
    that see every commit made before each statement); a plain one on SQLite, whose
    IMMEDIATE transactions are serialised anyway."""
    database = getattr(database, "obj", database)
    if is_mysql(database):
        return database.atomic(isolation_level="READ COMMITTED")
    return database.atomic()


def table_by_index(database: peewee.Database, table: str, index: str) -> str:
    """A FROM clause that reads ``table`` through ``index`` (``FORCE INDEX`` on MySQL/MariaDB,
    ``INDEXED BY`` on SQLite). MariaDB prefers the clustered primary key for an id range even
    when a narrow covering index exists; reading the wide rows would make the cost follow the
    rows' width, not their number."""
    database = getattr(database, "obj", database)
    quote = database.quote
    if is_mysql(database):
        return f"{table.join(quote)} FORCE INDEX ({index.join(quote)})"
    return f"{table.join(quote)} INDEXED BY {index.join(quote)}"


def read_snapshot(database: peewee.Database):
    """A read-only transaction whose statements all see one consistent snapshot, taking no
    write lock: REPEATABLE READ on MySQL/MariaDB (the snapshot is fixed by the first read), a
    DEFERRED transaction on SQLite (in WAL mode a reader never blocks the writers)."""
    database = getattr(database, "obj", database)
    if is_mysql(database):
        return database.atomic(isolation_level="REPEATABLE READ")
    return database.atomic(lock_type="DEFERRED")
