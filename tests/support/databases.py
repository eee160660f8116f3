"""Test databases: a migrated SQLite file or a fresh MySQL/MariaDB database per service.

MySQL databases are created with a unique name (so several test runs, and benchmarks, can share
one server) and dropped at the end of the session. Between tests every table is emptied.
``MySQLServer`` is that naming, creating and dropping on its own, for tests and benchmarks that
need bare databases.
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlparse

import peewee
import pymysql

from core.db import Store, open_database
from core.migrations import migrate

MYSQL_URL = os.environ.get("TEST_MYSQL_URL", "").strip()


def backends() -> list[str]:
    return ["sqlite", "mysql"] if MYSQL_URL else ["sqlite"]


class MySQLServer:
    """Fresh databases on one MySQL/MariaDB server (``mysql://user:pass@host:port/``), each named
    ``<prefix>_<label>_<random>`` so that runs sharing the server never collide."""

    def __init__(self, server_url: str = MYSQL_URL, prefix: str = "gs_test"):
        self.server_url = server_url.rstrip("/")
        self.prefix = prefix
        self.created: list[str] = []

    def connect(self, database: str | None = None) -> pymysql.connections.Connection:
        """An autocommit connection, to ``database`` or to none (for administration)."""
        parsed = urlparse(self.server_url)
        return pymysql.connect(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 3306,
            user=parsed.username or "root",
            password=parsed.password or "",
            database=database,
            autocommit=True,
        )

    def create(self, label: str) -> str:
        """A new empty database (utf8mb4, as the services expect); its name."""
        name = f"{self.prefix}_{label}_{uuid.uuid4().hex[:10]}"
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        self.created.append(name)
        return name

    def url(self, name: str) -> str:
        return f"{self.server_url}/{name}"

    def drop(self, name: str) -> None:
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        if name in self.created:
            self.created.remove(name)

    def drop_all(self) -> None:
        """Drop every database this object created."""
        for name in list(self.created):
            self.drop(name)


class TestDatabase:
    """One migrated database for one service on one backend (migrated up to ``upto``, when given)."""

    __test__ = False  # a helper, not a test class, when a test module imports it

    def __init__(self, service: str, backend: str, tmp_dir: str, threads: int = 8, upto: str | None = None):
        self.service = service
        self.backend = backend
        if backend == "sqlite":
            self.name = f"gs_test_{service}_{uuid.uuid4().hex[:10]}"
            self.url = f"sqlite:///{os.path.join(tmp_dir, self.name + '.db')}"
        else:
            self._server = MySQLServer()
            self.name = self._server.create(service)
            self.url = self._server.url(self.name)
        self.database: peewee.Database = open_database(self.url, max_connections=threads + 24)
        migrate(self.database, service, upto)
        self.store = Store(self.database, max_workers=threads, name=f"test-{service}")

    def truncate(self) -> None:
        def wipe():
            tables = [t for t in self.database.get_tables() if t != "migratehistory"]
            if self.backend == "mysql":
                self.database.execute_sql("SET FOREIGN_KEY_CHECKS=0")
                for table in tables:
                    self.database.execute_sql(f"TRUNCATE TABLE `{table}`")
                self.database.execute_sql("SET FOREIGN_KEY_CHECKS=1")
            else:
                self.database.execute_sql("PRAGMA foreign_keys=OFF")
                for table in tables:
                    self.database.execute_sql(f'DELETE FROM "{table}"')
                self.database.execute_sql("DELETE FROM sqlite_sequence")
                self.database.execute_sql("PRAGMA foreign_keys=ON")

        self.store.call(wipe, transaction=False)
        if self.service == "pms":
            from pms_app.models import db

            db.initialize(self.database)
            self.store.call(_seed_crm_endpoint)

    def drop(self) -> None:
        self.store.close()
        if self.backend == "mysql":
            self._server.drop(self.name)


def _seed_crm_endpoint() -> None:
    """What the migration does on a fresh database: endpoint 1 from the default configuration
    (a worker started by a test then points it at that test's receiver)."""
    from pms_app.config import PmsSettings
    from pms_app.endpoints import crm

    defaults = PmsSettings()
    crm.seed(defaults.crm_webhook_url, defaults.crm_webhook_secrets)
