"""Database setup and the one way to run a unit of work.

Each service's models bind to its own ``peewee.DatabaseProxy``; ``open_database(url)``
builds the real database (SQLite by default, MySQL/MariaDB through a pooled, reconnecting
database) and ``Store`` runs every unit of work on an executor thread inside
``connection_context()`` and ``atomic()``, so no query ever runs on the IOLoop thread and no
transaction is shared between requests.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import json
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

import peewee
from playhouse.pool import PooledMySQLDatabase, PooledSqliteDatabase
from playhouse.shortcuts import ReconnectMixin
from pymysql.constants.SERVER_STATUS import SERVER_STATUS_IN_TRANS

from .config import REPO_ROOT

log = logging.getLogger("guestsync.db")
T = TypeVar("T")

# MySQL error codes that mean "run the whole transaction again".
MYSQL_DEADLOCK = 1213
MYSQL_LOCK_WAIT_TIMEOUT = 1205
MYSQL_DUPLICATE_KEY = 1062
RETRYABLE_CODES = {MYSQL_DEADLOCK, MYSQL_LOCK_WAIT_TIMEOUT}
# MySQL client/server codes that mean "the server cannot be reached or is going away".
UNAVAILABLE_CODES = {1040, 1053, 1927, 2002, 2003, 2005, 2006, 2013, 2014, 2055, 4031}
SQLITE_UNAVAILABLE = ("database is locked", "unable to open database", "disk i/o error")


class DatabaseUnavailable(Exception):
    """The database could not be reached or answered with a server-side failure (-> 503)."""


class ReconnectingPooledMySQLDatabase(ReconnectMixin, PooledMySQLDatabase):
    """Pooled MySQL that reconnects after a server restart (outside transactions only).

    Three round trips of the stock pool are left out, because every unit of work paid them:

    - No ping on checkout. A connection that died while idle (a server restart, a killed
      session) fails on its first statement instead, which is ``BEGIN`` or an autocommit
      statement, both outside a transaction, where ``ReconnectMixin`` replaces the connection
      and runs the statement again.
    - No ``ROLLBACK`` on check-in unless the server says a transaction is still open.
    - The isolation level is a session setting, changed only when a transaction asks for a
      different one than the connection's session has (instead of ``SET TRANSACTION`` before
      every ``BEGIN``). A transaction that names no level runs at ``DEFAULT_ISOLATION``, the
      server's own default, so the result does not depend on what ran on the connection before.
    """

    DEFAULT_ISOLATION = "REPEATABLE READ"

    reconnect_errors = ReconnectMixin.reconnect_errors + (
        (peewee.OperationalError, "2003"),  # can't connect (server restarting)
        (peewee.InterfaceError, ""),        # connection object already closed
    )

    def _is_closed(self, conn) -> bool:
        return not conn.open

    def _can_reuse(self, conn) -> bool:
        if not conn.open:
            return False
        if (conn.server_status or 0) & SERVER_STATUS_IN_TRANS:
            return super()._can_reuse(conn)  # rolls the leftover transaction back
        return True

    def _reconnect(self, func, *args, **kwargs):
        """``func(*args)``, run once more on a new connection if the connection turned out dead.

        ReconnectMixin's own version takes the replacement from the pool, where, after a server
        restart, every idle connection is as dead as the first (nothing pings them any more),
        and its close() empties peewee's stack of open ``connection_context()``s, so the
        enclosing context would fail on exit. Here the idle connections are closed too, the
        replacement is a new connection, and the stack outlives the replacement.
        """
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if self.in_transaction() or not self._connection_lost(exc):
                raise
        contexts = list(self._state.ctx)
        try:
            if not self.is_closed():
                self.close()
            self.close_idle()
            self.connect()
        finally:
            self._state.ctx = contexts
        return func(*args, **kwargs)

    def _connection_lost(self, exc: Exception) -> bool:
        fragments = self._reconnect_errors.get(type(exc))
        text = str(exc).lower()
        return fragments is not None and any(fragment in text for fragment in fragments)

    def begin(self, isolation_level: str | None = None) -> None:
        # Through ReconnectMixin, as its own begin would be: a dead pooled connection is replaced here.
        self._reconnect(self._begin_at, isolation_level or self.DEFAULT_ISOLATION)

    def _begin_at(self, level: str) -> None:
        conn = self.connection()
        # peewee's own translation of driver errors (absent from its type hints).
        with peewee.__exception_wrapper__:  # type: ignore[attr-defined]
            cursor = conn.cursor()
            if getattr(conn, "session_isolation", None) != level:
                cursor.execute(f"SET SESSION TRANSACTION ISOLATION LEVEL {level}")
                conn.session_isolation = level
            cursor.execute("BEGIN")


class IdField(peewee.BigAutoField):
    """Auto-increment primary key whose values are never reused (AUTOINCREMENT on SQLite).

    SQLite's plain ``INTEGER PRIMARY KEY`` hands a deleted maximum id out again; a reused guest
    id would collide with the CRM's tombstone of the deleted guest.
    """

    def ddl(self, ctx):
        node_list = super().ddl(ctx)
        if ctx.state.field_types.get("BIGAUTO") == "INTEGER":  # SQLite
            return peewee.NodeList((node_list, peewee.SQL("AUTOINCREMENT")))
        return node_list


class UtcDateTimeField(peewee.DateTimeField):
    """Naive-UTC datetime with microseconds on every backend."""

    field_type = "DATETIME(6)"


class JSONTextField(peewee.TextField):
    """JSON stored as text (LONGTEXT on MySQL), portable across SQLite, MySQL and MariaDB."""

    field_type = "LONGTEXT"

    def db_value(self, value):
        if value is None:
            return None
        # allow_nan=False: a stored NaN/Infinity would be served back as text that is not JSON.
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

    def python_value(self, value):
        if value is None or value == "":
            return None
        return json.loads(value)


def utcnow() -> dt.datetime:
    """Naive UTC now, the form every datetime column stores."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def iso(value: dt.datetime | dt.date | None) -> str | None:
    """ISO 8601 UTC with ``Z`` for datetimes (milliseconds), plain ISO for dates."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.isoformat()


def is_mysql(database: peewee.Database) -> bool:
    database = getattr(database, "obj", database)
    return isinstance(database, peewee.MySQLDatabase)


def mysql_error_code(exc: BaseException) -> int | None:
    """The numeric MySQL error code of a (peewee-wrapped) driver error, if any."""
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], int):
        return args[0]
    orig = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    if orig is not None and orig is not exc:
        args = getattr(orig, "args", ())
        if args and isinstance(args[0], int):
            return args[0]
    return None


def is_unavailable(exc: BaseException) -> bool:
    """Whether a driver error means the database is unreachable or overloaded (-> 503), as
    opposed to a fault in the query itself (-> 500, logged)."""
    if isinstance(exc, peewee.InterfaceError):
        return True
    code = mysql_error_code(exc)
    if code is not None:
        return code in UNAVAILABLE_CODES
    return str(exc).lower().startswith(SQLITE_UNAVAILABLE)


def is_duplicate_key(exc: BaseException) -> bool:
    if mysql_error_code(exc) == MYSQL_DUPLICATE_KEY:
        return True
    return "UNIQUE constraint failed" in str(exc)


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


def open_database(url: str, max_connections: int = 16) -> peewee.Database:
    """A database for ``sqlite:///path`` or ``mysql://user:pass@host:port/name`` URLs."""
    parsed = urlparse(url)
    scheme = parsed.scheme.split("+")[0]
    if scheme == "sqlite":
        if ":///" not in url:
            raise ValueError("SQLite URLs look like sqlite:///relative/path.db or sqlite:////abs/path.db")
        path = unquote(url.split(":///", 1)[1])
        if path != ":memory:" and not os.path.isabs(path):
            path = str(REPO_ROOT / path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return PooledSqliteDatabase(
            path,
            max_connections=max_connections,
            stale_timeout=300,
            timeout=30,
            lock_type="IMMEDIATE",  # writers queue on busy_timeout instead of deadlocking
            pragmas={
                "journal_mode": "wal",
                "busy_timeout": 10000,
                "synchronous": "normal",
                "foreign_keys": 1,
            },
            check_same_thread=False,
        )
    if scheme in ("mysql", "mariadb"):
        return ReconnectingPooledMySQLDatabase(
            unquote(parsed.path.lstrip("/")),
            max_connections=max_connections,
            stale_timeout=300,
            timeout=30,
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 3306,
            user=unquote(parsed.username or "root"),
            password=unquote(parsed.password or ""),
            charset="utf8mb4",
            connect_timeout=5,
        )
    raise ValueError(f"unsupported database URL scheme {parsed.scheme!r}")


class Store:
    """Runs units of work against one database, off the IOLoop thread.

    ``await store.run(fn, *args)`` calls ``fn(*args)`` on an executor thread inside
    ``connection_context()`` and ``atomic()``: the function's queries commit together or not at
    all. Deadlocks and lock-wait timeouts retry the whole unit; an unreachable database raises
    ``DatabaseUnavailable``. Threads that are not the IOLoop's (delivery workers) call
    ``store.call(fn, *args)`` for the same guarantees.
    """

    def __init__(self, database: peewee.Database, max_workers: int = 8, name: str = "db",
                 retries: int = 4):
        self.database = database
        self.executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=f"{name}-db")
        self.retries = retries

    @property
    def is_mysql(self) -> bool:
        return is_mysql(self.database)

    def call(self, fn: Callable[..., T], *args: Any, transaction: bool = True) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                with self.database.connection_context():
                    if not transaction:
                        return fn(*args)
                    with self.database.atomic():
                        return fn(*args)
            except (peewee.OperationalError, peewee.InterfaceError) as exc:
                code = mysql_error_code(exc)
                if code in RETRYABLE_CODES and attempt < self.retries:
                    time.sleep(0.005 * attempt)
                    continue
                if not is_unavailable(exc):
                    raise  # a deadlock that kept recurring, or a fault in the query: a 500
                log.warning("database unavailable: %s", exc)
                raise DatabaseUnavailable(str(exc)) from exc

    async def run(self, fn: Callable[..., T], *args: Any, transaction: bool = True) -> T:
        loop = asyncio.get_running_loop()
        ctx = contextvars.copy_context()
        return await loop.run_in_executor(
            self.executor, lambda: ctx.run(self.call, fn, *args, transaction=transaction))

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        close_all = getattr(self.database, "close_all", None)
        if close_all:
            close_all()
        elif not self.database.is_closed():
            self.database.close()
