"""Building a database from its URL: SQLite with WAL and IMMEDIATE transactions, or a pooled,
reconnecting MySQL/MariaDB connection."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

import peewee
from playhouse.pool import PooledMySQLDatabase, PooledSqliteDatabase
from playhouse.shortcuts import ReconnectMixin
from pymysql.constants.SERVER_STATUS import SERVER_STATUS_IN_TRANS

from ..config import REPO_ROOT


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
        (peewee.InterfaceError, ""),  # connection object already closed
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
