"""Fixtures shared by the whole suite: migrated databases per service and backend.

``pms_db`` and ``crm_db`` are parametrised over SQLite and, when ``TEST_MYSQL_URL`` is set,
MySQL/MariaDB; each test starts with empty tables and the service's ``DatabaseProxy`` bound.
"""

from __future__ import annotations

import pytest

from tests.support.databases import TestDatabase, backends


@pytest.fixture(scope="session")
def _databases(tmp_path_factory):
    made: dict[tuple[str, str], TestDatabase] = {}

    def get(service: str, backend: str) -> TestDatabase:
        key = (service, backend)
        if key not in made:
            made[key] = TestDatabase(service, backend, str(tmp_path_factory.mktemp("db")))
        return made[key]

    yield get
    for database in made.values():
        database.drop()


@pytest.fixture(params=backends())
def backend(request) -> str:
    return request.param


@pytest.fixture
def pms_db(_databases, backend):
    from pms_app.models import db

    database = _databases("pms", backend)
    database.truncate()
    db.initialize(database.database)
    yield database
    database.truncate()


@pytest.fixture
def crm_db(_databases, backend):
    from crm_app.models import db

    database = _databases("crm", backend)
    database.truncate()
    db.initialize(database.database)
    yield database
    database.truncate()


@pytest.fixture
def http_server(request, io_loop, _unused_port, app):
    """pytest-tornado's server, but asking for ``app`` statically so database parametrisation applies."""
    from core.server import make_http_server

    server = make_http_server(app)
    server.add_socket(_unused_port[0])
    yield server
    server.stop()
    io_loop.run_sync(server.close_all_connections, timeout=10)
