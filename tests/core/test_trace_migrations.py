"""The trace columns' migrations: added nullable beside the rows already there, removed on
rollback, and applied again. Every backend."""

from __future__ import annotations

import pytest

from core.migrations import migrate, rollback
from tests.support.databases import TestDatabase

CASES = {
    # service: (the migration before, the one adding the column, table, column, its key, a row to keep)
    "pms": (
        "017_notification",
        "018_outbox_traceparent",
        "outbox_event",
        "traceparent",
        "id",
        "INSERT INTO outbox_event (id, type, entity_id, entity_version, payload, occurred_at, created_at) "
        "VALUES ('e-1', 'guest.updated', 1, 1, '{}', '2026-11-01 10:00:00', '2026-11-01 10:00:00')",
    ),
    "crm": (
        "007_reservation_mirror_sync_index",
        "008_event_trace_id",
        "event",
        "trace_id",
        "webhook_id",
        "INSERT INTO event (webhook_id, type, status, received_at) "
        "VALUES ('e-1', 'guest.updated', 'processed', '2026-11-01 10:00:00')",
    ),
}


@pytest.fixture(params=sorted(CASES))
def case(request, backend, tmp_path):
    before, *rest = CASES[request.param]
    database = TestDatabase(request.param, backend, str(tmp_path), threads=1, upto=before)
    yield request.param, database.database, *rest
    database.drop()


def test_the_trace_column_comes_and_goes(case):
    service, database, added, table, column, key, row = case
    with database.connection_context():
        database.execute_sql(row)
        assert migrate(database, service, added) == [added]
        assert column in {c.name for c in database.get_columns(table)}
        kept = database.execute_sql(f"SELECT {key} FROM {table} WHERE {column} IS NULL").fetchall()
        assert [tuple(r) for r in kept] == [("e-1",)]
        rollback(database, service)
        assert column not in {c.name for c in database.get_columns(table)}
        assert migrate(database, service, added) == [added]
